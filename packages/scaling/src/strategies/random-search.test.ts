import { describe, expect, it } from 'vitest';
import type { NoiseProposer } from '../proposer';
import { runStrategy } from '../strategy';
import { randomSearch } from './random-search';

// A "generator" that returns its noise, costing 2 NFE, and a verifier peaked at (1, −1).
const identity: NoiseProposer<Float64Array> = { dim: 2, nfe: 2, generate: (z) => z };
const reward = (x: Float64Array) => -((x[0] - 1) ** 2 + (x[1] + 1) ** 2);

describe('random search over noises', () => {
  it('generates ⌊budget / nfe⌋ noises and returns the best by the verifier', async () => {
    const trace = await runStrategy(randomSearch({ proposer: identity, scorer: reward, budget: 9 }), {
      seed: 1,
    });
    expect(trace.candidates).toHaveLength(4);
    expect(trace.spent).toBe(8);
    const scores = trace.candidates.map((c) => reward(c.state.noise));
    expect(trace.candidates.map((c) => c.score)).toEqual(scores);
    expect(trace.best).toBe(scores.indexOf(Math.max(...scores)));
    expect(() => randomSearch({ proposer: identity, scorer: reward, budget: 1 })).toThrow(/below one sample/);
  });
});
