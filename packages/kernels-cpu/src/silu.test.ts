/**
 * The native silu ('cpu-native') against core-tensor's float64 reference kernel on fresh seeded
 * inputs: values over [-30, 30] (both branches of the stable sigmoid, saturation at both ends), zeros,
 * ±Inf and NaN, contiguous views at an offset, and the fallback for a strided view. The native
 * kernel computes in f32 (exp(-|x|) then one division), so each output is within a few f32 ulps of
 * the reference's rounded result: we allow 4 · 2^-24 · |ref| + 1e-30.
 */
import { setDefaultBackend, silu, tensor } from '@hasten/core-tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAddon } from './addon';
import { NATIVE_BACKEND } from './backend';
import { registerCpuNative } from './register';
import { mulberry32, uniform } from './test-utils';

const load = loadAddon();
if (!load.addon) console.warn(`kernels-cpu silu tests skipped: ${load.reason}`);

describe.skipIf(!load.addon)("'cpu-native' silu", () => {
  registerCpuNative();
  afterAll(() => setDefaultBackend('cpu'));

  function expectClose(got: Float32Array, ref: Float32Array) {
    for (let i = 0; i < ref.length; i++) {
      if (Number.isNaN(ref[i])) expect(got[i], `index ${i}`).toBeNaN();
      else if (!Number.isFinite(ref[i])) expect(got[i], `index ${i}`).toBe(ref[i]);
      else
        expect(Math.abs(got[i] - ref[i]), `index ${i}: ${got[i]} vs ${ref[i]}`).toBeLessThanOrEqual(
          4 * 2 ** -24 * Math.abs(ref[i]) + 1e-30,
        );
    }
  }

  it('matches the float64 reference, including 0, ±Inf and NaN', async () => {
    const v = uniform(mulberry32(3), 3 * 704, 30);
    v.set([0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, 1e-30, -1e-30, 88, -88], 0);
    const run = (device: string) => silu(tensor(v, [3, 1, 704], { device })).data() as Promise<Float32Array>;
    const ref = await run('reference');
    const got = await run(NATIVE_BACKEND);
    expectClose(got, ref);
    expect(Math.max(...ref.subarray(10))).toBeGreaterThan(20); // the values span both branches
    expect(Math.min(...ref.subarray(10))).toBeLessThan(-0.2);
  });

  it('reads a contiguous view at an offset, and falls back for a strided one', async () => {
    const v = uniform(mulberry32(4), 6 * 8, 6);
    for (const view of [
      (t: ReturnType<typeof tensor>) => t.slice(0, 2, 5),
      (t: ReturnType<typeof tensor>) => t.transpose(),
    ]) {
      const run = (device: string) =>
        silu(view(tensor(v, [6, 8], { device }))).data() as Promise<Float32Array>;
      expectClose(await run(NATIVE_BACKEND), await run('reference'));
    }
  });
});
