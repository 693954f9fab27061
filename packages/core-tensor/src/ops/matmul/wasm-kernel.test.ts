/**
 * The WebAssembly matmul ('cpu' backend) against the reference kernel ('reference' backend) on fresh
 * seeded random inputs: tile remainders (m = 1..9, k and n off the 8-column panel and the 256-row
 * K-block), transposed and strided views, broadcast batches, the packed-weight cache of `linear`,
 * and the worker-thread pool.
 *
 * Tolerance: the kernel accumulates in f32, the reference in f64. For a sum of k products, each
 * f32 result is within k * 2^-24 * sum_q |a_iq b_qj| of the exact sum (Higham, Accuracy and
 * Stability of Numerical Algorithms, 2nd ed., eq. 3.5), plus the final rounding of the reference to
 * f32 (2^-24 |c|). We allow twice that: a wrong element is off by O(sum |a b|), far beyond it.
 */
import { setFlagsFromString } from 'node:v8';
import { afterAll, describe, expect, it } from 'vitest';
import { getBackend, linear, matmul, type Tensor, tensor } from '../../index';
import { cpuThreads, disableCpuThreads, enableCpuThreads } from '../../node';
import { mulberry32, randn } from '../../test-utils';
import {
  cpuMatmulInfo,
  createGemmRuntime,
  getGemmRuntime,
  relaxedSimdSupported,
  setGemmRuntime,
} from './gemm-runtime';
import { clearPackedWeights, weightCache } from './packed-weights';

const U = 2 ** -24;
const rng = mulberry32(20240611);

function rand(shape: number[], device = 'cpu'): Tensor {
  const n = shape.reduce((x, y) => x * y, 1);
  return tensor(Float32Array.from(randn(rng, n)), shape, { device });
}

/** Compare `cpu` (an expression on cpu tensors) with the same expression on reference copies. */
async function compare(inputs: Tensor[], f: (...t: Tensor[]) => Tensor): Promise<void> {
  const refs = await Promise.all(inputs.map((t) => t.to('reference')));
  const absRefs: Tensor[] = [];
  for (const r of refs) {
    const v = await r.data();
    absRefs.push(tensor(v.map(Math.abs), [...r.shape], { device: 'reference' }));
  }
  const got = f(...inputs);
  const want = f(...refs);
  const bound = f(...absRefs); // sum_q |a_iq b_qj| per output (f64 sums, rounded to f32)
  expect(got.device).toBe('cpu');
  expect(got.shape).toEqual(want.shape);
  const [g, w, b] = await Promise.all([got.data(), want.data(), bound.data()]);
  const k = inputs[0].shape[inputs[0].rank - 1];
  for (let i = 0; i < g.length; i++) {
    const tol = 2 * (k * U * b[i] * (1 + 1e-6) + U * Math.abs(w[i])) + 1e-30;
    if (!(Math.abs(g[i] - w[i]) <= tol)) {
      throw new Error(`element ${i} of ${got.shape}: cpu ${g[i]} vs reference ${w[i]} (tolerance ${tol})`);
    }
  }
  for (const t of [...refs, ...absRefs, got, want, bound]) t.dispose();
}

const mm = (a: Tensor, b: Tensor) => matmul(a, b);
const lin = (x: Tensor, w: Tensor) => linear(x, w);

describe('matmul on the cpu backend (WebAssembly SIMD) vs the reference', () => {
  it('uses the wasm kernel for matmul on cpu', () => {
    expect(cpuMatmulInfo().variant).toMatch(/^(simd|relaxed)/);
  });

  it('matches for m = 1..9 and k, n off the tile sizes (row-major B, read in place)', async () => {
    for (let m = 1; m <= 9; m++) {
      for (const [k, n] of [
        [1, 1],
        [3, 5],
        [17, 8],
        [31, 33],
        [257, 70],
      ]) {
        await compare([rand([m, k]), rand([k, n])], mm);
      }
    }
  });

  it('matches across several K-blocks (k > 256) and row blocks (m > 256)', async () => {
    await compare([rand([6, 600]), rand([600, 41])], mm);
    await compare([rand([261, 40]), rand([40, 20])], mm);
    await compare([rand([13, 513]), rand([45, 513])], lin);
  });

  it('matches for transposed and strided views (B packed per call)', async () => {
    const m = 5;
    const k = 37;
    const n = 29;
    const wt = rand([n, k]).transpose(); // [k, n], strides [1, k]
    const aT = rand([k, m]).transpose(); // [m, k], strides [1, m]
    const aS = rand([m, 2 * k + 3]).slice(1, 3, 3 + k); // row stride 2k+3, offset 3
    const bS = rand([k, 2 * n]).slice(1, 1, 2 * n, 2); // column stride 2
    await compare([aT, wt], mm);
    await compare([aS, bS], mm);
    await compare([aS, wt], mm);
  });

  it('matches for batched and broadcast batches', async () => {
    await compare([rand([2, 1, 3, 7]), rand([3, 7, 12])], mm); // batch [2, 3]
    await compare([rand([4, 9, 16]), rand([16, 10])], mm); // B broadcast: packed once
    await compare([rand([1, 6, 11]), rand([5, 11, 3])], mm); // A broadcast
    await compare([rand([3, 2, 20]), rand([3, 9, 20]).transpose()], mm); // attention-style q @ k^T
  });

  it('linear (cached packed weight) matches, including several views of one storage', async () => {
    const w = rand([70, 300]);
    const top = w.slice(0, 0, 30);
    const bottom = w.slice(0, 30, 70);
    for (const m of [1, 4, 8, 9]) {
      const x = rand([m, 300]);
      await compare([x, w], lin);
      await compare([x, top], lin);
      await compare([x, bottom], lin);
    }
    await compare([rand([2, 3, 300]), w], lin);
  });

  it('caches only linear weights: a plain matmul sees a B written in place', async () => {
    const a = rand([2, 4]);
    const b = tensor([1, 2, 3, 4, 5, 6, 7, 8], [4, 2]);
    const before = await matmul(a, b).array();
    getBackend('cpu').write(b.storage.handle, 0, new Float32Array(8).fill(0));
    expect(await matmul(a, b).array()).toEqual([0, 0, 0, 0]);
    expect(before.some((v) => v !== 0)).toBe(true);

    const w = rand([16, 4]);
    const cache = weightCache(getGemmRuntime());
    const n0 = cache.size;
    const y1 = await linear(a, w).array();
    expect(cache.size).toBe(n0 + 1);
    expect(await linear(a, w).array()).toEqual(y1); // served from the cache
    expect(cache.size).toBe(n0 + 1);
    getBackend('cpu').write(w.storage.handle, 0, new Float32Array(64).fill(0));
    clearPackedWeights(); // the documented remedy after writing a weight in place
    expect(cache.size).toBe(0);
    expect(await linear(a, w).array()).toEqual(new Array(32).fill(0));
  });

  it('handles empty dimensions and falls back to the reference for f16', async () => {
    expect(matmul(rand([0, 3]), rand([3, 4])).shape).toEqual([0, 4]);
    expect(await matmul(rand([2, 0]), rand([0, 3])).array()).toEqual([0, 0, 0, 0, 0, 0]);
    const a = tensor([1, 2, 3, 4], [2, 2], { dtype: 'f16' });
    const b = tensor([0.5, -1, 2, 0.25], [2, 2], { dtype: 'f16' });
    expect(await matmul(a, b).array()).toEqual([4.5, -0.5, 9.5, -2]);
  });
});

