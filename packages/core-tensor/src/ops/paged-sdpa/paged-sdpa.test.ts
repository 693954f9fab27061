/**
 * pagedSdpa's definition: on the 'reference' backend it equals the attention formula written out
 * here in float64 over the keys and values each row reads (gathered by the test from the pool and
 * the block table), for scattered and shared blocks, GQA, causal offsets, masks, every block size.
 * Plus the op's argument checks.
 */
import { describe, expect, it } from 'vitest';
import { fromStorageArray } from '../../creation';
import { tensor } from '../../index';
import { expectClose, makeTensor, mulberry32, randn, ravel } from '../../test-utils';
import { pagedSdpa } from './paged-sdpa';
import { type PagedCase, poolTensor, randomMask, randomPaged, tableTensor } from './testing';

const rng = mulberry32(9_2026);

/** softmax(q·kᵀ · scale, causal/masked) · v per (b, h, i), in float64. */
function expected(q: Float64Array, k: Float64Array, v: Float64Array, mask: Uint8Array | null, c: PagedCase) {
  const { B, Hq, Hkv, S, T, D, Dv } = c;
  const scale = c.scale ?? 1 / Math.sqrt(D);
  const out: number[] = [];
  for (let b = 0; b < B; b++)
    for (let h = 0; h < Hq; h++) {
      const g = Math.floor(h / (Hq / Hkv));
      for (let i = 0; i < S; i++) {
        const s = Array.from({ length: T }, (_, j) => {
          const idx = [b, h, i, j];
          const m = c.mask;
          const maskOk =
            !mask ||
            !m ||
            mask[
              ravel(
                m.map((d, ax) => (d === 1 ? 0 : idx[ax + 4 - m.length])),
                m,
              )
            ];
          if ((c.causal && j > T - S + i) || !maskOk) return -Infinity;
          let dot = 0;
          for (let d = 0; d < D; d++)
            dot += q[((b * Hq + h) * S + i) * D + d] * k[((b * Hkv + g) * T + j) * D + d];
          return dot * scale;
        });
        const max = Math.max(...s);
        if (max === -Infinity) {
          for (let d = 0; d < Dv; d++) out.push(0); // attends to nothing: zero
          continue;
        }
        const e = s.map((x) => Math.exp(x - max));
        const z = e.reduce((a, x) => a + x, 0);
        for (let d = 0; d < Dv; d++)
          out.push(e.reduce((a, p, j) => a + (p / z) * v[((b * Hkv + g) * T + j) * Dv + d], 0));
      }
    }
  return out;
}

const CASES: PagedCase[] = [
  { B: 1, Hq: 2, Hkv: 2, S: 1, T: 9, D: 8, Dv: 8, blockSize: 4, causal: true }, // decode
  { B: 3, Hq: 4, Hkv: 2, S: 3, T: 13, D: 8, Dv: 6, blockSize: 4, causal: true }, // chunked prefill, shared blocks
  { B: 2, Hq: 6, Hkv: 1, S: 2, T: 7, D: 4, Dv: 4, blockSize: 3, causal: true }, // MQA, odd block size
  { B: 2, Hq: 2, Hkv: 2, S: 4, T: 4, D: 5, Dv: 3, blockSize: 1 }, // token-granular blocks
  { B: 2, Hq: 4, Hkv: 2, S: 3, T: 10, D: 4, Dv: 4, blockSize: 16, mask: [3, 10] }, // one partial block
  { B: 2, Hq: 4, Hkv: 2, S: 2, T: 6, D: 4, Dv: 4, blockSize: 2, mask: [2, 1, 1, 6], causal: true }, // padding
  { B: 1, Hq: 2, Hkv: 1, S: 2, T: 5, D: 4, Dv: 4, blockSize: 2, scale: 0.3, mask: [1, 2, 2, 5] },
];

describe('pagedSdpa (reference backend)', () => {
  it.each(CASES.map((c, i) => [i, c] as const))(
    'case %i equals the attention formula over the gathered keys',
    async (_, c) => {
      const { B, Hq, Hkv, S, T, D, Dv, blockSize } = c;
      const p = randomPaged(rng, c);
      const qv = randn(rng, B * Hq * S * D);
      const q = makeTensor(qv, [B, Hq, S, D], 'f32', 'contiguous', 'reference');
      const keys = poolTensor(p.kPool, [p.N, Hkv, blockSize, D], 'f32', 'contiguous', 'reference');
      const values = poolTensor(p.vPool, [p.N, Hkv, blockSize, Dv], 'f32', 'contiguous', 'reference');
      const blockTable = tableTensor(p.table, B, p.used, 'reference');
      const m = c.mask ? randomMask(rng, c.mask, T) : null;
      const mask = m ? fromStorageArray(m, c.mask!, 'bool', 'reference') : undefined;
      const out = pagedSdpa(
        q,
        { keys, values, blockTable, length: T },
        { causal: c.causal, mask, scale: c.scale },
      );
      expect(out.shape).toEqual([B, Hq, S, Dv]);
      const f32 = (x: Float64Array) => Float64Array.from(x, Math.fround);
      expectClose(await out.data(), expected(f32(qv), p.kDense, p.vDense, m, c), 2e-6, 2e-6);
    },
  );

  it('rejects bad arguments with clear errors', () => {
    const q = tensor(new Array(1 * 2 * 1 * 4).fill(0), [1, 2, 1, 4]);
    const pool = tensor(new Array(3 * 2 * 2 * 4).fill(0), [3, 2, 2, 4]);
    const table = fromStorageArray(new Int32Array([0, 2]), [1, 2], 'i32');
    const kv = { keys: pool, values: pool, blockTable: table, length: 3 };
    expect(pagedSdpa(q, kv).shape).toEqual([1, 2, 1, 4]);
    expect(() => pagedSdpa(q, { ...kv, length: 5 })).toThrow(/length must be an integer in \[0, 4\]/);
    expect(() => pagedSdpa(q, { ...kv, blockTable: tensor([0, 1], [1, 2]) })).toThrow(
      /blockTable .* has dtype f32; expected i32/,
    );
    const twoRows = fromStorageArray(new Int32Array([0, 1, 1, 2]), [2, 2], 'i32');
    expect(() => pagedSdpa(q, { ...kv, blockTable: twoRows })).toThrow(/one row per batch row \(1\)/);
    const q3 = tensor(new Array(3 * 4).fill(0), [1, 3, 1, 4]);
    expect(() => pagedSdpa(q3, kv)).toThrow(/query heads \(3\) must be a multiple of key\/value heads \(2\)/);
    const q2 = tensor(new Array(2 * 4 * 4).fill(0), [1, 2, 4, 4]);
    expect(() => pagedSdpa(q2, kv, { causal: true })).toThrow(/S=4 <= length=3/);
    expect(() => pagedSdpa(q, kv, { causal: true, window: 2 } as never)).toThrow(/window/);
    expect(() => pagedSdpa(q, { keys: pool } as never)).toThrow(
      /kv must be \{ keys, values, blockTable, length \}/,
    );
    const outside = fromStorageArray(new Int32Array([0, 7]), [1, 2], 'i32');
    expect(() => pagedSdpa(q, { ...kv, blockTable: outside })).toThrow(
      /blockTable\[0, 1\] = 7 is not a block of the pool \[0, 3\)/,
    );
    const badMask = fromStorageArray(new Uint8Array(4), [1, 4], 'bool');
    expect(() => pagedSdpa(q, kv, { mask: badMask })).toThrow(
      /cannot broadcast shapes \[1, 4\] and \[1, 2, 1, 3\]/,
    );
  });
});
