/**
 * @file OrtCausalLM: the CausalLM contract over onnxruntime-node, for decoder graphs with
 * past-key-value inputs (`past_key_values.{i}.key/value`) and outputs (`present.{i}.key/value`).
 * Two input layouts are detected from the session's inputs:
 * - 'additive-4d' (our export, tools/fixtures/export.py): attention_mask float32 [B, 1, S, P + S],
 *   0 = attend, a large negative number = masked. Tree masks work.
 * - 'optimum-2d' (Hugging Face Optimum / transformers.js exports of real models): attention_mask
 *   int64 [B, P + S] of ones; the graph builds the causal mask itself, so tree masks are rejected.
 *
 * The KV cache is a ContiguousKVCache that adopts each step's `present.*` outputs without a copy
 * (the graph already concatenated past and new keys), so a decode step moves no cache bytes in JS;
 * after a truncation the shortened past is copied once into a dense buffer.
 */

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  CpuBackend,
  cpuStorage,
  embedding,
  getBackend,
  keep,
  linear,
  type SafetensorsReader,
  Storage,
  Tensor,
} from '@hasten/core-tensor';
import type { KVCache } from '@hasten/kv';
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import {
  type CausalLM,
  type CreateCacheOptions,
  contiguousCacheFor,
  type ForwardInput,
  type ForwardOutput,
  type ForwardStep,
  finishStep,
  forwardChunked,
  prepareStep,
  releaseStep,
} from '../causal-lm';
import { type LlamaConfig, parseConfig } from '../config';
import { ModelError } from '../errors';
import { readJsonFile } from '../files';
import { openWeights } from '../load';
import { parseOptions } from '../options';

export type OrtLayout = 'additive-4d' | 'optimum-2d';

const OrtLoadOptions = z.strictObject({
  /** onnxruntime intra-op threads (default: onnxruntime's choice). */
  intraOpNumThreads: z.number().int().positive().optional(),
  /** Path of the .onnx file, relative to the folder (default: onnx/model.onnx, then model.onnx). */
  modelFile: z.string().min(1).optional(),
  /** onnxruntime graph optimizations (default 'all'). */
  graphOptimizationLevel: z.enum(['disabled', 'basic', 'extended', 'all']).optional(),
});
export type OrtLoadOptions = z.input<typeof OrtLoadOptions>;

/** Added to masked attention scores: float32's lowest value, as the exporter uses. */
export const MASK_MIN = -3.4028234663852886e38;

/** A CPU core-tensor over the same memory as an onnxruntime float32 output (no copy). */
function wrapF32(data: Float32Array, dims: readonly number[]): Tensor {
  if (data.byteOffset % 4 !== 0) return new Tensor(wrapStorage(data.slice()), dims, 'f32');
  return new Tensor(wrapStorage(data), dims, 'f32', undefined, data.byteOffset / 4);
}

function wrapStorage(data: Float32Array): Storage {
  const buf = data.buffer as ArrayBuffer;
  return new Storage(getBackend('cpu'), buf, buf.byteLength);
}

/** A dense float32 array for a CPU tensor: a subarray of its storage when contiguous, else a copy. */
function denseF32(t: Tensor): Float32Array {
  if (t.dtype !== 'f32' || !(t.backend instanceof CpuBackend)) {
    throw new ModelError(
      'input',
      `OrtCausalLM: cache tensors must be f32 on a CPU backend, got ${t.dtype} on ${t.device}`,
    );
  }
  const s = cpuStorage(t) as Float32Array;
  if (t.isContiguous()) return s.subarray(t.offset, t.offset + t.size);
  // [B, KV, T, D] view with unit-stride rows (a truncated cache): copy row blocks.
  const [B, H, T, D] = t.shape;
  const [sb, sh, st] = t.strides;
  const out = new Float32Array(t.size);
  let o = 0;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const base = t.offset + b * sb + h * sh;
      if (st === D) {
        out.set(s.subarray(base, base + T * D), o);
        o += T * D;
      } else {
        for (let p = 0; p < T; p++, o += D) out.set(s.subarray(base + p * st, base + p * st + D), o);
      }
    }
  }
  return out;
}

export class OrtCausalLM implements CausalLM {
  readonly device = 'onnxruntime-node (cpu)';
  private readonly hasPositions: boolean;
  private readonly hasHidden: boolean;
  private readonly hasCacheBranch: boolean;
  /** Name of the graph's logits-to-keep input (newer Optimum / transformers.js exports), if any. */
  private readonly keepInput?: string;
  private disposed = false;
  /** Folder whose safetensors hold the embedding and LM head (lmHead/embed read them lazily). */
  private weightsDir: string | null = null;
  private headWeights: Promise<{ embed: Tensor; lmHead: Tensor }> | null = null;

