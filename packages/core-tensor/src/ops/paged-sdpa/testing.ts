/**
 * @file Test helpers for paged attention (not exported): a random block pool and block tables, the
 * dense keys and values each row reads (gathered here, independently of the kernels), and the pool
 * in the layouts a cache may hold it in.
 */
import { fromStorageArray } from '../../creation';
import type { DType } from '../../dtype';
import type { Tensor } from '../../tensor';
import { makeTensor, type Rng, randn, ravel, roundTo, unravel } from '../../test-utils';
import type { AttentionCase } from '../fast-testing';

/** An attention case whose keys and values live in blocks of `blockSize` positions. */
export interface PagedCase extends AttentionCase {
  blockSize: number;
}

/**
 * How the pool tensor is stored: [N, H, bs, D] plain; [N, bs, H, D] (vLLM v1) or [H, N, bs, D]
 * (@hasten/kv's pool) permuted to it; at a storage offset; or with a strided last axis.
 */
export type PoolLayout = 'contiguous' | 'token-major' | 'head-major' | 'offset' | 'strided';

export interface PagedInputs {
  /** Physical blocks in the pool. */
  N: number;
  /** [B, used] block ids, row-major. */
  table: Int32Array;
  used: number;
  /** Pool values, row-major [N, Hkv, bs, D] / [N, Hkv, bs, Dv]; slots no row reads hold NaN. */
  kPool: Float64Array;
  vPool: Float64Array;
  /** What each row reads, row-major [B, Hkv, T, D] / [B, Hkv, T, Dv]. */
  kDense: Float64Array;
  vDense: Float64Array;
}

/**
 * A pool with spare blocks, rows whose blocks are scattered at random, and (when B > 1) some blocks
 * shared between rows, as forked sequences share their prompt. Unread slots hold NaN.
 */
export function randomPaged(rng: Rng, c: PagedCase, dtype: DType = 'f32'): PagedInputs {
  const { B, Hkv, T, D, Dv, blockSize: bs } = c;
  const used = Math.max(1, Math.ceil(T / bs));
  const N = B * used + 3;
  const order = Array.from({ length: N }, (_, i) => i);
  for (let i = N - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const table = new Int32Array(B * used);
  let next = 0;
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < used; i++) {
      // A full block of row 0 may be shared (a forked prompt); the last block never is.
      const shared = b > 0 && (i + 1) * bs <= T && rng() < 0.4;
      table[b * used + i] = shared ? table[i] : order[next++];
    }
  }
  const fill = (Dx: number) => {
    const pool = roundTo(randn(rng, N * Hkv * bs * Dx), dtype);
    const read = new Uint8Array(N * bs);
    for (let b = 0; b < B; b++)
      for (let t = 0; t < T; t++) read[table[b * used + Math.floor(t / bs)] * bs + (t % bs)] = 1;
    for (let i = 0; i < pool.length; i++) {
      const [n, , s] = unravel(i, [N, Hkv, bs, Dx]);
      if (!read[n * bs + s]) pool[i] = Number.NaN;
    }
    const dense = new Float64Array(B * Hkv * T * Dx);
    for (let b = 0; b < B; b++)
      for (let h = 0; h < Hkv; h++)
        for (let t = 0; t < T; t++)
          for (let d = 0; d < Dx; d++) {
            const n = table[b * used + Math.floor(t / bs)];
            dense[ravel([b, h, t, d], [B, Hkv, T, Dx])] = pool[ravel([n, h, t % bs, d], [N, Hkv, bs, Dx])];
          }
    return { pool, dense };
  };
  const k = fill(D);
  const v = fill(Dv);
  return { N, table, used, kPool: k.pool, vPool: v.pool, kDense: k.dense, vDense: v.dense };
}

/** The pool [N, H, bs, D] holding `values` in `layout` on `device`. */
export function poolTensor(
  values: Float64Array,
  shape: number[],
  dtype: DType,
  layout: PoolLayout,
  device: string,
): Tensor {
  const [N, H, bs, D] = shape;
  if (layout === 'contiguous') return makeTensor(values, shape, dtype, 'contiguous', device);
  if (layout === 'strided') return makeTensor(values, shape, dtype, 'strided', device);
  if (layout === 'offset') {
    // Blocks 1..N of a pool of N + 1 (block 0 all NaN): a view with a storage offset.
    const wide = new Float64Array((N + 1) * H * bs * D).fill(Number.NaN);
    wide.set(values, H * bs * D);
    const base = makeTensor(wide, [N + 1, H, bs, D], dtype, 'contiguous', device);
    const t = base.slice(0, 1, N + 1);
    base.dispose();
    return t;
  }
  const headMajor = layout === 'head-major';
  const storedShape = headMajor ? [H, N, bs, D] : [N, bs, H, D];
  const stored = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const [n, h, s, d] = unravel(i, shape);
    stored[ravel(headMajor ? [h, n, s, d] : [n, s, h, d], storedShape)] = values[i];
  }
  const base = makeTensor(stored, storedShape, dtype, 'contiguous', device);
  const t = base.permute(headMajor ? [1, 0, 2, 3] : [0, 2, 1, 3]);
  base.dispose();
  return t;
}

/** The block table as i32 [B, used + 2] whose first `used` columns are the table (spare columns hold -1). */
export function tableTensor(table: Int32Array, B: number, used: number, device: string): Tensor {
  const wide = new Int32Array(B * (used + 2)).fill(-1);
  for (let b = 0; b < B; b++) wide.set(table.subarray(b * used, (b + 1) * used), b * (used + 2));
  return fromStorageArray(wide, [B, used + 2], 'i32', device);
}

/** A random bool mask of `shape` over T keys with at least one visible key per row. */
export function randomMask(rng: Rng, shape: number[], T: number): Uint8Array {
  const n = shape.reduce((a, x) => a * x, 1);
  const m = Uint8Array.from({ length: n }, () => (rng() < 0.5 ? 1 : 0));
  for (let r = 0; r < n / T; r++) m[r * T + T - 1] = 1;
  return m;
}
