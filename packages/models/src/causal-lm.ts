/**
 * @file The CausalLM contract (DESIGN.md §2): a forward pass over new tokens at given positions,
 * with causal or arbitrary (tree) attention, writing keys and values into a KV cache from
 * @hasten/kv that it mutates in place. Implementations: the native Llama family (llama/model.ts)
 * and ONNX Runtime (ort/model.ts).
 *
 * Tree attention (Medusa, SpecInfer: arXiv 2305.09781): pass `attention` as a bool mask
 * [B, 1, S, P + S] (true = attend) and explicit `positions` (depth-based), and every branch of a
 * token tree is scored in one forward.
 *
 * Batches of different lengths are left-padded (Hugging Face's convention for generation): the
 * first forward into an empty cache names the leading pad tokens of each row in `padding`; the
 * cache records them, and every forward on that cache then hides the pad slots from attention and
 * numbers each row's positions from its first real token, so a decode step needs no extra input.
 * A query that may attend to nothing (a pad row) yields zeros, never NaN.
 */
import { concat, type Tensor, tensor } from '@hasten/core-tensor';
import { ContiguousKVCache, type KVCache } from '@hasten/kv';
import { z } from 'zod';
import { ModelError } from './errors';
import { parseOptions } from './options';

/**
 * What every causal LM tells its users, whatever its architecture (the Llama family's
 * `LlamaConfig` extends it). Hugging Face names in camelCase.
 */
export interface ModelConfig {
  /** e.g. 'llama', 'mistral', 'qwen2'. */
  modelType: string;
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  /** Longest context the implementation computes exactly. */
  contextLength: number;
  bosTokenId?: number;
  eosTokenId?: number | number[];
  padTokenId?: number;
}

export interface ForwardInput {
  /** New token ids, i32 [B, S]. */
  tokens: Tensor;
  /** Positions of the new tokens, i32 [B, S]. Default: cache.length + [0, S). */
  positions?: Tensor;
  /** 'causal' (default), or a bool mask [B or 1, 1, S, P + S] (true = attend) over cached + new. */
  attention?: 'causal' | Tensor;
  /** KV cache (from createCache) holding P positions; the new ones are appended and committed. */
  cache?: KVCache;
  /**
   * Leading pad tokens per row (left padding), on the first forward into an empty cache (or
   * without a cache). Each row keeps at least one real token. The cache records it.
   */
  padding?: readonly number[];
  /**
   * false: attend to the cache and the new tokens but leave the cache as it was (scoring a
   * continuation, masked-diffusion steps). Default true.
   */
  writeCache?: boolean;
  /** Also return the final-norm hidden states [B, S, hidden] (for Medusa-style heads). */
  outputHiddenStates?: boolean;
  /** Compute logits for the last N positions only (prefill needs 1). Default: all S. */
  logitsToKeep?: number;
  /**
   * Also return every layer's queries (after RoPE) for the last N new positions: what
   * @hasten/kv's attention-based eviction policies (H2O, SnapKV, TOVA, Expected Attention) score
   * with. Native models only (an ONNX graph does not expose them).
   */
  outputQueries?: number;
  /** Causal prefill in chunks of at most this many tokens through the cache (bounds memory). */
  chunkSize?: number;
}

export interface ForwardOutput {
  /** f32 [B, logitsToKeep ?? S, vocab]. */
  logits: Tensor;
  /** f32 [B, S, hidden] when outputHiddenStates is set. */
  hiddenStates?: Tensor;
  /** Per layer, f32 [B, numHeads, outputQueries, headDim] row-major, when outputQueries is set. */
  queries?: Float32Array[];
}

export const CreateCacheOptions = z.strictObject({
  batch: z.number().int().positive().optional(),
  /** Most positions the cache may hold (default: the model's context length). */
  maxLength: z.number().int().positive().optional(),
  /** Positions allocated up front (default maxLength). */
  capacity: z.number().int().nonnegative().optional(),
});
export type CreateCacheOptions = z.input<typeof CreateCacheOptions>;

