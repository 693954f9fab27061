/**
 * @file The CausalLM contract (DESIGN.md §2): a forward pass over new tokens at given positions,
 * with causal or arbitrary (tree) attention, writing keys and values into a KV cache from
 * @hasten/kv that it mutates in place. Implementations: the native Llama family (llama/model.ts)
 * and ONNX Runtime (ort/model.ts).
 *
 * Tree attention (Medusa, SpecInfer: arXiv 2305.09781): pass `attention` as a bool mask
 * [B, 1, S, P + S] (true = attend) and explicit `positions` (depth-based), and every branch of a
 * token tree is scored in one forward.
 */
import { concat, type Tensor, tensor } from '@hasten/core-tensor';
import { ContiguousKVCache, type KVCache } from '@hasten/kv';
import type { LlamaConfig } from './config';
import { ModelError } from './errors';

export interface ForwardInput {
  /** New token ids, i32 [B, S]. */
  tokens: Tensor;
  /** Positions of the new tokens, i32 [B, S]. Default: cache.length + [0, S). */
  positions?: Tensor;
  /** 'causal' (default), or a bool mask [B or 1, 1, S, P + S] (true = attend) over cached + new. */
  attention?: 'causal' | Tensor;
  /** KV cache (from createCache) holding P positions; the new ones are appended and committed. */
  cache?: KVCache;
  /** Also return the final-norm hidden states [B, S, hidden] (for Medusa-style heads). */
  outputHiddenStates?: boolean;
  /** Compute logits for the last N positions only (prefill needs 1). Default: all S. */
  logitsToKeep?: number;
  /** Causal prefill in chunks of at most this many tokens through the cache (bounds memory). */
  chunkSize?: number;
}

export interface ForwardOutput {
  /** f32 [B, logitsToKeep ?? S, vocab]. */
  logits: Tensor;
  /** f32 [B, S, hidden] when outputHiddenStates is set. */
  hiddenStates?: Tensor;
}

export interface CreateCacheOptions {
  batch?: number;
  /** Most positions the cache may hold (default: the model's context length). */
  maxLength?: number;
  /** Positions allocated up front (default maxLength). */
  capacity?: number;
}

/** A ContiguousKVCache shaped for `config`; `capacity` and `device` are the implementation's defaults. */
export function contiguousCacheFor(
  config: LlamaConfig,
  opts: CreateCacheOptions,
  defaults: { capacity: number; device?: string },
): ContiguousKVCache {
  return new ContiguousKVCache({
    numLayers: config.numLayers,
    batch: opts.batch ?? 1,
    numKvHeads: config.numKvHeads,
    headDim: config.headDim,
    maxLength: opts.maxLength ?? config.contextLength,
    capacity: opts.capacity ?? defaults.capacity,
    ...(defaults.device ? { device: defaults.device } : {}),
  });
}

export interface CausalLM {
  readonly config: LlamaConfig;
  /** Where it runs, e.g. 'cpu' or 'onnxruntime-node (cpu)'. */
  readonly device: string;
  createCache(opts?: CreateCacheOptions): KVCache;
  forward(input: ForwardInput): Promise<ForwardOutput>;
  dispose(): void;
}

/** A validated forward input for a single chunk: `positions` is always set. */
export interface ForwardStep {
  tokens: Tensor;
  positions: Tensor;
  /** Plain JS copy of the positions (ORT feeds them; the native path uses the tensor). */
  positionValues: Int32Array;
  attention: 'causal' | Tensor;
  cache?: KVCache;
  outputHiddenStates: boolean;
  logitsToKeep: number;
  batch: number;
  length: number;
  past: number;
  /** Whether `positions` was created here (and must be disposed here). */
  ownsPositions: boolean;
}

const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

/** Default positions P + [0, S) for every row, as a tensor and plain values. */
function defaultPositions(batch: number, length: number, past: number): { t: Tensor; v: Int32Array } {
  const v = new Int32Array(batch * length);
  for (let b = 0; b < batch; b++) for (let s = 0; s < length; s++) v[b * length + s] = past + s;
  return { t: tensor(v, [batch, length]), v };
}