describe('matmul on worker threads', () => {
  afterAll(() => disableCpuThreads());

  it('rejects a bad thread count', async () => {
    await expect(enableCpuThreads(0)).rejects.toThrow(/threads must be an integer/);
    await expect(enableCpuThreads(1.5)).rejects.toThrow(/threads must be an integer/);
  });

  it('matches the reference on 2 and 3 threads, then shuts down', async () => {
    for (const threads of [2, 3]) {
      await enableCpuThreads(threads);
      expect(cpuThreads()).toBe(threads);
      expect(cpuMatmulInfo()).toMatchObject({ threads, variant: expect.stringMatching(/Shared$/) });
      // Each is over the parallel threshold (2 m k npad >= 2^20 flops).
      await compare([rand([1, 512]), rand([1030, 512])], lin);
      await compare([rand([5, 300]), rand([300, 1001])], mm);
      await compare([rand([37, 100]), rand([100, 300])], mm);
      await compare([rand([2, 8, 64]), rand([64, 1100])], mm);
      // The caller takes every chunk when no worker is scheduled in time; repeat until the workers
      // have run some (checking each result), so their code path is certainly exercised.
      const pool = getGemmRuntime().threads!;
      const [x, w] = [rand([8, 256]), rand([2048, 256])];
      const want = await linear(await x.to('reference'), await w.to('reference')).data();
      const t0 = performance.now();
      while (pool.workerChunks === 0 && performance.now() - t0 < 10_000) {
        const got = await linear(x, w).data();
        expect(Math.max(...got.map((v, i) => Math.abs(v - want[i])))).toBeLessThan(1e-4);
      }
      expect(pool.workerChunks).toBeGreaterThan(0);

      // Back-to-back jobs of different chunk sizes: a worker that slept across the end of one job
      // must not take a chunk of the next one with the old sizes (claimChunks' job number).
      const cases = [
        [rand([8, 64]), rand([1030, 64])],
        [rand([8, 128]), rand([520, 128])],
      ];
      const wants = await Promise.all(
        cases.map(async ([x, w]) => linear(await x.to('reference'), await w.to('reference')).data()),
      );
      for (let i = 0; i < 200; i++) {
        const [x, w] = cases[i % 2];
        const got = await linear(x, w).data();
        const want = wants[i % 2];
        expect(Math.max(...got.map((v, j) => Math.abs(v - want[j])))).toBeLessThan(1e-4);
      }
    }
    await disableCpuThreads();
    expect(cpuThreads()).toBe(1);
    expect(cpuMatmulInfo().variant).not.toMatch(/Shared$/);
    await compare([rand([3, 64]), rand([64, 20])], mm);
  }, 60_000); // starting workers takes a while on a busy 2-core machine
});

describe('the relaxed-SIMD (fused multiply-add) variant', () => {
  afterAll(async () => {
    await disableCpuThreads();
    setGemmRuntime(null);
  });

  it('matches the reference on one and two threads', async (ctx) => {
    // Node 22+ and Chrome run it by default; Node 20 needs this V8 flag, set before compiling.
    if (!relaxedSimdSupported()) setFlagsFromString('--experimental-wasm-relaxed-simd');
    if (!relaxedSimdSupported()) ctx.skip();
    setGemmRuntime(createGemmRuntime({ relaxed: true }));
    expect(cpuMatmulInfo().variant).toBe('relaxed');
    for (const m of [1, 2, 3, 4, 7, 9]) await compare([rand([m, 300]), rand([300, 45])], mm);
    await compare([rand([8, 513]), rand([70, 513])], lin);
    await enableCpuThreads(2);
    expect(cpuMatmulInfo().variant).toBe('relaxedShared');
    await compare([rand([5, 300]), rand([300, 1001])], mm);
  }, 60_000);
});