/** A ContiguousKVCache shaped for `config`; `capacity` and `device` are the implementation's defaults. */
export function contiguousCacheFor(
  config: ModelConfig,
  opts: CreateCacheOptions,
  defaults: { capacity: number; device?: string },
): ContiguousKVCache {
  const o = parseOptions(CreateCacheOptions, opts, 'createCache');
  if (o.maxLength !== undefined && o.maxLength > config.contextLength) {
    throw new ModelError(
      'options',
      `createCache: option 'maxLength' ${o.maxLength} exceeds the model's context length ${config.contextLength}`,
    );
  }
  return new ContiguousKVCache({
    numLayers: config.numLayers,
    batch: o.batch ?? 1,
    numKvHeads: config.numKvHeads,
    headDim: config.headDim,
    maxLength: o.maxLength ?? config.contextLength,
    capacity: o.capacity ?? defaults.capacity,
    ...(defaults.device ? { device: defaults.device } : {}),
  });
}

export interface CausalLM {
  readonly config: ModelConfig;
  /** Where it runs, e.g. 'cpu' or 'onnxruntime-node (cpu)'. */
  readonly device: string;
  createCache(opts?: CreateCacheOptions): KVCache;
  forward(input: ForwardInput): Promise<ForwardOutput>;
  /**
   * The LM head on final-norm hidden states [..., hidden] (as `outputHiddenStates` returns them):
   * logits [..., vocab]. Medusa heads and tied drafts reuse it.
   */
  lmHead(hidden: Tensor): Promise<Tensor>;
  /** The token embedding: i32 ids [...] -> f32 [..., hidden]. */
  embed(tokens: Tensor): Promise<Tensor>;
  dispose(): void;
}

/** A validated forward input for a single chunk: `positions` is always set. */
export interface ForwardStep {
  tokens: Tensor;
  positions: Tensor;
  /** Plain JS copy of the positions (ORT feeds them; the native path uses the tensor). */
  positionValues: Int32Array;
  /** As given: 'causal' or the caller's bool mask [B or 1, 1, S, P + S]. */
  attention: 'causal' | Tensor;
  /**
   * Leading pad slots per row of the cache + this input (left padding), or null when no row is
   * padded. When set, attention must also hide key slots j < padding[b] from row b.
   */
  padding: Int32Array | null;
  /** Padding named by this (first) forward, recorded in the cache when the step commits. */
  newPadding: number[] | null;
  cache?: KVCache;
  /** Whether the new positions stay in the cache (committed) or are dropped after the forward. */
  writeCache: boolean;
  outputHiddenStates: boolean;
  /** Queries of the last N new positions to return per layer (0: none). */
  outputQueries: number;
  logitsToKeep: number;
  batch: number;
  length: number;
  past: number;
  /** Tensors created here (positions) that the caller of prepareStep disposes after the step. */
  owned: Tensor[];
}

const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

const isTensor = (t: unknown): t is Tensor =>
  typeof t === 'object' &&
  t !== null &&
  'shape' in t &&
  'dtype' in t &&
  typeof (t as Tensor).data === 'function';
const isCache = (c: unknown): c is KVCache =>
  typeof c === 'object' && c !== null && typeof (c as KVCache).append === 'function';

const TensorArg = z.custom<Tensor>(isTensor, 'expected a core-tensor Tensor');
const ForwardInputSchema = z.strictObject({
  tokens: TensorArg,
  positions: TensorArg.optional(),
  attention: z.union([z.literal('causal'), TensorArg]).optional(),
  cache: z.custom<KVCache>(isCache, 'expected a KVCache (model.createCache())').optional(),
  padding: z.array(z.number().int().nonnegative()).readonly().optional(),
  writeCache: z.boolean().optional(),
  outputHiddenStates: z.boolean().optional(),
  outputQueries: z.number().int().positive().optional(),
  logitsToKeep: z.number().int().positive().optional(),
  chunkSize: z.number().int().positive().optional(),
});

