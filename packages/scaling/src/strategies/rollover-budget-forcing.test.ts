import { describe, expect, it } from 'vitest';
import type { Proposer } from '../proposer';
import { runStrategy } from '../strategy';
import { rolloverBudgetForcing } from './rollover-budget-forcing';

interface St {
  t: number;
  id: number;
}

describe('rollover budget forcing', () => {
  it('accepts the first improvement, rolls the unused NFE over, advances with the best otherwise (by hand)', async () => {
    let next = 0;
    const proposer: Proposer<St> = {
      initial: () => ({ t: 0, id: next++ }),
      propose: (s) => ({ t: s.t + 1, id: next++ }),
      done: (s) => s.t >= 2,
    };
    // Initial states 0, 1 score 0.1, 0.3; step 1 proposals 2, 3 score 0.2, 0.5 (accepted, 1 NFE of 3
    // rolls over); step 2 gets 4 NFE: 0.4, 0.45, 0.3, 0.35, none beats 0.5, so it advances with 0.45.
    const scores = [0.1, 0.3, 0.2, 0.5, 0.4, 0.45, 0.3, 0.35];
    const trace = await runStrategy(
      rolloverBudgetForcing({
        proposer,
        scorer: (s) => scores[s.id],
        budget: 8,
        initParticles: 2,
        steps: 2,
        concurrency: 1,
      }),
    );
    expect(
      trace.decisions.map((d) => [d.kind, d.detail.used, d.detail.allowance, d.detail.rollover]),
    ).toEqual([
      ['accept', 2, 3, 1],
      ['advance', 4, 4, 0],
    ]);
    expect(trace.candidates[trace.best as number].state.id).toBe(5);
    expect(trace.spent).toBe(8);
  });

  it('needs a budget above the initial particles', () => {
    const p: Proposer<number> = { initial: () => 0, propose: (s) => s + 1, done: (s) => s > 2 };
    expect(() =>
      rolloverBudgetForcing({ proposer: p, scorer: () => 0, budget: 20, initParticles: 25 }),
    ).toThrow(/no NFE per step/);
  });
});
