import { describe, expect, it } from 'vitest';
import type { NoiseProposer } from '../proposer';
import { runStrategy } from '../strategy';
import { evoSearch } from './evosearch';

// A "generator" that returns its noise, costing 2 NFE, and a verifier peaked at (1, −1).
const identity: NoiseProposer<Float64Array> = { dim: 2, nfe: 2, generate: (z) => z };
const reward = (x: Float64Array) => -((x[0] - 1) ** 2 + (x[1] + 1) ** 2);

describe('EvoSearch', () => {
  it('keeps the elites, breeds the rest from tournament parents, and spends population + generations × children', async () => {
    const trace = await runStrategy(
      evoSearch({ proposer: identity, scorer: reward, budget: 2 * (8 + 3 * 6), population: 8, elites: 2 }),
      { seed: 3 },
    );
    expect(trace.spent).toBe(52);
    const gens = trace.decisions.filter((d) => d.kind === 'generation');
    expect(gens).toHaveLength(3);
    // Generation 1's elites are the two best of generation 0.
    const g0 = trace.candidates
      .filter((c) => c.step === 0)
      .sort((a, b) => (b.score as number) - (a.score as number));
    expect(gens[0].detail.elites).toEqual([g0[0].id, g0[1].id]);
    // Every child descends from a parent named in its generation's decision.
    for (const d of gens) {
      const kids = trace.candidates.filter(
        (c) => c.step === d.step + 0 && c.step > 0 && c.parent !== undefined,
      );
      for (const k of kids) expect(d.detail.parents as number[]).toContain(k.parent);
    }
  });

  it('mutation √(1 − β²)·z + β·ε keeps the noises N(0, I) (mean square within 5% of 1 in dimension 4000)', async () => {
    const big: NoiseProposer<Float64Array> = { dim: 4000, generate: (z) => z };
    const trace = await runStrategy(
      evoSearch({
        proposer: big,
        scorer: () => 0,
        budget: 8 + 10 * 6,
        population: 8,
        elites: 2,
        mutationRate: 0.6,
      }),
      { seed: 4 },
    );
    const last = trace.candidates.filter((c) => c.step === 10);
    expect(last).toHaveLength(6);
    for (const c of last) {
      const ms = c.state.noise.reduce((s, v) => s + v * v, 0) / 4000;
      expect(Math.abs(ms - 1)).toBeLessThan(0.05);
    }
  });
});
