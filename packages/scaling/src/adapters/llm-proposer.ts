/**
 * @file The LLM adapter: a step-wise `Proposer` over any `CausalLM` of @hasten/models, sampling with
 * @hasten/decoding's logits processors and float64 categorical draw, its KV in @hasten/kv's paged
 * cache. Reasoning steps as in search-and-learn (HF, `beam_search.py` / `best_of_n.py`; Snell et al.
 * arXiv 2408.03314): a step is the tokens up to and including a delimiter ("\n\n" there, "\n" by
 * default here), a stop token (EOS), or a per-step cap. Prefix sharing as in vLLM's PagedAttention
 * (Kwon et al. arXiv 2309.06180): copies of a state share their blocks and copy a block on first write.
 *
 * A state is an immutable value (tokens, per-step texts, per-token log-probabilities, finish reason);
 * what it holds outside (its KV cache and the next-token logits) lives in a private WeakMap, so a
 * trace stays a plain serialisable object. The KV protocol:
 *  - the prompt is prefilled once (lazily, by the first `initial()`); every `initial()` state holds a
 *    copy-on-write fork of that cache, so N samples or particles cost one prompt of blocks;
 *  - `propose(s)` takes over s's cache (a move: s keeps its tokens and logits but no cache) and
 *    extends it by one step. A strategy that proposes twice from the same state without `fork`ing it
 *    gets correct results: the second call rebuilds the cache from the prefix cache (`matchPrefix`,
 *    whole blocks) and prefills the rest;
 *  - `fork(s)` (called by resampling / beam duplication) makes a state with a copy-on-write fork of
 *    s's cache; `release(s)` disposes its cache; a state that finishes (stop token, maxNewTokens)
 *    frees its cache at once (nothing proposes from a final state).
 * The pool's accounting (`memoryReport()`) compares the blocks in use with what the same sequences
 * would take without sharing, now and at the peak. The strategy API has no hook to put it in the
 * trace, so it is read from the adapter.
 *
 * Sampling: token = argmax (greedy) or `sampleToken` (inverse-CDF draw) on the processed logits, from
 * the generator the run hands each proposer call (ctx.rng), so a run's seed reproduces its tokens.
 * Greedy with the default (empty) processor chain emits exactly `generate()`'s greedy tokens: the same
 * prefill (whole prompt, logits of the last position), then one forward per token.
 */
import type { Philox } from '@hasten/core-tensor';
import { tensor } from '@hasten/core-tensor';
import {
  argmax,
  type LogitsProcessor,
  logSoftmax,
  processorShape,
  processorsFromOptions,
  SAMPLING_OPTIONS,
  sampleToken,
} from '@hasten/decoding';
import { type PagedKVCache, PagedKVPool } from '@hasten/kv';
import type { CausalLM } from '@hasten/models';
import { z } from 'zod';
import { ScalingError } from '../errors';
import { fn, parseOptions } from '../options';
import type { ProposeContext, Proposer } from '../proposer';

const WHERE = 'llmProposer';

/** One value of a generation: the prompt and the steps generated after it. */
export interface LlmState {
  /** Prompt followed by the generated tokens (a stop token that ended it included). */
  readonly tokens: readonly number[];
  readonly promptLength: number;
  /** Decoded text of each step (a step's delimiter included). */
  readonly steps: readonly string[];
  /** log p(token) under the model's raw distribution, per generated token. */
  readonly logProbs: readonly number[];
  /** Why the generation ended: a stop token, or maxNewTokens; null while it goes on. */
  readonly finishReason: 'stop' | 'length' | null;
}

/**
 * The pool's memory, what sharing saved, now and at the peak (bytes of whole blocks). Pool-wide: when
 * the pool is shared with other users (option `pool`), their caches count too.
 */
export interface KvMemoryReport {
  bytesPerBlock: number;
  /** Live caches: the prompt's cache and every state that still holds one. */
  sequences: number;
  /** Blocks referenced now; blocks referenced more than once. */
  usedBlocks: number;
  sharedBlocks: number;
  /** Blocks the same sequences would take with a cache each (sum of their block-table lengths). */
  unsharedBlocks: number;
  usedBytes: number;
  unsharedBytes: number;
  /** unsharedBytes − usedBytes. */
  savedBytes: number;
  /** The largest usedBytes seen after a prefill, a fork or a step, and unsharedBytes at that moment. */
  peakUsedBytes: number;
  peakUnsharedBytes: number;
  /** Blocks copied because a state wrote into a shared block. */
  copyOnWriteCopies: number;
  /** Prompt positions served by the prefix cache when a moved-from state was proposed again. */
  prefixHitTokens: number;
}

