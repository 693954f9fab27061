/**
 * The webgpu kernels against the 'reference' backend on fresh seeded random inputs: several shapes,
 * sizes that are not multiples of the tile or workgroup, transposed / permuted / sliced views,
 * broadcasting and batching. Shapes stay small (<= 128) because SwiftShader runs shaders on the CPU.
 *
 * Tolerances (f32, unit roundoff u = 2^-24):
 * - add, sub, mul: exact. WGSL rounds them correctly, and so does the reference (f64, then f32).
 * - matmul: |got - ref| <= gamma_K * (|A| |B|)_ij + u |ref|, gamma_K = K u / (1 - K u): the
 *   standard bound for a K-term f32 dot product in any summation order, plus the reference's rounding.
 * - softmax: relative 2e-5 (WGSL's exp is accurate to 3 + 2|x| ulp, plus the f32 sum over <= 128
 *   terms and the division), plus 2^-126 because WGSL may flush subnormal results to zero;
 *   logSoftmax: 1e-6 + 4u (|ref| + max|x|), a few ulps of the largest magnitude in x - max - log sum.
 */
import {
  abs,
  add,
  DTYPES,
  type DType,
  linear,
  logSoftmax,
  matmul,
  mul,
  scopeAsync,
  sizeOf,
  softmax,
  sub,
  type Tensor,
  tensor,
} from '@hasten/core-tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerNodeWebGpu } from './node';
import { expectClose, maxAbsDiff, onBoth, randomValues } from './testing';

type View = (t: Tensor) => Tensor;
const same: View = (t) => t;
const U = 2 ** -24;
/** WGSL may flush subnormal f32 results to zero (SwiftShader does). */
const F32_MIN_NORMAL = 2 ** -126;

beforeAll(async () => {
  // Throws "no WebGPU adapter: <the missing setup step>" and fails every test here (never skips).
  await registerNodeWebGpu();
});

describe('matmul', () => {
  const cases: { name: string; a: number[]; b: number[]; va?: View; vb?: View }[] = [
    { name: '1x1 @ 1x1', a: [1, 1], b: [1, 1] },
    { name: 'smaller than one tile', a: [5, 7], b: [7, 3] },
    { name: 'M, K, N not multiples of 16', a: [17, 33], b: [33, 19] },
    { name: 'several tiles', a: [64, 128], b: [128, 48] },
    { name: 'M = 1 (decode)', a: [1, 100], b: [100, 70] },
    { name: 'transposed weight (Linear layout [N, K])', a: [9, 40], b: [24, 40], vb: (t) => t.transpose() },
    {
      name: 'both operands transposed',
      a: [21, 13],
      b: [18, 21],
      va: (t) => t.transpose(),
      vb: (t) => t.transpose(),
    },
    { name: 'batched', a: [3, 20, 30], b: [3, 30, 10] },
    { name: 'broadcast batch dims', a: [2, 1, 9, 17], b: [4, 17, 5] },
    { name: 'rank 2 @ batched', a: [7, 11], b: [5, 11, 6] },
    {
      name: 'attention heads: permuted q @ permuted k^T',
      a: [2, 6, 3, 8],
      b: [2, 6, 3, 8],
      va: (t) => t.permute([0, 2, 1, 3]),
      vb: (t) => t.permute([0, 2, 3, 1]),
    },
    {
      name: 'sliced views with offset and step',
      a: [40, 12],
      b: [12, 30],
      va: (t) => t.slice(0, 3, 37, 2),
      vb: (t) => t.slice(1, 5, 29),
    },
    { name: 'K = 0 gives zeros', a: [3, 0], b: [0, 4] },
  ];
  it.each(cases.map((c, i) => ({ ...c, seed: 100 + i })))(
    '$name',
    async ({ a, b, va = same, vb = same, seed }) => {
      await scopeAsync(async () => {
        const A = await onBoth(randomValues(seed, sizeOf(a)), a);
        const B = await onBoth(randomValues(seed + 50, sizeOf(b)), b);
        const want = matmul(va(A.ref), vb(B.ref));
        const got = matmul(va(A.gpu), vb(B.gpu));
        expect(got.device).toBe('webgpu');
        expect(got.shape).toEqual(want.shape);
        const k = va(A.ref).shape.at(-1)!;
        const gamma = (k * U) / (1 - k * U);
        const bound = await matmul(abs(va(A.ref)), abs(vb(B.ref))).data();
        const w = await want.data();
        expectClose(await got.data(), w, (i) => gamma * bound[i] + U * Math.abs(w[i]), 'matmul');
      });
    },
  );
  it('linear: x @ w^T + bias, the model layer (a transposed-weight matmul, then a broadcast add)', async () => {
    await scopeAsync(async () => {
      const X = await onBoth(randomValues(150, 2 * 5 * 24), [2, 5, 24]);
      const W = await onBoth(randomValues(151, 40 * 24), [40, 24]);
      const Bias = await onBoth(randomValues(152, 40), [40]);
      const got = linear(X.gpu, W.gpu, Bias.gpu);
      expect(got.device).toBe('webgpu');
      const want = await linear(X.ref, W.ref, Bias.ref).data();
      // K = 24 terms plus the bias, all of magnitude <= 1: gamma_25 * 25 bounds the error.
      expectClose(await got.data(), want, () => 25 * ((25 * U) / (1 - 25 * U)) + U * 26, 'linear');
    });
  });
});

