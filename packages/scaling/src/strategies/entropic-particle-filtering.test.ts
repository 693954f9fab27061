import { describe, expect, it } from 'vitest';
import { runStrategy } from '../strategy';
import { entropicParticleFiltering } from './entropic-particle-filtering';

// A chain where one of 8 first steps scores 0.99 and the rest 0.01: plain resampling would keep only
// that one; entropic annealing raises the temperature early, keeping diversity.
function chain() {
  let k = 0;
  return {
    initial: () => '',
    propose: (s: string) => (s === '' ? String(k++ % 8) : `${s}.`),
    done: (s: string) => s.length >= 6,
  };
}
const scorer = (s: string) => (s.startsWith('0') ? 0.99 : 0.01);

describe('entropicParticleFiltering', () => {
  it('tempers early resampling by max(1, (N/ESS)(1 − t/T_max)) with systematic resampling', async () => {
    const trace = await runStrategy(
      entropicParticleFiltering({ proposer: chain(), scorer, budget: 8, maxSteps: 10, concurrency: 1 }),
      { seed: 2 },
    );
    const first = trace.decisions.find((d) => d.kind === 'resample')!;
    const ess = first.detail.ess as number;
    // logit(0.99) vs 7 × logit(0.01): ESS ≈ 1; t = 0 of 10: T = 8 / ESS.
    expect(ess).toBeLessThan(1.01);
    expect(first.detail.temperature).toBeCloseTo(8 / ess, 10);
    expect(first.detail.resampler).toBe('systematic');
    const late = trace.decisions.filter((d) => d.kind === 'resample' && d.step > 5);
    for (const d of late) expect(d.detail.temperature).toBe(1);
    // The tempered first resampling keeps more than the one dominant lineage.
    const distinct = new Set((first.detail.ancestors as number[]).map((a) => trace.candidates[a].state));
    expect(distinct.size).toBeGreaterThan(1);
  });

  it('rejects a temperature option (the schedule is the method)', () => {
    expect(() =>
      entropicParticleFiltering({ proposer: chain(), scorer, budget: 4, temperature: 2 } as never),
    ).toThrow(/Unrecognized key: "temperature"/);
  });
});