/** Validates a forward input against the model and returns the normalised step. */
export async function prepareStep(
  config: ModelConfig,
  raw: ForwardInput,
  maxContext: number,
  device: string,
): Promise<ForwardStep> {
  const input = parseOptions(ForwardInputSchema, raw, 'forward') as ForwardInput;
  const { cache } = input;
  const owned: Tensor[] = [];
  // Inputs made on another backend than the model's move to it (ids and masks are small).
  const onDevice = async (t: Tensor): Promise<Tensor> => {
    if (t.device === device) return t;
    const moved = await t.to(device);
    owned.push(moved);
    return moved;
  };
  const tokens = await onDevice(input.tokens);
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
  // Eviction (kv's compress) leaves kept keys at their original positions: new tokens continue
  // after the evicted ones, so the context limit applies to the true positions.
  const offset = cache?.positionOffset ?? 0;
  if (total + offset > maxContext) {
    const evicted = offset ? ` (+ ${offset} evicted before them)` : '';
    throw new ModelError(
      'context',
      `forward: ${past} cached${evicted} + ${length} new = ${total + offset} positions exceeds the model's context length ${maxContext}`,
    );
  }
  if (cache && total > cache.maxLength) {
    throw new ModelError(
      'context',
      `forward: ${past} cached + ${length} new = ${total} positions exceeds the cache's maxLength ${cache.maxLength}`,
    );
  }
  const padding = paddingOf(input, cache, batch, length, past);
  let positions: Tensor;
  let positionValues: Int32Array;
  if (input.positions) {
    positions = await onDevice(input.positions);
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
    // Row b's slot p holds position p + offset - padding[b] (pad slots get 0; attention hides them).
    positionValues = new Int32Array(batch * length);
    for (let b = 0; b < batch; b++) {
      const pad = padding?.[b] ?? 0;
      for (let s = 0; s < length; s++) positionValues[b * length + s] = Math.max(0, past + offset + s - pad);
    }
    positions = tensor(positionValues, [batch, length], { dtype: 'i32', device });
    owned.push(positions);
  }
  let attention = input.attention ?? 'causal';
  if (attention !== 'causal') {
    attention = await onDevice(attention);
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
  if ((input.outputQueries ?? 0) > length) {
    throw new ModelError(
      'input',
      `forward: outputQueries must be an integer in [1, ${length}] (the new positions), got ${input.outputQueries}`,
    );
  }
  const keep = input.logitsToKeep ?? length;
  if (keep > length) {
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
    padding,
    newPadding: input.padding && padding ? Array.from(padding) : null,
    cache,
    writeCache: input.writeCache ?? true,
    outputHiddenStates: !!input.outputHiddenStates,
    outputQueries: input.outputQueries ?? 0,
    logitsToKeep: keep,
    batch,
    length,
    past,
    owned,
  };
}

/** The step's per-row left padding (from the input on a first forward, else from the cache). */
function paddingOf(
  input: ForwardInput,
  cache: KVCache | undefined,
  batch: number,
  length: number,
  past: number,
): Int32Array | null {
  if (input.padding) {
    const pad = input.padding;
    if (past > 0) {
      throw new ModelError(
        'input',
        `forward: padding is given on the first forward into an empty cache; this cache holds ${past} positions (its padding is ${fmt(cache?.padding ?? [])})`,
      );
    }
    if (pad.length !== batch) {
      throw new ModelError('input', `forward: padding has ${pad.length} entries for a batch of ${batch}`);
    }
    const bad = pad.findIndex((p) => p >= length);
    if (bad >= 0) {
      throw new ModelError(
        'input',
        `forward: padding[${bad}] = ${pad[bad]} leaves row ${bad} no real token (sequence length ${length}); each row needs at least one`,
      );
    }
    return pad.some((p) => p > 0) ? Int32Array.from(pad) : null;
  }
  const fromCache = cache?.padding;
  return fromCache?.some((p) => p > 0) ? Int32Array.from(fromCache) : null;
}

/**
 * The bool attention mask [B, 1, S, P + S] (true = attend) that a step needs, or null when plain
 * causal attention is enough: causal (unless the caller gave a mask, which then decides alone),
 * AND the caller's mask, AND not a pad slot of the row. On the model's `device`.
 */
export async function attentionMask(st: ForwardStep, device: string): Promise<Tensor | null> {
  if (st.attention === 'causal' && !st.padding) return null;
  if (!st.padding) return st.attention as Tensor;
  const { batch: B, length: S, past: P } = st;
  const T = P + S;
  const m = new Uint8Array(B * S * T);
  const given = st.attention === 'causal' ? null : await st.attention.data();
  const perRow = st.attention !== 'causal' && st.attention.shape[0] !== 1;
  for (let b = 0; b < B; b++) {
    const pad = st.padding[b];
    for (let i = 0; i < S; i++) {
      const row = (b * S + i) * T;
      const src = ((perRow ? b : 0) * S + i) * T;
      const last = given ? T - 1 : P + i;
      for (let j = pad; j <= last; j++) m[row + j] = given ? (given[src + j] ? 1 : 0) : 1;
    }
  }
  const mask = tensor(m, [B, 1, S, T], { dtype: 'bool', device });
  st.owned.push(mask);
  return mask;
}

/**
 * Ends a step whose new keys and values are in the cache: commits them (and records the padding
 * named by a first forward), or, for `writeCache: false`, forgets them.
 */
export function finishStep(st: ForwardStep): void {
  if (!st.cache) return;
  if (!st.writeCache) {
    st.cache.rollback();
    return;
  }
  st.cache.commit();
  if (st.newPadding) st.cache.setPadding(st.newPadding);
}

/** Disposes what prepareStep created for the step. */
export function releaseStep(st: ForwardStep): void {
  for (const t of st.owned) t.dispose();
  st.owned.length = 0;
}

/**
 * Runs `input` through `step` (one chunk per call), splitting a causal prefill into chunks of
 * `chunkSize` tokens through the cache; logits of the kept positions are concatenated. If any chunk
 * throws, the cache returns to its length (and padding) before the call.
 */
export async function forwardChunked(
  input: ForwardInput,
  step: (chunk: ForwardInput) => Promise<ForwardOutput>,
): Promise<ForwardOutput> {
  const size = input.chunkSize;
  const S = input.tokens?.shape?.[1] ?? 0;
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
  if (input.writeCache === false) {
    throw new ModelError(
      'input',
      'forward: chunkSize needs writeCache (the chunks attend to each other through the cache)',
    );
  }
  const cache = input.cache;
  const before = cache.length;
  const keep = input.logitsToKeep ?? S;
  const logits: Tensor[] = [];
  const hidden: Tensor[] = [];
  let queries: Float32Array[] | undefined;
  if ((input.outputQueries ?? 0) > S - Math.floor((S - 1) / size) * size) {
    throw new ModelError(
      'input',
      `forward: outputQueries ${input.outputQueries} exceeds the last prefill chunk (${S - Math.floor((S - 1) / size) * size} positions with chunkSize ${size})`,
    );
  }
  try {
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
          // Padding is named once, with the first chunk; later chunks read it from the cache.
          padding: start === 0 ? input.padding : undefined,
          chunkSize: undefined,
          logitsToKeep: Math.max(1, keepHere),
          outputQueries: end === S ? input.outputQueries : undefined,
        });
        if (out.queries) queries = out.queries;
        if (keepHere > 0) logits.push(out.logits);
        else out.logits.dispose();
        if (out.hiddenStates) hidden.push(out.hiddenStates);
      } finally {
        tokens.dispose();
        positions?.dispose();
      }
    }
  } catch (e) {
    for (const t of [...logits, ...hidden]) t.dispose();
    cache.rollback();
    cache.truncate(before); // truncate(0) also forgets the padding this call recorded
    throw e;
  }
  const join = (ts: Tensor[]) => {
    if (ts.length === 1) return ts[0];
    const t = concat(ts, 1);
    for (const x of ts) x.dispose();
    return t;
  };
  return {
    logits: join(logits),
    hiddenStates: hidden.length ? join(hidden) : undefined,
    ...(queries ? { queries } : {}),
  };
}
