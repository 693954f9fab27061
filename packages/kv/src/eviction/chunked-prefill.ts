/**
 * @file Chunked prefill with eviction between chunks (Locret, Huang et al., arXiv:2410.01805, §3:
 * the prompt is read in chunks; after each chunk the cache is scored and compressed back to a fixed
 * budget, so a prompt longer than the memory allows is still read). Here the scores come from any
 * `ScorePolicy` (a learned one through learned-scorer.ts, Locret's retaining heads' slot); the
 * attention-based ones get the queries of the chunk just read, which the model returns with
 * `forward({ outputQueries })`. Locret's "stabilizer", the last n positions always kept, is
 * `stabilizer: n` (their scores become +Infinity whatever the policy says). Compression is `compress` (scorer.ts): kept positions keep their
 * true positions through the cache's `positionOffset`.
 *
 * Memory: before a chunk the cache holds at most `budget` positions, the chunk adds at most C, so
 * the cache never holds more than budget + C positions (the returned `peakPositions`); with a cache
 * whose storage follows its length (a ContiguousKVCache with a small `capacity`, a paged cache),
 * memory stays ≈ budget + C positions. With budget ≥ the prompt length nothing is evicted, and the
 * result equals a plain prefill (same logits), since a causal forward in chunks through a cache is
 * the same computation.
 *
 * kv cannot depend on @hasten/models (models depends on kv), so the model is typed structurally
 * (`PrefillModel`: any @hasten/models `CausalLM` fits).
 */
import { parseOptionsWith, type Tensor, TensorError, tensor } from '@hasten/core-tensor';
import { z } from 'zod';
import type { KVCache } from '../kv-cache';
import { compress, type ScorePolicy } from './scorer';

/** The part of @hasten/models' CausalLM chunked prefill uses. */
export interface PrefillModel {
  readonly config: { readonly numHeads: number };
  forward(input: {
    tokens: Tensor;
    cache: KVCache;
    logitsToKeep?: number;
    outputQueries?: number;
  }): Promise<{ logits: Tensor; queries?: Float32Array[] }>;
}

const isPolicy = (v: unknown): v is ScorePolicy =>
  typeof v === 'object' && v !== null && typeof (v as ScorePolicy).score === 'function';
const isModel = (v: unknown): v is PrefillModel =>
  typeof v === 'object' && v !== null && typeof (v as PrefillModel).forward === 'function';
const isCache = (v: unknown): v is KVCache =>
  typeof v === 'object' && v !== null && typeof (v as KVCache).keepPositions === 'function';

export const ChunkedPrefillOptions = z.strictObject({
  model: z.custom<PrefillModel>(isModel, { message: 'expected a CausalLM (an object with forward())' }),
  /** The cache to prefill (usually empty; positions already in it count towards the budget). */
  cache: z.custom<KVCache>(isCache, { message: 'expected a KVCache' }),
  /** Prompt ids: one row, or one array per batch row (equal lengths: no padding). */
  tokens: z.union([z.array(z.number().int()).min(1), z.array(z.array(z.number().int()).min(1)).min(1)]),
  /** C: tokens per forward. */
  chunkSize: z.number().int().positive(),
  /** Positions the cache is compressed back to after each chunk. */
  budget: z.number().int().positive(),
  policy: z.custom<ScorePolicy>(isPolicy, { message: 'expected a ScorePolicy (an object with score())' }),
  /** Spread of the budget (compress's allocation); the memory bound holds for 'shared'. */
  allocation: z.enum(['shared', 'per-head', 'ada-kv', 'prefix-kv']).default('shared'),
  /** Queries handed to attention-based policies: the last min(this, chunk) of each chunk (default: all). */
  queryWindow: z.number().int().positive().optional(),
  /** Locret's stabilizer: the last n cached positions are always kept (default 0: the policy decides). */
  stabilizer: z.number().int().nonnegative().default(0),
  /** Logits kept from the last chunk (at most its length). */
  logitsToKeep: z.number().int().positive().default(1),
  /** Compress after the last chunk too (default true: the cache ends within the budget). */
  compressLast: z.boolean().default(true),
});
export type ChunkedPrefillOptions = z.input<typeof ChunkedPrefillOptions>;