describe('add, sub, mul (exact)', () => {
  const cases: { name: string; a: number[]; b: number[]; va?: View }[] = [
    { name: 'same shape', a: [7, 13], b: [7, 13] },
    { name: 'broadcast both ways', a: [4, 1, 5], b: [3, 1] },
    { name: 'bias row over a batch', a: [6, 100], b: [100] },
    { name: 'scalar tensor operand', a: [5, 3], b: [] },
    { name: 'rank 0', a: [], b: [] },
    { name: 'transposed view + contiguous', a: [11, 9], b: [9, 11], va: (t) => t.transpose() },
    { name: 'sliced view with step', a: [20, 8], b: [8], va: (t) => t.slice(0, 1, 19, 3) },
    { name: 'empty', a: [0, 3], b: [3] },
  ];
  const ops = { add, sub, mul };
  for (const [name, op] of Object.entries(ops)) {
    it.each(cases.map((c, i) => ({ ...c, seed: 200 + i })))(
      `${name}: $name`,
      async ({ a, b, va = same, seed }) => {
        await scopeAsync(async () => {
          const A = await onBoth(randomValues(seed, sizeOf(a)), a);
          const B = await onBoth(randomValues(seed + 50, sizeOf(b)), b);
          const got = op(va(A.gpu), B.gpu);
          expect(got.device).toBe('webgpu');
          expect(got.shape).toEqual(op(va(A.ref), B.ref).shape);
          expect(await got.data()).toEqual(await op(va(A.ref), B.ref).data());
        });
      },
    );
  }

  it('takes a JS number operand (uploaded as a rank-0 tensor on the webgpu backend)', async () => {
    await scopeAsync(async () => {
      const A = await onBoth(randomValues(7, 30), [5, 6]);
      expect(await mul(A.gpu, 0.3).data()).toEqual(await mul(A.ref, 0.3).data());
    });
  });
});

