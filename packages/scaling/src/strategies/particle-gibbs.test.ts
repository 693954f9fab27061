import { describe, expect, it } from 'vitest';
import { chiSquareTest } from '../../../core-tensor/src/rng/testing/stats';
import { runStrategy } from '../strategy';
import { hmmLikelihood, hmmPosterior, hmmProposer, pathCode } from '../testing/toys';
import { particleGibbs } from './particle-gibbs';

const ALPHA = 1e-3;

describe('particleGibbs', () => {
  it('the reference path after 5 conditional-SMC sweeps of 4 particles follows the HMM posterior (chi-square, 1200 runs)', async () => {
    // Conditional SMC leaves the posterior invariant for any N; with 4 particles a plain filter would
    // still be visibly biased, the Gibbs chain mixes.
    const RUNS = 1200;
    const pg = particleGibbs({
      proposer: hmmProposer,
      scorer: hmmLikelihood,
      budget: 20,
      iterations: 5,
      weighting: 'log',
      select: 'sample',
    });
    const counts = new Array(8).fill(0);
    for (let seed = 0; seed < RUNS; seed++) {
      const trace = await runStrategy(pg, { seed });
      counts[pathCode(trace.candidates[trace.best as number].state)]++;
    }
    const post = hmmPosterior();
    const keep = post.map((_, i) => i).filter((i) => post[i] * RUNS >= 5);
    const rest = post.map((_, i) => i).filter((i) => post[i] * RUNS < 5);
    const obs = [...keep.map((i) => counts[i]), rest.reduce((s, i) => s + counts[i], 0)];
    const exp = [...keep.map((i) => post[i] * RUNS), rest.reduce((s, i) => s + post[i] * RUNS, 0)];
    expect(chiSquareTest(obs, exp).p).toBeGreaterThan(ALPHA);
  });

  it('keeps the reference in slot 0 of every later sweep: its ancestor is itself', async () => {
    const trace = await runStrategy(
      particleGibbs({
        proposer: hmmProposer,
        scorer: hmmLikelihood,
        budget: 12,
        iterations: 3,
        weighting: 'log',
      }),
      { seed: 1 },
    );
    const refs = trace.decisions.filter((d) => d.kind === 'reference');
    expect(refs).toHaveLength(3);
    // In sweeps 1 and 2 the first ancestor of each resampling is on the reference path.
    const refPath = new Set<number>();
    let id: number | undefined = refs[0].detail.candidate as number;
    while (id !== undefined) {
      refPath.add(id);
      id = trace.candidates[id].parent;
    }
    const sweep1 = trace.decisions.filter((d) => d.kind === 'resample' && d.detail.sweep === 1);
    expect(sweep1.length).toBeGreaterThan(0);
    for (const d of sweep1) expect(refPath.has((d.detail.ancestors as number[])[0])).toBe(true);
    expect(trace.spent).toBe(12);
  });

  it('needs at least 2 particles per iteration', () => {
    expect(() =>
      particleGibbs({ proposer: hmmProposer, scorer: hmmLikelihood, budget: 5, iterations: 4 }),
    ).toThrow(/at least 2 particles per iteration/);
  });

  it("offers 'argmax' and 'sample' selection only (weighted majority is particle filtering's)", () => {
    expect(() =>
      particleGibbs({
        proposer: hmmProposer,
        scorer: hmmLikelihood,
        budget: 8,
        select: 'weighted-majority' as never,
      }),
    ).toThrow(/select/);
  });
});
