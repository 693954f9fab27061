import {
  add,
  CpuBackend,
  getBackend,
  linear,
  quantizeInt4Group,
  quantLinear,
  setDefaultBackend,
  type Tensor,
  tensor,
} from '@hasten/core-tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAddon } from './addon';
import { NATIVE_BACKEND } from './backend';
import { cpuKernelsInfo } from './info';
import { configureCpuKernels } from './options';
import { isCpuAddonAvailable, registerCpuNative } from './register';
import { errorBound, firstMismatch, mulberry32, referenceProduct, uniform } from './test-utils';

const load = loadAddon();
if (!load.addon) console.warn(`kernels-cpu backend tests skipped: ${load.reason}`);

describe.skipIf(!load.addon)("the 'cpu-native' backend", () => {
  const rng = mulberry32(42);
  registerCpuNative();
  afterAll(() => setDefaultBackend('cpu'));

  const on = (v: Float32Array, shape: number[]): Tensor => tensor(v, shape, { device: NATIVE_BACKEND });

  it('is registered once; a second registration throws', () => {
    expect(isCpuAddonAvailable()).toBe(true);
    expect(getBackend(NATIVE_BACKEND).name).toBe(NATIVE_BACKEND);
    // Host memory like 'cpu': code that writes tensors in place (KV caches, quantize) accepts it.
    expect(getBackend(NATIVE_BACKEND)).toBeInstanceOf(CpuBackend);
    expect(() => registerCpuNative()).toThrow(/already registered/);
  });

  it('quantLinear on [2, 3, K] x with bias matches the reference product plus bias', async () => {
    const [n, k, m] = [45, 200, 6];
    const wv = uniform(rng, n * k);
    const qw = quantizeInt4Group(wv, [n, k], { groupSize: 64, symmetric: false });
    const x = uniform(rng, m * k);
    const b = uniform(rng, n);
    const y = quantLinear(on(x, [2, 3, k]), qw, on(b, [n]));
    expect(y.shape).toEqual([2, 3, n]);
    expect(y.device).toBe(NATIVE_BACKEND);
    const ref = await referenceProduct(qw, x, m);
    for (let i = 0; i < ref.length; i++) ref[i] += b[i % n];
    const bound = errorBound(
      Float64Array.from({ length: n * k }, () => 1),
      x,
      m,
      n,
      k,
    ); // |w| <= 1
    expect(firstMismatch(await y.data(), ref, bound)).toBe(-1);
  });

  it('linear (f32) takes the native path up to 8 rows and the WebAssembly GEMM above; both match', async () => {
    const [n, k] = [33, 130];
    const wv = uniform(rng, n * k);
    const w = on(wv, [n, k]);
    const dense = Float64Array.from(wv);
    for (const m of [1, 5, 8, 9, 20]) {
      const x = uniform(rng, m * k);
      const y = linear(on(x, [m, k]), w);
      const ref = await referenceProduct({ format: 'f32', shape: [n, k], data: wv }, x, m);
      expect(firstMismatch(await y.data(), ref, errorBound(dense, x, m, n, k)), `m = ${m}`).toBe(-1);
    }
  });

  it('every other op runs the cpu kernel on this backend', async () => {
    const a = on(Float32Array.from([1, 2, 3]), [3]);
    const b = on(Float32Array.from([10, 20, 30]), [3]);
    const c = add(a, b);
    expect(c.device).toBe(NATIVE_BACKEND);
    expect(Array.from(await c.data())).toEqual([11, 22, 33]);
  });

  it('reports what it runs and validates its settings', () => {
    const info = cpuKernelsInfo();
    expect(info.available).toBe(true);
    expect(info.isas).toContain(info.isa);
    configureCpuKernels({ isa: 'scalar', threads: 1 });
    expect(cpuKernelsInfo()).toMatchObject({ isa: 'scalar', isaForced: true, threads: 1 });
    configureCpuKernels({ isa: 'auto', threads: 'auto' });
    expect(cpuKernelsInfo().threads).toBe('auto');
    configureCpuKernels({ threads: 1 });
    expect(cpuKernelsInfo().isa).toBe(load.addon?.info().best);
    expect(() => configureCpuKernels({ threads: 4 as 2 })).toThrow(/threads/);
    expect(() => configureCpuKernels({ isa: 'neon' as 'avx2' })).toThrow(/isa/);
    expect(() => configureCpuKernels({ spin: true } as object)).toThrow(/spin/);
  });
});
