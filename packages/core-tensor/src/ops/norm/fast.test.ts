/**
 * The fast f32 RMSNorm ('cpu') against the reference kernel ('reference') on fresh seeded inputs in
 * every layout, with contiguous and strided weights. Both compute the same float64 expression in the
 * same order and round once, so the results must be equal bit for bit.
 */
import { describe, expect, it } from 'vitest';
import { rmsnorm } from '../../index';
import { sizeOf } from '../../shape';
import { mulberry32, randn, roundTo } from '../../test-utils';
import { bitMismatch, expectCpuKernel, FAST_LAYOUTS, onBoth } from '../fast-testing';
import { rmsnormFast } from './fast';

const rng = mulberry32(31_337);

describe('rmsnorm fast kernel vs reference', () => {
  it('is the cpu kernel', () => expectCpuKernel('rmsnorm', rmsnormFast));

  it('equals the reference bit for bit: shapes, layouts, strided weights, eps', async () => {
    let n = 0;
    for (const shape of [[7], [3, 33], [2, 3, 128], [1, 1, 128], [2, 2, 3, 8]]) {
      for (const eps of [1e-5, 0]) {
        const layout = FAST_LAYOUTS[n % (shape.length === 4 ? 5 : 3)];
        const x = onBoth(randn(rng, sizeOf(shape), 3), shape, 'f32', layout);
        const d = shape[shape.length - 1];
        const w = onBoth(randn(rng, d), [d], 'f32', n % 2 ? 'strided' : 'contiguous');
        expect(
          await bitMismatch(rmsnorm(x.cpu, w.cpu, eps), rmsnorm(x.ref, w.ref, eps)),
          `[${shape}] ${layout} eps ${eps}`,
        ).toBeNull();
        n++;
      }
    }
  });

  it('a zero row with eps 0 gives NaN on both; f16 and bf16 go to the reference', async () => {
    const x = onBoth([0, 0, 0, 1, 2, 3], [2, 3]);
    const w = onBoth([1, 1, 1], [3]);
    expect(await bitMismatch(rmsnorm(x.cpu, w.cpu, 0), rmsnorm(x.ref, w.ref, 0)), 'zero row').toBeNull();
    for (const dtype of ['f16', 'bf16'] as const) {
      const h = onBoth(roundTo(randn(rng, 24), dtype), [4, 6], dtype, 'permuted');
      const hw = onBoth(roundTo(randn(rng, 6), dtype), [6], dtype);
      expect(await bitMismatch(rmsnorm(h.cpu, hw.cpu), rmsnorm(h.ref, hw.ref)), dtype).toBeNull();
    }
  });
});