const TokenId = z.number().int().nonnegative();
const isModel = (m: unknown): m is CausalLM =>
  typeof m === 'object' && m !== null && typeof (m as CausalLM).forward === 'function' && 'config' in m;

// The decoding package's processor options, less contrastive decoding (its amateur model keeps one
// cache per batch row, which a forked state could not share).
const { contrastive: _contrastive, ...samplingShape } = processorShape;

export const LlmProposerOptions = z.strictObject({
  model: z.custom<CausalLM>(isModel, 'expected a CausalLM (from @hasten/models)'),
  /** Prompt token ids (the fixture models are byte-level: bytes 0–255, <bos> 256, <eos> 257). */
  prompt: z.array(TokenId).min(1),
  /** What ends a step: a string the step's decoded text ends with, or token ids. Default "\n". */
  stepDelimiter: z.union([z.string().min(1), z.array(TokenId).min(1)]).default('\n'),
  /** Tokens that end the generation (default: the config's eosTokenId). */
  stopTokens: z.array(TokenId).optional(),
  /** Most tokens one step may take. */
  maxStepTokens: z.number().int().positive().default(64),
  /** Most tokens a whole generation may take. */
  maxNewTokens: z.number().int().positive().default(256),
  /** Sample (default) or take the argmax. */
  doSample: z.boolean().default(true),
  ...samplingShape,
  /** Token ids → text (default: byte-level, ids ≥ 256 skipped). */
  decode: fn<(ids: readonly number[]) => string>('a function (ids) => string').optional(),
  /** The final answer of a finished state (default: its last step's text, delimiter and spaces trimmed). */
  answer: fn<(state: LlmState) => string>('a function (state) => string').optional(),
  /** A pool shaped for the model to draw from (default: a new one of numBlocks × blockSize). */
  pool: z.instanceof(PagedKVPool).optional(),
  numBlocks: z.number().int().positive().default(512),
  blockSize: z.number().int().positive().default(16),
  /** Prefix-cache salt of the caches (a tenant id). */
  salt: z.string().min(1).optional(),
});
export type LlmProposerOptions = z.input<typeof LlmProposerOptions>;

/** Byte-level detokenisation (UTF-8 over ids 0–255; special ids dropped). */
export function decodeBytes(ids: readonly number[]): string {
  return new TextDecoder().decode(Uint8Array.from(ids.filter((t) => t < 256)));
}

interface Slot {
  cache: PagedKVCache | null;
  /** Raw next-token logits after the state's last token. */
  logits: Float32Array;
}

/** The LLM proposer; `memoryReport()` and `dispose()` on top of the Proposer contract. */
export interface LlmProposer extends Proposer<LlmState> {
  readonly pool: PagedKVPool;
  /** The generated text of a state (steps joined). */
  text(state: LlmState): string;
  memoryReport(): KvMemoryReport;
  /** Frees every cache this proposer made (the pool too, when it made it). */
  dispose(): void;
}