export interface ChunkedPrefillResult {
  /** The last chunk's logits [B, logitsToKeep, vocab] (the caller disposes them). */
  logits: Tensor;
  /** Forwards run. */
  chunks: number;
  /** Most positions the cache held at once (right after a chunk's forward). */
  peakPositions: number;
  /** The cache's `memory().usedBytes` at that moment. */
  peakUsedBytes: number;
  /** Positions evicted during this prefill. */
  evicted: number;
  /** Compressions run (after the chunks that left the cache over budget). */
  compressions: number;
}

const OP = 'chunkedPrefill';

export async function chunkedPrefill(opts: ChunkedPrefillOptions): Promise<ChunkedPrefillResult> {
  const o = parseOptionsWith(ChunkedPrefillOptions, opts, (p) => new TensorError(OP, p));
  const rows: number[][] =
    typeof o.tokens[0] === 'number' ? [o.tokens as number[]] : (o.tokens as number[][]);
  const { cache, model, chunkSize: C } = o;
  if (rows.length !== cache.batch) {
    throw new TensorError(OP, `tokens hold ${rows.length} rows; the cache has batch ${cache.batch}`);
  }
  const N = rows[0].length;
  if (rows.some((r) => r.length !== N)) {
    throw new TensorError(OP, 'token rows differ in length; chunked prefill does not pad');
  }
  const lastLen = N - C * Math.floor((N - 1) / C);
  if (o.logitsToKeep > lastLen) {
    throw new TensorError(OP, `logitsToKeep ${o.logitsToKeep} exceeds the last chunk's ${lastLen} tokens`);
  }
  const needsQueries = o.policy.needsQueries === true;
  if (o.stabilizer > o.budget) {
    throw new TensorError(OP, `stabilizer ${o.stabilizer} exceeds the budget ${o.budget}`);
  }
  const policy = o.stabilizer > 0 ? withStabilizer(o.policy, o.stabilizer) : o.policy;
  const offset0 = cache.positionOffset;
  let logits: Tensor | null = null;
  let peakPositions = cache.length;
  let peakUsedBytes = cache.memory().usedBytes;
  let chunks = 0;
  let compressions = 0;
  try {
    for (let at = 0; at < N; at += C) {
      const S = Math.min(C, N - at);
      const last = at + S >= N;
      const ids = tensor(Int32Array.from(rows.flatMap((r) => r.slice(at, at + S))), [rows.length, S], {
        dtype: 'i32',
      });
      const W = needsQueries ? Math.min(S, o.queryWindow ?? S) : undefined;
      let out: { logits: Tensor; queries?: Float32Array[] };
      try {
        out = await model.forward({
          tokens: ids,
          cache,
          logitsToKeep: last ? o.logitsToKeep : 1,
          outputQueries: W,
        });
      } finally {
        ids.dispose();
      }
      chunks++;
      logits?.dispose();
      logits = out.logits;
      if (cache.length > peakPositions) {
        peakPositions = cache.length;
        peakUsedBytes = cache.memory().usedBytes;
      }
      if (cache.length > o.budget && (!last || o.compressLast)) {
        if (needsQueries && !out.queries) {
          throw new TensorError(
            OP,
            `policy ${o.policy.name} needs queries but the model returned none (outputQueries needs a native model)`,
          );
        }
        compress(cache, {
          policy,
          keep: o.budget,
          allocation: o.allocation,
          queries: needsQueries ? out.queries : undefined,
          numHeads: needsQueries ? model.config.numHeads : undefined,
        });
        compressions++;
      }
    }
  } catch (e) {
    logits?.dispose();
    throw e;
  }
  return {
    logits: logits as Tensor,
    chunks,
    peakPositions,
    peakUsedBytes,
    evicted: cache.positionOffset - offset0,
    compressions,
  };
}

/** `policy` with the last n positions of every (row, head) scored +Infinity (always kept). */
function withStabilizer(policy: ScorePolicy, n: number): ScorePolicy {
  return {
    name: `${policy.name}+stabilizer(${n})`,
    needsQueries: policy.needsQueries,
    score(input) {
      const s = policy.score(input);
      const T = input.keys.shape[2];
      for (let r = 0; r < s.length / T; r++)
        for (let t = Math.max(0, T - n); t < T; t++) s[r * T + t] = Infinity;
      return s;
    },
  };
}
