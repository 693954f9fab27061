import { describe, expect, it } from 'vitest';
import type { Proposer } from '../proposer';
import { runStrategy } from '../strategy';
import { selfEvalPruning } from './self-eval-pruning';

interface Lane {
  lane: number;
  len: number;
}

describe('selfEvalPruning', () => {
  it('prunes to the best half at step 1 (lanes 1 and 3 of 4), spending 8 tokens instead of 12', async () => {
    let k = 0;
    const proposer: Proposer<Lane> = {
      initial: () => ({ lane: -1, len: 0 }),
      propose: (s) => ({ lane: s.lane < 0 ? k++ : s.lane, len: s.len + 1 }),
      done: (s) => s.len >= 3,
      answer: (s) => String(s.lane),
    };
    const selfEval = (s: Lane) => [0.2, 0.9, 0.4, 0.7][s.lane];
    const trace = await runStrategy(
      selfEvalPruning({ proposer, scorer: selfEval, budget: 4, checkpoints: [1], keep: 0.5, concurrency: 1 }),
    );
    const prune = trace.decisions.find((d) => d.kind === 'prune')!;
    const lanes = (ids: unknown) => (ids as number[]).map((id) => trace.candidates[id].state.lane);
    expect(lanes(prune.detail.kept)).toEqual([1, 3]);
    expect(lanes(prune.detail.pruned)).toEqual([2, 0]);
    expect(trace.answer).toBe('1');
    expect(trace.decisions.at(-1)?.detail.tokens).toBe(8);
  });
});