export function llmProposer(options: LlmProposerOptions): LlmProposer {
  const o = parseOptions(LlmProposerOptions, options, WHERE);
  const model = o.model;
  const { vocabSize: V, contextLength, eosTokenId } = model.config;
  if (!o.doSample) {
    const given = SAMPLING_OPTIONS.filter((k) => o[k] !== undefined);
    if (given.length)
      throw new ScalingError(
        'options',
        `${WHERE}: option${given.length > 1 ? 's' : ''} ${given.map((k) => `'${k}'`).join(', ')} only apply when sampling; set doSample: true`,
      );
  }
  for (const p of o.processors ?? []) {
    if (p.step || p.reorder)
      throw new ScalingError(
        'options',
        `${WHERE}: option 'processors': processor '${p.name}' runs a model of its own (step/reorder), which forked states cannot share; use stateless processors`,
      );
  }
  const bad = [...o.prompt, ...(o.stopTokens ?? [])].find((t) => t >= V);
  if (bad !== undefined)
    throw new ScalingError('options', `${WHERE}: token id ${bad} is outside the vocabulary [0, ${V})`);
  if (o.prompt.length + o.maxNewTokens > contextLength)
    throw new ScalingError(
      'options',
      `${WHERE}: prompt (${o.prompt.length} tokens) + maxNewTokens (${o.maxNewTokens}) exceeds the model's context length ${contextLength}`,
    );
  const stopTokens = new Set(
    o.stopTokens ?? (eosTokenId === undefined ? [] : Array.isArray(eosTokenId) ? eosTokenId : [eosTokenId]),
  );
  const picked: Record<string, unknown> = { stopTokens: [...stopTokens] };
  for (const key of Object.keys(samplingShape)) {
    const v = (o as Record<string, unknown>)[key];
    if (v !== undefined) picked[key] = v;
  }
  const chain: LogitsProcessor[] = processorsFromOptions(picked);
  const decode = o.decode ?? decodeBytes;
  const delimiterTokens = typeof o.stepDelimiter === 'string' ? null : new Set(o.stepDelimiter);
  const delimiterText = typeof o.stepDelimiter === 'string' ? o.stepDelimiter : null;
  const ownPool = o.pool === undefined;
  const pool =
    o.pool ?? PagedKVPool.forModel(model.config, { numBlocks: o.numBlocks, blockSize: o.blockSize });
  const cfg = model.config;
  if (pool.numLayers !== cfg.numLayers || pool.numKvHeads !== cfg.numKvHeads || pool.headDim !== cfg.headDim)
    throw new ScalingError(
      'options',
      `${WHERE}: option 'pool' holds ${pool.numLayers} layers × ${pool.numKvHeads} KV heads × ${pool.headDim}, the model needs ${cfg.numLayers} × ${cfg.numKvHeads} × ${cfg.headDim} (PagedKVPool.forModel(model.config, ...))`,
    );
  const cacheOptions = o.salt === undefined ? {} : { salt: o.salt };

  const slots = new WeakMap<LlmState, Slot>();
  const caches = new Set<PagedKVCache>();
  let root: Promise<{ cache: PagedKVCache; logits: Float32Array }> | null = null;
  let peak = { used: 0, unshared: 0 };
  let prefixHits = 0;

  const track = () => {
    const s = pool.stats();
    if (s.usedBytes > peak.used) peak = { used: s.usedBytes, unshared: s.unsharedBytes };
  };
  const newCache = () => {
    const c = pool.createCache(cacheOptions);
    caches.add(c);
    return c;
  };
  const drop = (c: PagedKVCache | null) => {
    if (!c) return;
    caches.delete(c);
    c.dispose();
  };
  const forkCache = (c: PagedKVCache | null) => {
    if (!c) return null;
    const f = c.fork();
    caches.add(f);
    return f;
  };

  /** Forward `ids` into `cache` (recorded for prefix caching); the raw logits of the last position. */
  async function feed(cache: PagedKVCache, ids: readonly number[]): Promise<Float32Array> {
    const t = tensor(Int32Array.from(ids), [1, ids.length], { dtype: 'i32' });
    let logits: Float32Array;
    try {
      const out = await model.forward({ tokens: t, cache, logitsToKeep: 1 });
      logits = Float32Array.from((await out.logits.data()) as ArrayLike<number>);
      out.logits.dispose();
      out.hiddenStates?.dispose();
    } finally {
      t.dispose();
    }
    cache.recordTokens(ids);
    if (logits.length !== V)
      throw new ScalingError('input', `${WHERE}: the model returned ${logits.length} logits, expected ${V}`);
    return logits;
  }

  function prompt() {
    root ??= (async () => {
      const cache = newCache();
      try {
        const logits = await feed(cache, o.prompt);
        track();
        return { cache, logits };
      } catch (e) {
        drop(cache);
        root = null; // a later initial() tries again
        throw e;
      }
    })();
    return root;
  }

  /** A cache holding `tokens`, from the prefix cache where it can (a moved-from state proposed again). */
  async function rebuild(tokens: readonly number[]): Promise<PagedKVCache> {
    const cache = newCache();
    try {
      const hit = cache.matchPrefix(tokens);
      prefixHits += hit;
      await feed(cache, tokens.slice(hit));
    } catch (e) {
      drop(cache);
      throw e;
    }
    return cache;
  }

  function make(fields: Omit<LlmState, never>, slot: Slot): LlmState {
    const s = Object.freeze({ ...fields });
    slots.set(s, slot);
    return s;
  }

  const slotOf = (s: LlmState, op: string): Slot => {
    const slot = slots.get(s);
    if (!slot) throw new ScalingError('input', `${WHERE}.${op}: the state was not made by this proposer`);
    return slot;
  };

  const defaultAnswer = (s: LlmState) => {
    let last = s.steps.length ? s.steps[s.steps.length - 1] : '';
    if (delimiterText !== null && last.endsWith(delimiterText)) last = last.slice(0, -delimiterText.length);
    return last.trim();
  };

  return {
    pool,
    async initial() {
      const r = await prompt();
      const state = make(
        { tokens: o.prompt, promptLength: o.prompt.length, steps: [], logProbs: [], finishReason: null },
        { cache: forkCache(r.cache), logits: r.logits },
      );
      track();
      return state;
    },

    async propose(state: LlmState, ctx: ProposeContext) {
      const slot = slotOf(state, 'propose');
      if (state.finishReason !== null)
        throw new ScalingError('input', `${WHERE}.propose: the state is finished (${state.finishReason})`);
      let cache = slot.cache;
      slot.cache = null; // moved: the new state owns it
      try {
        cache ??= await rebuild(state.tokens);
        return await step(state, slot.logits, cache, ctx.rng, ctx.signal);
      } catch (e) {
        drop(cache);
        throw e;
      }
    },

    done: (s) => s.finishReason !== null,
    answer: (s) => (o.answer ?? defaultAnswer)(s),
    cost: (from, to) => to.tokens.length - from.tokens.length,

    fork(state) {
      const slot = slotOf(state, 'fork');
      const copy = make({ ...state }, { cache: forkCache(slot.cache), logits: slot.logits });
      track();
      return copy;
    },

    release(state) {
      const slot = slots.get(state);
      if (!slot) return;
      drop(slot.cache);
      slot.cache = null;
    },

    text: (s) => s.steps.join(''),

    memoryReport() {
      const s = pool.stats();
      const per = s.bytesPerBlock;
      return {
        bytesPerBlock: per,
        sequences: s.sequences,
        usedBlocks: s.usedBlocks,
        sharedBlocks: s.sharedBlocks,
        unsharedBlocks: Math.round(s.unsharedBytes / per),
        usedBytes: s.usedBytes,
        unsharedBytes: s.unsharedBytes,
        savedBytes: s.unsharedBytes - s.usedBytes,
        peakUsedBytes: Math.max(peak.used, s.usedBytes),
        peakUnsharedBytes: s.usedBytes > peak.used ? s.unsharedBytes : peak.unshared,
        copyOnWriteCopies: s.copyOnWriteCopies,
        prefixHitTokens: prefixHits,
      };
    },

    dispose() {
      for (const c of [...caches]) drop(c);
      root = null;
      if (ownPool) pool.dispose();
    },
  };

  /** Generate one step after `state` into `cache` (which holds all of state.tokens). */
  async function step(
    state: LlmState,
    startLogits: Float32Array,
    cache: PagedKVCache,
    gen: Philox,
    signal: AbortSignal | undefined,
  ): Promise<LlmState> {
    const tokens = [...state.tokens];
    const logProbs = [...state.logProbs];
    const stepStart = tokens.length;
    let logits = startLogits;
    let finishReason: LlmState['finishReason'] = null;
    while (true) {
      if (signal?.aborted) throw signal.reason ?? new DOMException('aborted', 'AbortError');
      const x = Float32Array.from(logits);
      for (const p of chain) p.process(x, { tokens, promptLength: state.promptLength, row: 0 });
      const token = o.doSample ? sampleToken(x, gen, WHERE) : argmax(x, WHERE);
      logProbs.push(logSoftmax(logits, WHERE)[token]);
      tokens.push(token);
      const generated = tokens.length - state.promptLength;
      const inStep = tokens.length - stepStart;
      if (stopTokens.has(token)) finishReason = 'stop';
      else if (generated >= o.maxNewTokens) finishReason = 'length';
      const delimited = delimiterTokens
        ? delimiterTokens.has(token)
        : decode(tokens.slice(stepStart)).endsWith(delimiterText as string);
      if (finishReason !== null) break;
      logits = await feed(cache, [token]);
      if (delimited || inStep >= o.maxStepTokens) break;
    }
    const fields: LlmState = {
      tokens,
      promptLength: state.promptLength,
      steps: [...state.steps, decode(tokens.slice(stepStart))],
      logProbs,
      finishReason,
    };
    track();
    if (finishReason !== null) {
      drop(cache); // nothing proposes from a final state
      return make(fields, { cache: null, logits });
    }
    return make(fields, { cache, logits });
  }
}

/** exp(mean log p) of a state's generated tokens, in (0, 1]: a simple process score (1 before any token). */
export function meanTokenProbability(state: LlmState): number {
  const n = state.logProbs.length;
  if (n === 0) return 1;
  let s = 0;
  for (const l of state.logProbs) s += l;
  return Math.exp(s / n);
}
