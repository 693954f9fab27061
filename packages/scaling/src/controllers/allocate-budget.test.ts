import { describe, expect, it } from 'vitest';
import type { Proposer } from '../proposer';
import { runStrategy } from '../strategy';
import { allocateBudget, type Query, queryAnswers } from './allocate-budget';
import { banditController } from './bandit-controller';
import { earlyStoppingController } from './early-stopping-controller';
import { uniformController } from './uniform-controller';

/** A query whose k-th sample answers answers[k mod len] with score scores[k mod len]. */
function scripted(answers: string[], scores: number[]): Query<{ a?: string; s?: number }> {
  let k = 0;
  const proposer: Proposer<{ a?: string; s?: number }> = {
    initial: () => ({}),
    propose: () => {
      const i = k++;
      return { a: answers[i % answers.length], s: scores[i % scores.length] };
    },
    done: (x) => x.a !== undefined,
    answer: (x) => x.a as string,
  };
  return { proposer, scorer: (x) => x.s as number };
}

const samplesPerQuery = (trace: { decisions: { kind: string; detail: Record<string, unknown> }[] }) =>
  trace.decisions.find((d) => d.kind === 'answers')?.detail.samples;

describe('allocateBudget', () => {
  it('uniform: round robin, 7 samples over 3 queries give 3, 2, 2; answers by best score', async () => {
    const queries = [
      scripted(['x', 'y'], [0.1, 0.9]),
      scripted(['p'], [0.5]),
      scripted(['q', 'r'], [0.7, 0.2]),
    ];
    const trace = await runStrategy(
      allocateBudget({ queries, controller: uniformController(), budget: 7, concurrency: 1 }),
    );
    expect(samplesPerQuery(trace)).toEqual([3, 2, 2]);
    expect(trace.decisions.filter((d) => d.kind === 'allocate').map((d) => d.detail.query)).toEqual([
      0, 1, 2, 0, 1, 2, 0,
    ]);
    expect(queryAnswers(trace)).toEqual(['y', 'p', 'q']);
  });

  it('early stopping: a unanimous query stops after 4 samples (Beta rule), the split one takes the rest', async () => {
    const queries = [scripted(['a'], [1]), scripted(['a', 'b'], [1])];
    const trace = await runStrategy(
      allocateBudget({
        queries,
        controller: earlyStoppingController(),
        budget: 20,
        select: 'majority',
        concurrency: 1,
      }),
    );
    expect(samplesPerQuery(trace)).toEqual([4, 16]);
    expect(queryAnswers(trace)).toEqual(['a', 'a']);
  });

  it('early stopping stops spending once every query is settled', async () => {
    const queries = [scripted(['a'], [1]), scripted(['b'], [1])];
    const trace = await runStrategy(
      allocateBudget({ queries, controller: earlyStoppingController(), budget: 50, concurrency: 1 }),
    );
    expect(trace.spent).toBe(8);
    expect(trace.decisions.some((d) => d.kind === 'stop')).toBe(true);
  });

  it('bandit: the easy query leaves once solved, the hard-but-solvable one gets most of the budget', async () => {
    const easy = scripted(['e'], [0.95]);
    const hopeless = scripted(['h'], [0]);
    // Solved only on its 6th sample; partial scores before.
    const hard = scripted(['w', 'w', 'w', 'w', 'w', 'ok'], [0.5, 0.4, 0.6, 0.5, 0.5, 0.95]);
    const trace = await runStrategy(
      allocateBudget({
        queries: [easy, hopeless, hard],
        controller: banditController(),
        budget: 12,
        concurrency: 1,
      }),
    );
    const samples = samplesPerQuery(trace) as number[];
    expect(samples[0]).toBe(1);
    expect(samples[2]).toBeGreaterThanOrEqual(6);
    expect(samples[2]).toBeGreaterThan(samples[1]);
    expect(queryAnswers(trace)[2]).toBe('ok');
    // Uniform over the same queries spends 4 on each and never solves the hard one.
    const uniform = await runStrategy(
      allocateBudget({
        queries: [
          scripted(['e'], [0.95]),
          scripted(['h'], [0]),
          scripted(['w', 'w', 'w', 'w', 'w', 'ok'], [0.5, 0.4, 0.6, 0.5, 0.5, 0.95]),
        ],
        controller: uniformController(),
        budget: 12,
        concurrency: 1,
      }),
    );
    expect(queryAnswers(uniform)[2]).toBe('w');
  });

  it('bandit: picks made in one round count as samples, so a round of 8 spreads over the 4 queries', async () => {
    const queries = [0, 1, 2, 3].map(() => scripted(['w'], [0.5]));
    const trace = await runStrategy(
      allocateBudget({ queries, controller: banditController(), budget: 8, concurrency: 8 }),
    );
    expect(samplesPerQuery(trace)).toEqual([2, 2, 2, 2]);
  });

  it('rejects a bad controller and unknown options', () => {
    const queries = [scripted(['a'], [1])];
    expect(() => allocateBudget({ queries, controller: {} as never, budget: 3 })).toThrow(
      /option 'controller'.*must be a controller/,
    );
    expect(() => banditController({ ucb: 1 } as never)).toThrow(
      /Unrecognized key: "ucb"; allowed: warmup, solvedScore, exploration/,
    );
  });
});
