/**
 * The fast f32 groupnorm ('cpu') against the reference kernel on fresh random shapes and layouts. Both
 * compute float64 statistics; the fast kernel folds weight into the scale ((x − μ)·(inv·w) + b instead
 * of (x − μ)·inv·w + b), so results agree to a few f32 ulps: |fast − ref| <= 4·2^-24·(|ref| + 1).
 */
import { describe, expect, it } from 'vitest';
import { groupnorm } from '../../index';
import { sizeOf } from '../../shape';
import { mulberry32, randint, randn } from '../../test-utils';
import { expectCpuKernel, FAST_LAYOUTS, onBoth } from '../fast-testing';
import { groupnormFast } from './fast';

const rng = mulberry32(5150);

describe('groupnorm fast kernel vs reference', () => {
  it('is the cpu kernel', () => expectCpuKernel('groupnorm', groupnormFast));

  it('agrees to f32 rounding on random shapes, groups and layouts', async () => {
    for (let trial = 0; trial < 12; trial++) {
      const g = randint(rng, 1, 1, 5)[0];
      const c = g * randint(rng, 1, 1, 5)[0];
      const shape = [randint(rng, 1, 1, 4)[0], c, ...Array.from(randint(rng, trial % 3, 1, 9))];
      const x = onBoth(
        randn(rng, sizeOf(shape), 3).map((v) => v - 2),
        shape,
        'f32',
        FAST_LAYOUTS[trial % 3],
      );
      const w = trial % 3 === 1 ? undefined : onBoth(randn(rng, c), [c]);
      const b = trial % 2 ? undefined : onBoth(randn(rng, c), [c], 'f32', 'strided');
      const f = await groupnorm(x.cpu, g, w?.cpu, b?.cpu, 1e-5).data();
      const r = await groupnorm(x.ref, g, w?.ref, b?.ref, 1e-5).data();
      let worst = 0;
      for (let i = 0; i < r.length; i++)
        worst = Math.max(worst, Math.abs(f[i] - r[i]) / (4 * 2 ** -24 * (Math.abs(r[i]) + 1)));
      expect(worst, `trial ${trial} [${shape}] groups ${g}`).toBeLessThanOrEqual(1);
    }
  });
});