  private constructor(
    readonly config: LlamaConfig,
    readonly session: ort.InferenceSession,
    readonly layout: OrtLayout,
  ) {
    this.hasPositions = session.inputNames.includes('position_ids');
    this.hasHidden = session.outputNames.includes('hidden_states');
    this.hasCacheBranch = session.inputNames.includes('use_cache_branch');
    this.keepInput = ['num_logits_to_keep', 'logits_to_keep'].find((n) => session.inputNames.includes(n));
  }

  /**
   * Load from a folder holding config.json and onnx/model.onnx (or model.onnx); for our fixtures'
   * `onnx/` subfolder the config.json one level up is used.
   */
  static async load(dir: string, options: OrtLoadOptions = {}): Promise<OrtCausalLM> {
    const opts = parseOptions(OrtLoadOptions, options, 'OrtCausalLM.load');
    const candidates = opts.modelFile ? [opts.modelFile] : ['onnx/model.onnx', 'model.onnx'];
    const file = candidates.map((f) => join(dir, f)).find((p) => existsSync(p));
    if (!file)
      throw new ModelError('file', `${dir}: no ONNX model found (looked for ${candidates.join(', ')})`);
    const cfgPath = [
      join(dir, 'config.json'),
      join(dirname(file), 'config.json'),
      join(dirname(file), '..', 'config.json'),
    ].find((p) => existsSync(p));
    const config = parseConfig(readJsonFile(cfgPath ?? join(dir, 'config.json'), 'model configuration'));
    let session: ort.InferenceSession;
    try {
      // onnxruntime-node rejects `intraOpNumThreads: undefined`: only pass what was given.
      session = await ort.InferenceSession.create(file, {
        ...(opts.intraOpNumThreads === undefined ? {} : { intraOpNumThreads: opts.intraOpNumThreads }),
        interOpNumThreads: 1,
        graphOptimizationLevel: opts.graphOptimizationLevel ?? 'all',
      });
    } catch (e) {
      throw new ModelError('file', `${file}: onnxruntime could not load it: ${(e as Error).message}`);
    }
    const model = new OrtCausalLM(config, session, OrtCausalLM.checkSession(config, session, file));
    // The checkpoint sits beside config.json, or one level up (an `onnx-optimum/` subfolder).
    const base = cfgPath ? dirname(cfgPath) : dir;
    model.weightsDir =
      [base, join(base, '..')].find(
        (d) =>
          existsSync(join(d, 'model.safetensors')) || existsSync(join(d, 'model.safetensors.index.json')),
      ) ?? base;
    return model;
  }

  /** Checks the graph's inputs/outputs against config.json and detects the mask layout. */
  private static checkSession(config: LlamaConfig, session: ort.InferenceSession, file: string): OrtLayout {
    const inputs = new Map(session.inputMetadata.map((m) => [m.name, m]));
    const need = ['input_ids', 'attention_mask', 'past_key_values.0.key'];
    const miss = need.filter((n) => !inputs.has(n));
    if (miss.length || !session.outputNames.includes('logits')) {
      throw new ModelError(
        'file',
        `${file}: not a decoder with past key values (missing ${[...miss, 'logits'].join(', ')}; inputs: ${session.inputNames.join(', ')})`,
      );
    }
    const layers = session.inputNames.filter((n) => /^past_key_values\.\d+\.key$/.test(n)).length;
    if (layers !== config.numLayers) {
      throw new ModelError(
        'weights',
        `${file}: graph has ${layers} past_key_values layers but config.json has num_hidden_layers ${config.numLayers}`,
      );
    }
    const past = inputs.get('past_key_values.0.key')!;
    if (past.isTensor && past.type !== 'float32') {
      throw new ModelError(
        'dtype',
        `${file}: past key/value inputs are ${past.type}; only float32 KV graphs are supported`,
      );
    }
    if (past.isTensor) {
      const [, kv, , d] = past.shape;
      if (
        (typeof kv === 'number' && kv !== config.numKvHeads) ||
        (typeof d === 'number' && d !== config.headDim)
      ) {
        throw new ModelError(
          'weights',
          `${file}: past_key_values shape [${past.shape.join(', ')}] does not match config.json (num_key_value_heads ${config.numKvHeads}, head_dim ${config.headDim})`,
        );
      }
    }
    const mask = inputs.get('attention_mask')!;
    const rank = mask.isTensor ? mask.shape.length : 0;
    if (rank === 4) return 'additive-4d';
    if (rank === 2) return 'optimum-2d';
    throw new ModelError(
      'file',
      `${file}: attention_mask has rank ${rank}; expected 4 (additive) or 2 (Optimum)`,
    );
  }