/** Validates a forward input against the model and returns the normalised step. */
export async function prepareStep(
  config: LlamaConfig,
  input: ForwardInput,
  maxContext: number,
): Promise<ForwardStep> {
  const { tokens, cache } = input;
  if (tokens.rank !== 2 || tokens.dtype !== 'i32') {
    throw new ModelError(
      'input',
      `forward: tokens must be i32 [batch, seq], got ${tokens.dtype} ${fmt(tokens.shape)}`,
    );
  }
  const [batch, length] = tokens.shape;
  if (length === 0) throw new ModelError('input', 'forward: tokens is empty (seq length 0)');
  const past = cache?.length ?? 0;
  if (cache) {
    if (cache.batch !== batch)
      throw new ModelError(
        'input',
        `forward: tokens batch ${batch} does not match the cache batch ${cache.batch}`,
      );
    if (
      cache.numLayers !== config.numLayers ||
      cache.numKvHeads !== config.numKvHeads ||
      cache.headDim !== config.headDim
    ) {
      throw new ModelError(
        'input',
        `forward: cache shape (layers ${cache.numLayers}, kv heads ${cache.numKvHeads}, head dim ${cache.headDim}) does not match the model (${config.numLayers}, ${config.numKvHeads}, ${config.headDim}); use model.createCache()`,
      );
    }
  }
  const total = past + length;
  if (total > maxContext) {
    throw new ModelError(
      'context',
      `forward: ${past} cached + ${length} new = ${total} positions exceeds the model's context length ${maxContext}`,
    );
  }
  if (cache && total > cache.maxLength) {
    throw new ModelError(
      'context',
      `forward: ${past} cached + ${length} new = ${total} positions exceeds the cache's maxLength ${cache.maxLength}`,
    );
  }
  let positions: Tensor;
  let positionValues: Int32Array;
  const ownsPositions = !input.positions;
  if (input.positions) {
    positions = input.positions;
    if (
      positions.dtype !== 'i32' ||
      positions.rank !== 2 ||
      positions.shape[0] !== batch ||
      positions.shape[1] !== length
    ) {
      throw new ModelError(
        'input',
        `forward: positions must be i32 ${fmt([batch, length])} like tokens, got ${positions.dtype} ${fmt(positions.shape)}`,
      );
    }
    positionValues = (await positions.data()) as Int32Array;
    for (const p of positionValues) {
      if (p < 0 || p >= maxContext) {
        throw new ModelError(
          'context',
          `forward: position ${p} is outside [0, ${maxContext}) (the model's context length)`,
        );
      }
    }
  } else {
    const d = defaultPositions(batch, length, past);
    positions = d.t;
    positionValues = d.v;
  }
  const attention = input.attention ?? 'causal';
  if (attention !== 'causal') {
    const s = attention.shape;
    if (
      attention.dtype !== 'bool' ||
      attention.rank !== 4 ||
      (s[0] !== batch && s[0] !== 1) ||
      s[1] !== 1 ||
      s[2] !== length ||
      s[3] !== total
    ) {
      throw new ModelError(
        'input',
        `forward: attention mask must be bool ${fmt([batch, 1, length, total])} (batch may be 1; true = attend), got ${attention.dtype} ${fmt(s)}`,
      );
    }
  }
  const keep = input.logitsToKeep ?? length;
  if (!Number.isInteger(keep) || keep < 1 || keep > length) {
    throw new ModelError(
      'input',
      `forward: logitsToKeep must be an integer in [1, ${length}], got ${input.logitsToKeep}`,
    );
  }
  return {
    tokens,
    positions,
    positionValues,
    attention,
    cache,
    outputHiddenStates: !!input.outputHiddenStates,
    logitsToKeep: keep,
    batch,
    length,
    past,
    ownsPositions,
  };
}

/**
 * Runs `input` through `step` (one chunk per call), splitting a causal prefill into chunks of
 * `chunkSize` tokens through the cache; logits of the kept positions are concatenated.
 */
export async function forwardChunked(
  input: ForwardInput,
  step: (chunk: ForwardInput) => Promise<ForwardOutput>,
): Promise<ForwardOutput> {
  const size = input.chunkSize;
  const S = input.tokens.shape[1];
  if (size === undefined || size >= S) return step(input);
  if (!Number.isInteger(size) || size < 1)
    throw new ModelError('input', `forward: chunkSize must be a positive integer, got ${size}`);
  if (!input.cache)
    throw new ModelError(
      'input',
      'forward: chunkSize needs a cache (the chunks attend to each other through it)',
    );
  if (input.attention !== undefined && input.attention !== 'causal') {
    throw new ModelError('input', 'forward: chunkSize works with causal attention only');
  }
  const keep = input.logitsToKeep ?? S;
  const logits: Tensor[] = [];
  const hidden: Tensor[] = [];
  for (let start = 0; start < S; start += size) {
    const end = Math.min(S, start + size);
    const keepHere = Math.max(0, Math.min(end - start, end - (S - keep)));
    const tokens = input.tokens.slice(1, start, end);
    const positions = input.positions?.slice(1, start, end);
    try {
      const out = await step({
        ...input,
        tokens,
        positions,
        chunkSize: undefined,
        logitsToKeep: Math.max(1, keepHere),
      });
      if (keepHere > 0) logits.push(out.logits);
      else out.logits.dispose();
      if (out.hiddenStates) hidden.push(out.hiddenStates);
    } finally {
      tokens.dispose();
      positions?.dispose();
    }
  }
  const join = (ts: Tensor[]) => {
    if (ts.length === 1) return ts[0];
    const t = concat(ts, 1);
    for (const x of ts) x.dispose();
    return t;
  };
  return { logits: join(logits), hiddenStates: hidden.length ? join(hidden) : undefined };
}
