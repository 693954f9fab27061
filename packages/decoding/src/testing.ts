/**
 * @file Test helpers (Node only, not exported): a synthetic CausalLM with a known next-token
 * distribution, the byte tokenizer of the fixtures, held-out code prompts, and a chi-square
 * goodness-of-fit test with bins merged to expected counts >= 5.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Tensor, tensor } from '@hasten/core-tensor';
import { ContiguousKVCache, type KVCache } from '@hasten/kv';
import {
  attentionMask,
  ByteTokenizer,
  type CausalLM,
  type CreateCacheOptions,
  type ForwardInput,
  type ForwardOutput,
  finishStep,
  type ModelConfig,
  prepareStep,
  releaseStep,
} from '@hasten/models';
// core-tensor's goodness-of-fit helpers (its RNG tests use them; test-only, not exported).
import { chiSquareTest } from '../../core-tensor/src/rng/testing/stats';

export const FIXTURES = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../fixtures');

/** The fixtures' byte tokenizer: bytes 0..255, <bos> 256, <eos> 257, <pad> 258, <mask> 259. */
export function byteTokenizer(): ByteTokenizer {
  return new ByteTokenizer({
    vocabSize: 260,
    specialTokens: { '<bos>': 256, '<eos>': 257, '<pad>': 258, '<mask>': 259 },
    bos: '<bos>',
    eos: '<eos>',
    pad: '<pad>',
  });
}

/**
 * `count` prompts of held-out CPython source (files the fixtures were not trained on): BOS followed by
 * `minLen + (i * 13) % spread` bytes starting at a line start, cycling through the held-out files.
 */
export function heldoutPrompts(count: number, minLen = 24, spread = 40): number[][] {
  const dir = join(FIXTURES, 'corpus/heldout');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.py'))
    .sort()
    .map((f) => readFileSync(join(dir, f)));
  const out: number[][] = [];
  for (let i = 0; i < count; i++) {
    const bytes = files[i % files.length];
    const len = minLen + ((i * 13) % spread);
    // The (i / files)-th line start after 1/4 of the file, so prompts of one file differ.
    let at = Math.floor(bytes.length / 4) + Math.floor(i / files.length) * 997;
    while (at < bytes.length && bytes[at - 1] !== 0x0a) at++;
    out.push([256, ...bytes.subarray(at, at + len)]);
  }
  return out;
}

/**
 * A CausalLM whose next-token logits are `next(context)`, a function of the row's tokens so far.
 * It keeps each token id in its KV cache (1 layer, 1 head, head dim 1), so the context comes from the
 * cache and padding, truncation, forks and re-picked rows behave as with a real model; with an
 * attention mask (a token tree) a row's context is the tokens its mask row allows, in slot order.
 */
export class SyntheticLM implements CausalLM {
  readonly config: ModelConfig;
  readonly device = 'cpu';
  forwards = 0;
  /** [batch, seq] of every forward, in order. */
  readonly shapes: number[][] = [];

  constructor(
    vocabSize: number,
    private readonly next: (context: readonly number[]) => ArrayLike<number>,
    extra: Partial<ModelConfig> = {},
  ) {
    this.config = {
      modelType: 'synthetic',
      vocabSize,
      hiddenSize: 1,
      numLayers: 1,
      numHeads: 1,
      numKvHeads: 1,
      headDim: 1,
      contextLength: 4096,
      ...extra,
    };
  }

  createCache(opts: CreateCacheOptions = {}): KVCache {
    return new ContiguousKVCache({
      numLayers: 1,
      batch: opts.batch ?? 1,
      numKvHeads: 1,
      headDim: 1,
      maxLength: opts.maxLength ?? this.config.contextLength,
      ...(opts.capacity !== undefined ? { capacity: opts.capacity } : {}),
    });
  }

  async forward(input: ForwardInput): Promise<ForwardOutput> {
    const st = await prepareStep(this.config, input, this.config.contextLength, this.device);
    const { batch: B, length: S, past: P } = st;
    const owned: Tensor[] = [];
    try {
      let history: Float32Array;
      const ids = Float32Array.from((await st.tokens.data()) as Int32Array);
      if (st.cache) {
        const kv = tensor(ids, [B, 1, S, 1]);
        owned.push(kv);
        st.cache.append(0, kv, kv);
        const keys = st.cache.keys(0);
        owned.push(keys);
        history = (await keys.data()) as Float32Array;
      } else {
        history = ids;
      }
      const T = P + S;
      const keep = st.logitsToKeep;
      const V = this.config.vocabSize;
      const out = new Float32Array(B * keep * V);
      // A tree (or padded) forward: each row's context is what its mask lets it see, in slot order.
      const maskT = await attentionMask(st, this.device);
      const mask = maskT ? await maskT.data() : null;
      const perRow = maskT ? maskT.shape[0] !== 1 : false;
      for (let b = 0; b < B; b++) {
        const pad = st.padding?.[b] ?? 0;
        for (let s = S - keep; s < S; s++) {
          let ctx: number[];
          if (mask) {
            const row = ((perRow ? b : 0) * S + s) * T;
            ctx = [];
            for (let j = 0; j < T; j++) if (mask[row + j]) ctx.push(history[b * T + j]);
          } else {
            ctx = Array.from(history.subarray(b * T + pad, b * T + P + s + 1));
          }
          out.set(this.next(ctx), (b * keep + s - (S - keep)) * V);
        }
      }
      finishStep(st);
      this.forwards++;
      this.shapes.push([B, S]);
      return { logits: tensor(out, [B, keep, V]) };
    } catch (e) {
      st.cache?.rollback();
      throw e;
    } finally {
      for (const t of owned) t.dispose();
      releaseStep(st);
    }
  }

  lmHead(): Promise<Tensor> {
    throw new Error('SyntheticLM has no LM head');
  }

  embed(): Promise<Tensor> {
    throw new Error('SyntheticLM has no embedding');
  }

  dispose(): void {}
}

/** Token counts of `samples` over a vocabulary of `V`. */
export function histogram(samples: Iterable<number>, V: number): number[] {
  const counts = new Array(V).fill(0);
  for (const s of samples) counts[s]++;
  return counts;
}

/** softmax in f64 (a test's own, independent of the package's). */
export function softmaxRef(logits: readonly number[]): number[] {
  const m = Math.max(...logits);
  const e = logits.map((x) => (x === Number.NEGATIVE_INFINITY ? 0 : Math.exp(x - m)));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / z);
}

/**
 * Pearson's chi-square test of `counts` against probabilities `probs`. Tokens of probability 0 must
 * have count 0 (checked exactly, returned as `impossible`); bins with an expected count below 5 are
 * merged (in increasing id order) so the chi-square approximation holds.
 */
export function chiSquare(
  counts: readonly number[],
  probs: readonly number[],
): { p: number; df: number; stat: number; impossible: number } {
  const n = counts.reduce((a, b) => a + b, 0);
  let impossible = 0;
  const obs: number[] = [];
  const exp: number[] = [];
  let accO = 0;
  let accE = 0;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] === 0) {
      impossible += counts[i];
      continue;
    }
    accO += counts[i];
    accE += probs[i] * n;
    if (accE >= 5) {
      obs.push(accO);
      exp.push(accE);
      accO = accE = 0;
    }
  }
  if (accE > 0) {
    if (exp.length) {
      obs[obs.length - 1] += accO;
      exp[exp.length - 1] += accE;
    } else {
      obs.push(accO);
      exp.push(accE);
    }
  }
  return { ...chiSquareTest(obs, exp), impossible };
}
