/**
 * @file Argument checks the KV caches (contiguous, paged, quantized) make, with the same
 * messages: the k, v a layer is written with, and the lengths and positions the `KVCache` contract's
 * calls take.
 */
import { CpuBackend, type Tensor, TensorError } from '@hasten/core-tensor';

/** What a cache holds per position: [batch, numKvHeads, ·, headDim] on `device`. */
export interface KVGeometry {
  readonly batch: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly device: string;
}

/**
 * Validates k, v [B, KV, S, D] against the cache and returns S: live tensors of the cache's shape,
 * of `dtype` (any float dtype when null), on a CPU backend (the caches write in place) and the
 * cache's device. `placement` is the message for a tensor that is not.
 */
export function checkKV(
  op: string,
  k: Tensor,
  v: Tensor,
  dtype: 'f32' | null,
  cache: KVGeometry,
  placement: (name: string, t: Tensor) => string,
): number {
  k.assertLive(op);
  v.assertLive(op);
  const want = `[${cache.batch}, ${cache.numKvHeads}, S, ${cache.headDim}]`;
  for (const [name, t] of [
    ['k', k],
    ['v', v],
  ] as const) {
    const [B, KV, , D] = t.shape;
    if (t.rank !== 4 || B !== cache.batch || KV !== cache.numKvHeads || D !== cache.headDim) {
      throw new TensorError(op, `${name} has shape [${t.shape.join(', ')}], expected ${want}`);
    }
    if (dtype ? t.dtype !== dtype : !['f32', 'f16', 'bf16'].includes(t.dtype)) {
      throw new TensorError(op, `${name} has dtype ${t.dtype}, expected ${dtype ?? 'a float dtype'}`);
    }
    if (!(t.backend instanceof CpuBackend) || t.device !== cache.device) {
      throw new TensorError(op, placement(name, t));
    }
  }
  if (k.shape[2] !== v.shape[2]) {
    throw new TensorError(op, `k has ${k.shape[2]} positions but v has ${v.shape[2]}`);
  }
  return k.shape[2];
}

/** The length every layer holds, which commit() makes the committed length; they must agree. */
export function committedLength(op: string, lengths: readonly number[]): number {
  const n = lengths[0];
  const bad = lengths.findIndex((l) => l !== n);
  if (bad >= 0) {
    throw new TensorError(
      op,
      `layer ${bad} holds ${lengths[bad]} positions but layer 0 holds ${n}; every layer must be written once per step`,
    );
  }
  return n;
}

/** Every layer holds exactly the committed positions. */
export function assertNothingPending(op: string, lengths: readonly number[], committed: number): void {
  if (lengths.some((l) => l !== committed)) {
    throw new TensorError(op, 'uncommitted positions pending; call commit() or rollback() first');
  }
}

/** truncate(n): n in [0, committed]. */
export function checkTruncateLength(op: string, n: number, committed: number): void {
  if (!Number.isInteger(n) || n < 0 || n > committed) {
    throw new TensorError(op, `length ${n} must be an integer in [0, ${committed}] (the committed length)`);
  }
}

/** keepPositions(prefix, kept): prefix in [0, committed], kept strictly increasing in [prefix, committed). */
export function checkKeptPositions(
  op: string,
  prefix: number,
  kept: readonly number[],
  committed: number,
): void {
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > committed) {
    throw new TensorError(op, `prefix ${prefix} must be an integer in [0, ${committed}]`);
  }
  let prev = prefix - 1;
  for (const p of kept) {
    if (!Number.isInteger(p) || p <= prev || p >= committed) {
      throw new TensorError(
        op,
        `kept positions must be strictly increasing integers in [${prefix}, ${committed}), got [${kept.join(', ')}]`,
      );
    }
    prev = p;
  }
}

/** setPadding(padding): one integer per row in [0, committed]. */
export function checkPadding(op: string, padding: readonly number[], batch: number, committed: number): void {
  if (padding.length !== batch || padding.some((p) => !Number.isInteger(p) || p < 0 || p > committed)) {
    throw new TensorError(
      op,
      `padding must hold ${batch} integers (one per row) in [0, ${committed}] (the committed length), got [${padding.join(', ')}]`,
    );
  }
}

/** Throws unless the cache is live and `i` is one of its `numLayers` layers. */
export function checkLayerIndex(op: string, i: number, numLayers: number, disposed: boolean): void {
  if (disposed) throw new TensorError(op, 'the cache was disposed');
  if (!Number.isInteger(i) || i < 0 || i >= numLayers) {
    throw new TensorError(op, `layer ${i} is out of range [0, ${numLayers})`);
  }
}

/** `addPositionOffset(n)`'s argument: a non-negative integer. */
export function checkPositionOffset(op: string, n: number): void {
  if (!Number.isInteger(n) || n < 0) {
    throw new TensorError(op, `n must be a non-negative integer (evicted positions), got ${n}`);
  }
}
