/**
 * The fast f32 SiLU ('cpu') against the reference kernel ('reference') on fresh seeded inputs in
 * every layout, plus the special values (±0, ±Inf, NaN, large magnitudes). Same float64 formula, one
 * rounding: equal bit for bit. Other unary ops and dtypes still run the reference kernel.
 */
import { describe, expect, it } from 'vitest';
import { exp, getKernel, silu } from '../../index';
import { mulberry32, randn, roundTo } from '../../test-utils';
import { bitMismatch, expectCpuKernel, FAST_LAYOUTS, onBoth } from '../fast-testing';
import { siluFast } from './fast';
import { unaryReference } from './reference';

const rng = mulberry32(99);

describe('silu fast kernel vs reference', () => {
  it('is the cpu kernel for silu only', () => {
    expectCpuKernel('silu', siluFast);
    expect(getKernel('exp', 'cpu').fn).toBe(unaryReference);
  });

  it('equals the reference bit for bit', async () => {
    let n = 0;
    for (const shape of [[352], [3, 17], [1, 1, 352], [2, 3, 2, 5], []]) {
      const layout = FAST_LAYOUTS[n++ % (shape.length === 4 ? 5 : 3)];
      const size = shape.reduce((a, b) => a * b, 1);
      const x = onBoth(randn(rng, size, 8), shape, 'f32', layout);
      expect(await bitMismatch(silu(x.cpu), silu(x.ref)), `[${shape}] ${layout}`).toBeNull();
    }
    const special = [0, -0, Infinity, -Infinity, Number.NaN, 100, -100, 1e-30, -1e-30, 88.7, -745];
    const s = onBoth(special, [special.length]);
    expect(await bitMismatch(silu(s.cpu), silu(s.ref)), 'special values').toBeNull();
  });

  it('f16 and bf16 go to the reference kernel; other ops are unchanged', async () => {
    for (const dtype of ['f16', 'bf16'] as const) {
      const x = onBoth(roundTo(randn(rng, 12, 4), dtype), [3, 4], dtype, 'strided');
      expect(await bitMismatch(silu(x.cpu), silu(x.ref)), dtype).toBeNull();
    }
    const x = onBoth(randn(rng, 12), [3, 4], 'f32', 'permuted');
    expect(await bitMismatch(exp(x.cpu), exp(x.ref)), 'exp').toBeNull();
  });
});