describe('softmax and logSoftmax', () => {
  const cases: { name: string; shape: number[]; axis?: number; scale?: number; view?: View }[] = [
    { name: 'one element', shape: [1, 1] },
    { name: 'rows shorter than the workgroup', shape: [3, 5] },
    { name: 'rows longer than the 64-thread workgroup', shape: [4, 100] },
    { name: 'batched 3-D rows of 128', shape: [2, 3, 128] },
    { name: 'logits up to ±100 (exp overflows f32 without the max subtraction)', shape: [5, 40], scale: 100 },
    { name: 'first axis', shape: [37, 6], axis: 0 },
    { name: 'middle axis', shape: [3, 17, 4], axis: 1 },
    { name: 'transposed view', shape: [12, 20], view: (t) => t.transpose() },
    { name: 'sliced view with step', shape: [10, 50], view: (t) => t.slice(1, 3, 47, 2) },
  ];
  it.each(cases.map((c, i) => ({ ...c, seed: 300 + i })))(
    '$name',
    async ({ shape, axis = -1, scale = 4, view = same, seed }) => {
      await scopeAsync(async () => {
        const X = await onBoth(randomValues(seed, sizeOf(shape), scale), shape);
        const p = softmax(view(X.gpu), axis);
        expect(p.device).toBe('webgpu');
        const pw = await softmax(view(X.ref), axis).data();
        expectClose(await p.data(), pw, (i) => 2e-5 * pw[i] + F32_MIN_NORMAL, 'softmax');
        const l = logSoftmax(view(X.gpu), axis);
        const lw = await logSoftmax(view(X.ref), axis).data();
        expectClose(await l.data(), lw, (i) => 1e-6 + 4 * U * (Math.abs(lw[i]) + scale), 'logSoftmax');
      });
    },
  );
});

describe('copy (contiguous / reading views back), every dtype, bit-exact', () => {
  const views: [string, number[], View][] = [
    ['transpose', [5, 7], (t) => t.transpose()],
    ['3-D permute', [3, 4, 5], (t) => t.permute([2, 0, 1])],
    ['slice with step and odd offset', [9, 7], (t) => t.slice(1, 1, 7, 2)],
    ['expand (stride 0)', [3, 1], (t) => t.expand([2, 3, 5])],
    ['contiguous slice at an odd offset', [11], (t) => t.slice(0, 3, 10)],
  ];
  const valuesFor = (dtype: DType, seed: number, n: number) => {
    const r = randomValues(seed, n, dtype === 'f32' || dtype === 'f16' || dtype === 'bf16' ? 3 : 120);
    return dtype === 'bool'
      ? r.map((x) => +(x > 0))
      : dtype.startsWith('f') || dtype === 'bf16'
        ? r
        : r.map(Math.trunc);
  };
  for (const dtype of DTYPES) {
    it.each(views.map(([name, shape, view], i) => ({ name, shape, view, seed: 400 + i })))(
      `${dtype}: $name`,
      async ({ shape, view, seed }) => {
        await scopeAsync(async () => {
          const T = await onBoth(valuesFor(dtype, seed, sizeOf(shape)), shape, dtype);
          const c = view(T.gpu).contiguous();
          expect(c.device).toBe('webgpu');
          expect(c.isContiguous()).toBe(true);
          expect(await c.raw()).toEqual(await view(T.ref).raw());
          expect(await view(T.gpu).data()).toEqual(await view(T.ref).data());
        });
      },
    );
  }

  it('moves every dtype to the GPU and back unchanged, including sizes that are not whole 4-byte words', async () => {
    await scopeAsync(async () => {
      for (const dtype of DTYPES) {
        for (const n of [1, 3, 5]) {
          const ref = tensor(valuesFor(dtype, 500 + n, n), [n], { dtype, device: 'reference' });
          const back = await (await ref.to('webgpu')).to('reference');
          expect(await back.raw(), `${dtype} x ${n}`).toEqual(await ref.raw());
        }
      }
    });
  });

  it('reports the error it measures against (sanity: the matmul tolerance is far below a wrong answer)', async () => {
    await scopeAsync(async () => {
      const A = await onBoth(randomValues(9, 64 * 64), [64, 64]);
      const got = await matmul(A.gpu, A.gpu.transpose()).data();
      const want = await matmul(A.ref, A.ref.transpose()).data();
      const err = maxAbsDiff(got, want);
      // 64-term dot products of values in [-1, 1]: gamma_64 * 64 ~ 2.4e-4 is the worst-case bound.
      expect(err).toBeLessThan(2.5e-4);
      expect(err).toBeLessThan(Math.min(...Array.from(want, Math.abs).filter((x) => x > 0.1)));
    });
  });
});
