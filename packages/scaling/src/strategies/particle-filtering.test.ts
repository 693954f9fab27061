import { describe, expect, it } from 'vitest';
import { chiSquareTest } from '../../../core-tensor/src/rng/testing/stats';
import type { ResamplerName } from '../particles/resampler';
import type { Proposer } from '../proposer';
import type { Particle } from '../smc';
import { weightedMajority } from '../smc';
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

describe("particleFiltering select: 'weighted-majority'", () => {
  /** A final particle (one path point is enough for the vote). */
  const particle = (answer: string, logWeight: number, done = true): Particle<string> => ({
    path: [],
    state: answer,
    logWeight,
    done,
  });

  it('sums the normalised weights per answer (worked by hand); unfinished particles do not vote', () => {
    // Weights exp(lw): A 3; B 7/3 + 7/3 = 14/3; C (unfinished) 10. Total 3 + 14/3 + 10 = 53/3.
    const pool = [
      particle('A', Math.log(3)),
      particle('B', Math.log(7 / 3)),
      particle('C', Math.log(10), false),
      particle('B', Math.log(7 / 3)),
    ];
    const vote = weightedMajority(pool, (s) => s);
    expect(vote?.answer).toBe('B');
    expect(vote?.support).toBeCloseTo(14 / 3 / (53 / 3), 12);
    expect(vote?.particle).toBe(pool[1]);
    // The highest-weight particle with the winning answer is the output; ties go to the first seen.
    expect(weightedMajority([particle('A', 0), particle('B', 0)], (s) => s)?.answer).toBe('A');
    expect(weightedMajority([particle('A', 0, false)], (s) => s)).toBeUndefined();
  });

  /** One step: A (prior 0.7) or B (0.3), scored 0.5 and 2.5/3.5, i.e. logit weights 1 and 2.5. */
  const abProposer: Proposer<string> = {
    initial: () => '',
    propose: (_s, { rng }) => (rng.uniform(1)[0] < 0.7 ? 'A' : 'B'),
    done: (s) => s !== '',
    answer: (s) => s,
  };
  const abScorer = (s: string) => (s === 'A' ? 0.5 : 2.5 / 3.5);

  it('picks the answer with the larger summed weight where argmax picks the single best particle', async () => {
    // Scripted: particles A, B, A, A (concurrency 1): A sums 3, B 2.5, so the vote says A; argmax says B.
    const script = ['A', 'B', 'A', 'A'];
    let k = 0;
    const proposer: Proposer<string> = { ...abProposer, propose: () => script[k++ % 4] };
    const run = async (select: 'argmax' | 'weighted-majority') => {
      k = 0;
      return runStrategy(
        particleFiltering({ proposer, scorer: abScorer, budget: 4, select, concurrency: 1 }),
        { seed: 0 },
      );
    };
    const vote = await run('weighted-majority');
    expect(vote.answer).toBe('A');
    const sel = vote.decisions.find((d) => d.kind === 'select');
    expect(sel?.detail.rule).toBe('weighted-majority');
    expect(sel?.detail.support as number).toBeCloseTo(3 / 5.5, 12);
    expect(vote.candidates[vote.best as number].state).toBe('A');
    expect((await run('argmax')).answer).toBe('B');
  });

  it('matches the exact law of the vote over 1000 seeded runs (chi-square, α = 1e-3)', async () => {
    // Four particles, one step, no resampling: with k_B B's the vote is B iff 2.5 k_B > 4 − k_B, i.e.
    // k_B >= 2: P = 1 − 0.7⁴ − 4·0.3·0.7³ = 0.3483. Argmax is B iff k_B >= 1: P = 1 − 0.7⁴ = 0.7599.
    const pVote = 1 - 0.7 ** 4 - 4 * 0.3 * 0.7 ** 3;
    const pArgmax = 1 - 0.7 ** 4;
    const countB = async (select: 'argmax' | 'weighted-majority') => {
      const pf = particleFiltering({ proposer: abProposer, scorer: abScorer, budget: 4, select });
      let b = 0;
      for (let seed = 0; seed < RUNS; seed++) if ((await runStrategy(pf, { seed })).answer === 'B') b++;
      return b;
    };
    const vote = await countB('weighted-majority');
    const argmax = await countB('argmax');
    const law = (p: number) => [p * RUNS, (1 - p) * RUNS];
    expect(chiSquareTest([vote, RUNS - vote], law(pVote)).p).toBeGreaterThan(ALPHA);
    expect(chiSquareTest([argmax, RUNS - argmax], law(pArgmax)).p).toBeGreaterThan(ALPHA);
    // The test can fail: the vote's counts reject argmax's law, and an unweighted majority's
    // (B iff k_B >= 3, ties to the first seen counted as A: P = 4·0.3³·0.7 + 0.3⁴ = 0.0837).
    expect(chiSquareTest([vote, RUNS - vote], law(pArgmax)).p).toBeLessThan(ALPHA);
    expect(chiSquareTest([vote, RUNS - vote], law(4 * 0.3 ** 3 * 0.7 + 0.3 ** 4)).p).toBeLessThan(ALPHA);
  });

  it('needs proposer.answer; falls back to argmax when no particle finishes', async () => {
    const { answer: _, ...noAnswer } = abProposer;
    expect(() =>
      particleFiltering({ proposer: noAnswer, scorer: abScorer, budget: 2, select: 'weighted-majority' }),
    ).toThrow(/option 'select'.*answer\(state\)/);
    const never: Proposer<string> = { ...abProposer, done: () => false };
    const trace = await runStrategy(
      particleFiltering({
        proposer: never,
        scorer: abScorer,
        budget: 2,
        maxSteps: 1,
        select: 'weighted-majority',
      }),
      { seed: 0 },
    );
    expect(trace.answer).toBeUndefined();
    expect(trace.decisions.find((d) => d.kind === 'select')?.detail.rule).toMatch(
      /no finished particle: argmax/,
    );
  });
});
