import { describe, expect, it } from 'vitest';
import { fullForward } from '../block-denoiser';
import {
  relativeError,
  ScriptedDiT,
  scriptedDecisions,
  toyModel,
  toyRun,
} from '../testing/toy-block-denoiser-runs';
import { cachedDenoiser } from './cached-denoiser';
import { taylorForecast, taylorSeer, updateFactors } from './taylor-seer';

describe('taylorSeer', () => {
  // Block i adds a_i + b_i·t: first-order forecasts are exact, zeroth-order ones lag.
  const a = [0.5, -1, 2];
  const b = [0.25, 0.5, -0.125];
  const model = new ScriptedDiT(3, (i, t) => a[i] + b[i] * t);
  const exact = (t: number) => a.reduce((s, ai, i) => s + ai + b[i] * t, 0);
  const options = { cacheInterval: 3, disableCacheBeforeStep: 2 };

  it('computes during warm-up and every N steps after it, forecasting in between (hand-worked)', () => {
    expect(scriptedDecisions(cachedDenoiser(model, taylorSeer(options)), 9)).toEqual(
      ['C', 'C', 'C', 'R', 'R', 'C', 'R', 'R', 'C'].map((c) => c.repeat(3)),
    );
  });

  it('forecasts linear features exactly at order 1 and holds the last value at order 0', () => {
    for (const maxOrder of [1, 0]) {
      const cached = cachedDenoiser(model, taylorSeer({ ...options, maxOrder }));
      cached.beginGeneration(9);
      for (let k = 0; k < 9; k++) {
        const out = cached(Float64Array.of(0), k, [null])[0];
        const lastFull = k < 2 ? k : 2 + 3 * Math.floor((k - 2) / 3);
        expect(out).toBeCloseTo(maxOrder === 1 ? exact(k) : exact(lastFull), 5);
      }
    }
  });

  it('builds divided differences over the step gap and sums Δʲ dʲ / j!', () => {
    const f0 = updateFactors(undefined, Float32Array.of(1), 0, 2);
    const f1 = updateFactors(f0, Float32Array.of(3), 2, 2); // Δ¹ = (3 − 1) / 2 = 1
    const f2 = updateFactors(f1, Float32Array.of(9), 4, 2); // Δ¹ = 3, Δ² = (3 − 1) / 2 = 1
    expect(f1.factors.map((f) => f[0])).toEqual([3, 1]);
    expect(f2.factors.map((f) => f[0])).toEqual([9, 3, 1]);
    // 9 + 3·2 + 1·2²/2 = 17
    expect(taylorForecast(f2.factors, 2)[0]).toBe(17);
  });

  it('cuts block evaluations on the toy DiT and stays within 5% of the uncached sample', () => {
    const ref = toyRun(toyModel('dit'), fullForward(toyModel('dit')));
    const m = toyModel('dit');
    const cached = cachedDenoiser(m, taylorSeer({ cacheInterval: 3, disableCacheBeforeStep: 3 }));
    const out = toyRun(m, cached, 20, cached);
    // Computed: 0, 1, 2, 3, 6, 9, 12, 15, 18, 19 (10 of 20).
    expect(cached.stats().blockEvaluations).toBe(2 * 10 * 6);
    expect(relativeError(out, ref)).toBeLessThan(0.05);
  });

  it('names bad options', () => {
    expect(() => taylorSeer({ maxOrder: -1 })).toThrow(/taylorSeer: option 'maxOrder'/);
    expect(() => taylorSeer({ cache_interval: 5 } as never)).toThrow(
      /"cache_interval"; allowed: cacheInterval/,
    );
  });
});
