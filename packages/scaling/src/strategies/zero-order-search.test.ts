import { describe, expect, it } from 'vitest';
import type { NoiseProposer } from '../proposer';
import { runStrategy } from '../strategy';
import { zeroOrderSearch } from './zero-order-search';

// A "generator" that returns its noise, costing 2 NFE, and a verifier peaked at (1, −1).
const identity: NoiseProposer<Float64Array> = { dim: 2, nfe: 2, generate: (z) => z };
const reward = (x: Float64Array) => -((x[0] - 1) ** 2 + (x[1] + 1) ** 2);

describe('zero-order search', () => {
  it('draws neighbours on the sphere of radius λ around the pivot; the best becomes the next pivot', async () => {
    const trace = await runStrategy(
      zeroOrderSearch({ proposer: identity, scorer: reward, budget: 2 + 5 * 8, neighbors: 4, radius: 0.5 }),
      { seed: 2 },
    );
    expect(trace.spent).toBe(42);
    const pivots = trace.decisions.filter((d) => d.kind === 'pivot');
    expect(pivots).toHaveLength(5);
    let pivot = trace.candidates[0];
    for (const d of pivots) {
      const kids = trace.candidates.filter((c) => c.parent === pivot.id);
      expect(kids).toHaveLength(4);
      for (const k of kids)
        expect(
          Math.hypot(k.state.noise[0] - pivot.state.noise[0], k.state.noise[1] - pivot.state.noise[1]),
        ).toBeCloseTo(0.5, 12);
      const best = kids.reduce((a, b) => ((b.score as number) > (a.score as number) ? b : a));
      expect(d.detail.candidate).toBe(best.id);
      pivot = best;
    }
    const all = trace.candidates.map((c) => c.score as number);
    expect(trace.candidates[trace.best as number].score).toBe(Math.max(...all));
  });
});