  createCache(opts: CreateCacheOptions = {}): KVCache {
    // capacity 0: the cache adopts onnxruntime's present tensors instead of preallocating.
    if (opts.capacity !== undefined && opts.capacity !== 0) {
      throw new ModelError(
        'options',
        `createCache: option 'capacity' cannot be set for ONNX Runtime (the cache adopts the graph's present tensors), got ${opts.capacity}`,
      );
    }
    return contiguousCacheFor(this.config, { ...opts, capacity: 0 }, { capacity: 0 });
  }

  forward(input: ForwardInput): Promise<ForwardOutput> {
    if (this.disposed) throw new Error('OrtCausalLM.forward: the model was disposed');
    return forwardChunked(input, (chunk) => this.step(chunk));
  }

  /**
   * The LM head outside the graph, for Medusa heads and tied drafts. The graph's initializers are
   * not reachable through onnxruntime, so the weights come from the safetensors checkpoint next to
   * config.json (read on first use: only the embedding and the head).
   */
  async lmHead(hidden: Tensor): Promise<Tensor> {
    const { lmHead } = await this.loadHeadWeights('lmHead');
    if (hidden.dtype !== 'f32' || hidden.shape[hidden.rank - 1] !== this.config.hiddenSize) {
      throw new ModelError(
        'input',
        `lmHead: hidden states must be f32 [..., ${this.config.hiddenSize}], got ${hidden.dtype} [${hidden.shape.join(', ')}]`,
      );
    }
    const h = hidden.device === 'cpu' ? hidden : await hidden.to('cpu');
    const out = linear(h, lmHead);
    if (h !== hidden) h.dispose();
    return out;
  }

  /** The token embedding, from the same checkpoint as lmHead. */
  async embed(tokens: Tensor): Promise<Tensor> {
    const { embed } = await this.loadHeadWeights('embed');
    if (tokens.dtype !== 'i32') throw new ModelError('input', `tokens must be i32, got ${tokens.dtype}`);
    const t = tokens.device === 'cpu' ? tokens : await tokens.to('cpu');
    const out = embedding(embed, t);
    if (t !== tokens) t.dispose();
    return out;
  }

  private loadHeadWeights(what: string): Promise<{ embed: Tensor; lmHead: Tensor }> {
    if (this.disposed) throw new Error(`OrtCausalLM.${what}: the model was disposed`);
    const dir = this.weightsDir;
    if (!dir) {
      throw new ModelError('file', `OrtCausalLM.${what}: no checkpoint folder is known for this model`);
    }
    this.headWeights ??= (async () => {
      let reader: SafetensorsReader;
      try {
        reader = await openWeights(dir);
      } catch (e) {
        throw new ModelError(
          'file',
          `OrtCausalLM.${what} reads the embedding and LM head from the safetensors checkpoint beside config.json: ${(e as Error).message}`,
        );
      }
      try {
        const load = async (name: string) => keep(await reader.tensor(name, { dtype: 'f32', device: 'cpu' }));
        const embed = await load('model.embed_tokens.weight');
        const lmHead = this.config.tieWordEmbeddings ? embed : await load('lm_head.weight');
        return { embed, lmHead };
      } finally {
        await reader.close();
      }
    })();
    this.headWeights.catch(() => {
      this.headWeights = null; // a failed read can be retried (e.g. after the file appears)
    });
    return this.headWeights;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    void this.session.release();
    void this.headWeights?.then((w) => {
      w.embed.dispose();
      w.lmHead.dispose();
    });
  }

