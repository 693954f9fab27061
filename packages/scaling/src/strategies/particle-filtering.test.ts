import { describe, expect, it } from 'vitest';
import { chiSquareTest } from '../../../core-tensor/src/rng/testing/stats';
import type { ResamplerName } from '../particles/resampler';
import { runStrategy } from '../strategy';
import { hmmLikelihood, hmmPosterior, hmmProposer, pathCode } from '../testing/toys';
import { particleFiltering } from './particle-filtering';

const ALPHA = 1e-3;
const RUNS = 1000;
const PARTICLES = 32;

/** Paths drawn by RUNS independent filters (seeds 0..RUNS−1), one per run ('sample' selection). */
async function pathCounts(resampler: ResamplerName): Promise<number[]> {
  const counts = new Array(8).fill(0);
  const pf = particleFiltering({
    proposer: hmmProposer,
    scorer: hmmLikelihood,
    budget: PARTICLES,
    weighting: 'log',
    select: 'sample',
    resampler,
  });
  for (let seed = 0; seed < RUNS; seed++) {
    const trace = await runStrategy(pf, { seed });
    counts[pathCode(trace.candidates[trace.best as number].state)]++;
  }
  return counts;
}

describe('particleFiltering', () => {
  // With the likelihood p(y_t | x_t) as the score ('log' weighting) and the transition as the proposer,
  // the loop is the bootstrap filter: its output path follows p(x_1:3 | y_1:3) up to an O(1/N) bias
  // (N = 32 here, below the resolution of a chi-square over 1000 runs).
  it.each(['multinomial', 'systematic'] as const)(
    'recovers the exact posterior of a two-state HMM (%s resampling; chi-square over 1000 seeded runs)',
    async (resampler) => {
      const posterior = hmmPosterior();
      const counts = await pathCounts(resampler);
      // Merge paths with expected count < 5 into one cell.
      const small = posterior.map((p, i) => (p * RUNS < 5 ? i : -1)).filter((i) => i >= 0);
      const keep = posterior.map((_, i) => i).filter((i) => !small.includes(i));
      const obs = [...keep.map((i) => counts[i]), small.reduce((s, i) => s + counts[i], 0)];
      const exp = [
        ...keep.map((i) => posterior[i] * RUNS),
        small.reduce((s, i) => s + posterior[i] * RUNS, 0),
      ];
      expect(chiSquareTest(obs, exp).p).toBeGreaterThan(ALPHA);
      // The test can fail: the prior over paths (no observations) is rejected.
      const prior = [
        0.6 * 0.7 * 0.7,
        0.6 * 0.7 * 0.3,
        0.6 * 0.3 * 0.2,
        0.6 * 0.3 * 0.8,
        0.4 * 0.2 * 0.7,
        0.4 * 0.2 * 0.3,
        0.4 * 0.8 * 0.2,
        0.4 * 0.8 * 0.8,
      ];
      expect(
        chiSquareTest(
          counts,
          prior.map((p) => p * RUNS),
        ).p,
      ).toBeLessThan(ALPHA);
    },
  );

  it('records every particle, its weight, and each resampling decision with ancestors', async () => {
    const trace = await runStrategy(
      particleFiltering({ proposer: hmmProposer, scorer: hmmLikelihood, budget: 4, weighting: 'log' }),
      { seed: 3 },
    );
    // Root + 4 particles × 3 steps; resampling after steps 1 and 2 (not after the final one).
    expect(trace.candidates.length).toBe(13);
    const resamples = trace.decisions.filter((d) => d.kind === 'resample');
    expect(resamples.map((d) => d.step)).toEqual([1, 2]);
    for (const d of resamples) {
      const anc = d.detail.ancestors as number[];
      expect(anc).toHaveLength(4);
      for (const a of anc) expect(trace.candidates[a].step).toBe(d.step);
    }
    for (let step = 1; step <= 3; step++) {
      const ws = trace.candidates.filter((c) => c.step === step).map((c) => c.weight as number);
      expect(ws.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    }
    expect(trace.unit).toBe('particles');
    expect(trace.spent).toBe(4);
  });

  it("weights a PRM probability by its logit: scores 0.9 vs 0.1 resample 81 : 1 ('logit' = log 9 vs −log 9)", async () => {
    // One step, two particles: the first scores 0.9, the second 0.1, then both stop.
    let k = 0;
    const proposer = {
      initial: () => 0,
      propose: (s: number) => (s === 0 ? 1 + (k++ % 2) : 9),
      done: (s: number) => s === 9,
    };
    const trace = await runStrategy(
      particleFiltering({
        proposer,
        scorer: (s) => (s === 1 ? 0.9 : s === 2 ? 0.1 : 0.5),
        budget: 2,
        concurrency: 1,
        maxSteps: 2,
      }),
    );
    const step1 = trace.candidates.filter((c) => c.step === 1);
    expect(step1.map((c) => c.logWeight)).toEqual(
      [Math.log(9), -Math.log(9)].map((v) => expect.closeTo(v, 10)),
    );
    expect(step1[0].weight).toBeCloseTo(81 / 82, 12);
  });
});
