/**
 * The fast f32 paged attention ('cpu') against the reference kernel ('reference') on fresh seeded
 * inputs: scattered and shared blocks, block sizes 1, 3, 4, 16 (partial last blocks), NaN in every
 * slot no row may read, GQA ratios 1/2/4, decode and chunked prefill, tree and padding masks, and
 * pools held head-major (@hasten/kv's), token-major (vLLM v1's [blocks, blockSize, heads, D]) or at
 * an offset.
 *
 * Tolerance as sdpa's fast kernel: both accumulate in float64 and round once to f32, in a different
 * order: 2^-22 · (|ref| + max|v|). And the claim of fast.ts: on the same values, paged attention on
 * 'cpu' equals sdpa on 'cpu' over the dense keys bit for bit.
 */
import { describe, expect, it } from 'vitest';
import { fromStorageArray } from '../../creation';
import type { DType } from '../../dtype';
import { sdpa } from '../../index';
import { makeTensor, mulberry32, randn, roundTo } from '../../test-utils';
import { bitMismatch, expectAttentionClose, expectCpuKernel, GQA_HEADS } from '../fast-testing';
import { pagedSdpaFast } from './fast';
import { pagedSdpa } from './paged-sdpa';
import { type PagedCase, type PoolLayout, poolTensor, randomMask, randomPaged, tableTensor } from './testing';

const rng = mulberry32(5_2026_09);
const POOL_LAYOUTS: PoolLayout[] = ['contiguous', 'head-major', 'token-major', 'offset', 'strided'];

async function compare(c: PagedCase, n: number, dtype: DType = 'f32'): Promise<void> {
  const { B, Hq, Hkv, S, T, D, Dv, blockSize } = c;
  const layout = POOL_LAYOUTS[n % POOL_LAYOUTS.length];
  const p = randomPaged(rng, c, dtype);
  const qv = roundTo(randn(rng, B * Hq * S * D), dtype);
  const m = c.mask ? randomMask(rng, c.mask, T) : null;
  const run = (device: string) => {
    const q = makeTensor(qv, [B, Hq, S, D], dtype, 'contiguous', device);
    const keys = poolTensor(p.kPool, [p.N, Hkv, blockSize, D], dtype, layout, device);
    const values = poolTensor(p.vPool, [p.N, Hkv, blockSize, Dv], dtype, layout, device);
    const blockTable = tableTensor(p.table, B, p.used, device);
    const mask = m ? fromStorageArray(m.slice(), c.mask!, 'bool', device) : undefined;
    return pagedSdpa(q, { keys, values, blockTable, length: T }, { causal: c.causal, mask, scale: c.scale });
  };
  const got = run('cpu');
  const want = run('reference');
  const label = `${dtype} ${layout} ${JSON.stringify(c)}`;
  if (dtype !== 'f32' || layout === 'strided') {
    expect(await bitMismatch(got, want), `${label} (reference fallback)`).toBeNull();
    return;
  }
  const vmax = p.vDense.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
  await expectAttentionClose(got, want, vmax, label);
  const g = await got.data();
  // The same values as one dense cache per row: sdpa's fast kernel gives the same bits.
  const dense = sdpa(
    makeTensor(qv, [B, Hq, S, D], dtype, 'contiguous', 'cpu'),
    makeTensor(p.kDense, [B, Hkv, T, D], dtype, 'contiguous', 'cpu'),
    makeTensor(p.vDense, [B, Hkv, T, Dv], dtype, 'contiguous', 'cpu'),
    {
      causal: c.causal,
      scale: c.scale,
      mask: m ? fromStorageArray(m.slice(), c.mask!, 'bool', 'cpu') : undefined,
    },
  );
  const g2 = await dense.data();
  const bad = g.findIndex((x, i) => !Object.is(x, g2[i]));
  expect(bad, `${label}: paged and dense sdpa on cpu differ at ${bad}`).toBe(-1);
}

describe('pagedSdpa fast kernel vs reference', () => {
  it('is the cpu kernel', () => expectCpuKernel('pagedSdpa', pagedSdpaFast));

  it('decode and prefill, GQA 1/2/4, block sizes 1/3/4/16, scattered and shared blocks', async () => {
    let n = 0;
    for (const [Hq, Hkv] of GQA_HEADS) {
      for (const [S, T] of [
        [1, 1],
        [1, 37],
        [5, 5],
        [3, 22],
      ]) {
        for (const blockSize of [1, 3, 4, 16]) {
          const D = n % 2 ? 32 : 5;
          await compare({ B: 3, Hq, Hkv, S, T, D, Dv: D === 5 ? 7 : D, blockSize, causal: true }, n++);
          await compare({ B: 2, Hq, Hkv, S, T, D, Dv: D, blockSize }, n++);
        }
      }
    }
  });

  it('tree and padding masks, with and without causal', async () => {
    const masks: [number, number, number[]][] = [
      [4, 9, [4, 9]],
      [3, 10, [2, 1, 3, 10]],
      [5, 7, [1, 4, 5, 7]],
      [2, 6, [2, 4, 2, 6]],
      [1, 19, [2, 1, 1, 19]],
    ];
    let n = 0;
    for (const [S, T, mask] of masks) {
      for (const causal of [false, true]) {
        await compare({ B: 2, Hq: 4, Hkv: 2, S, T, D: 8, Dv: 8, blockSize: 4, causal, mask }, n++);
        await compare({ B: 2, Hq: 4, Hkv: 1, S, T, D: 6, Dv: 3, blockSize: 3, causal, mask }, n++);
      }
    }
  });

  it('large scores stay stable; custom scale; zero keys', async () => {
    await compare(
      { B: 1, Hq: 4, Hkv: 2, S: 3, T: 17, D: 16, Dv: 16, blockSize: 4, causal: true, scale: 40 },
      0,
    );
    await compare({ B: 2, Hq: 2, Hkv: 2, S: 2, T: 5, D: 4, Dv: 4, blockSize: 2, scale: 1e-3 }, 1);
    await compare({ B: 2, Hq: 2, Hkv: 1, S: 2, T: 0, D: 4, Dv: 4, blockSize: 4 }, 2);
  });

  it('f16 and bf16 go to the reference kernel', async () => {
    await compare({ B: 1, Hq: 4, Hkv: 2, S: 2, T: 6, D: 8, Dv: 8, blockSize: 4, causal: true }, 0, 'f16');
    await compare({ B: 2, Hq: 2, Hkv: 1, S: 1, T: 6, D: 8, Dv: 8, blockSize: 4, mask: [1, 6] }, 1, 'bf16');
  });
});