  private async step(input: ForwardInput): Promise<ForwardOutput> {
    const c = this.config;
    const st = await prepareStep(c, input, c.contextLength, 'cpu');
    try {
      const { batch: B, length: S, past: P } = st;
      if (st.outputQueries) {
        throw new ModelError(
          'input',
          'OrtCausalLM: outputQueries needs the native model (an ONNX graph does not expose its queries)',
        );
      }
      if (st.outputHiddenStates && !this.hasHidden) {
        throw new ModelError(
          'input',
          'OrtCausalLM: this ONNX graph has no hidden_states output (outputHiddenStates needs our export)',
        );
      }
      if (
        st.cache?.visibility &&
        Array.from({ length: c.numLayers }, (_, l) => st.cache!.visibility!(l)).some((m) => m)
      ) {
        throw new ModelError(
          'input',
          'OrtCausalLM: the cache hides slots per kv head (per-head eviction); an ONNX graph takes one mask for all heads, use the native model',
        );
      }
      if (!this.hasPositions && (st.cache?.positionOffset ?? 0) > 0) {
        throw new ModelError(
          'input',
          'OrtCausalLM: this ONNX graph has no position_ids input, so it cannot continue after evicted positions (cache.positionOffset > 0)',
        );
      }
      const ids = (await st.tokens.data()) as Int32Array;
      const feeds: Record<string, ort.Tensor> = {
        input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [B, S]),
        attention_mask: await this.mask(st),
      };
      if (this.hasPositions)
        feeds.position_ids = new ort.Tensor('int64', BigInt64Array.from(st.positionValues, BigInt), [B, S]);
      if (this.hasCacheBranch) feeds.use_cache_branch = new ort.Tensor('bool', [P > 0], [1]);
      if (this.keepInput) feeds[this.keepInput] = new ort.Tensor('int64', [BigInt(st.logitsToKeep)], []);
      const kvDims = [B, c.numKvHeads, P, c.headDim];
      const empty = new Float32Array(0);
      for (let i = 0; i < c.numLayers; i++) {
        for (const [kind, get] of [
          ['key', (l: number) => st.cache!.keys(l)],
          ['value', (l: number) => st.cache!.values(l)],
        ] as const) {
          let data: Float32Array = empty;
          if (st.cache && P > 0) {
            const view = get(i);
            data = denseF32(view);
            view.dispose();
          }
          feeds[`past_key_values.${i}.${kind}`] = new ort.Tensor('float32', data, kvDims);
        }
      }
      const fetches = ['logits'];
      if (st.outputHiddenStates) fetches.push('hidden_states');
      const keepCache = st.cache && st.writeCache;
      if (keepCache)
        for (let i = 0; i < c.numLayers; i++) fetches.push(`present.${i}.key`, `present.${i}.value`);
      const out = await this.session.run(feeds, fetches);

      if (keepCache) {
        for (let i = 0; i < c.numLayers; i++) {
          const k = out[`present.${i}.key`];
          const v = out[`present.${i}.value`];
          st.cache!.adopt(
            i,
            wrapF32(k.data as Float32Array, k.dims),
            wrapF32(v.data as Float32Array, v.dims),
          );
        }
        finishStep(st);
      }
      const lo = out.logits;
      let logits = wrapF32(lo.data as Float32Array, lo.dims);
      if (st.logitsToKeep < lo.dims[1]) {
        const view = logits.slice(1, lo.dims[1] - st.logitsToKeep);
        logits.dispose();
        logits = view;
      }
      const result: ForwardOutput = { logits };
      if (st.outputHiddenStates) {
        const h = out.hidden_states;
        result.hiddenStates = wrapF32(h.data as Float32Array, h.dims);
      }
      return result;
    } catch (e) {
      st.cache?.rollback();
      throw e;
    } finally {
      releaseStep(st);
    }
  }

  /**
   * The attention_mask feed for the graph's layout: our graph takes an additive float mask
   * [B, 1, S, P + S] (causal or the caller's tree mask, pad slots hidden); an Optimum graph takes
   * int64 [B, P + S] (1 = real token, 0 = pad) and makes the causal part itself.
   */
  private async mask(st: ForwardStep): Promise<ort.Tensor> {
    const { batch: B, length: S, past: P, attention, padding } = st;
    const T = P + S;
    if (this.layout === 'optimum-2d') {
      if (attention !== 'causal') {
        throw new ModelError(
          'input',
          'OrtCausalLM: this Optimum-style graph builds its own causal mask from a 2-D attention_mask; tree attention needs a graph with a 4-D additive mask (our export)',
        );
      }
      const m = new BigInt64Array(B * T).fill(1n);
      if (padding) for (let b = 0; b < B; b++) m.fill(0n, b * T, b * T + padding[b]);
      return new ort.Tensor('int64', m, [B, T]);
    }
    const m = new Float32Array(B * S * T);
    if (attention === 'causal') {
      for (let b = 0; b < B; b++)
        for (let i = 0; i < S; i++) m.fill(MASK_MIN, (b * S + i) * T + P + i + 1, (b * S + i + 1) * T);
    } else {
      const allowed = await attention.data();
      const per = S * T;
      const mb = attention.shape[0];
      for (let b = 0; b < B; b++) {
        const src = mb === 1 ? 0 : b * per;
        for (let j = 0; j < per; j++) if (!allowed[src + j]) m[b * per + j] = MASK_MIN;
      }
    }
    // Pad slots are hidden from every query of their row (a pad query then sees nothing: its
    // scores are all MASK_MIN, a uniform softmax, finite and ignored).
    if (padding)
      for (let b = 0; b < B; b++)
        for (let i = 0; i < S; i++) m.fill(MASK_MIN, (b * S + i) * T, (b * S + i) * T + padding[b]);
    return new ort.Tensor('float32', m, [B, 1, S, T]);
  }
}
