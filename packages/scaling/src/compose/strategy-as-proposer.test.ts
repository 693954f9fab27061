import { describe, expect, it } from 'vitest';
import { bestOfN } from '../strategies/best-of-n';
import { particleFiltering } from '../strategies/particle-filtering';
import { selfConsistency } from '../strategies/self-consistency';
import { runStrategy } from '../strategy';
import { hmmLikelihood, hmmProposer, scoreByAnswer, scriptedAnswers } from '../testing/toys';
import { scoreSelected, strategyAsProposer } from './strategy-as-proposer';

describe('strategyAsProposer', () => {
  it('best-of-3 over self-consistency runs, by hand: inner votes 1, 3, 2; the scorer prefers 3', async () => {
    const answers = scriptedAnswers(['1', '1', '2', '3', '3', '3', '2', '2', '1']);
    const inner = () => selfConsistency({ proposer: answers, budget: 3, concurrency: 1 });
    const outer = bestOfN({
      proposer: strategyAsProposer(inner),
      scorer: scoreSelected(scoreByAnswer({ '1': 0.2, '2': 0.5, '3': 0.8 })),
      budget: 3,
      concurrency: 1,
    });
    const trace = await runStrategy(outer);
    expect(trace.candidates.map((c) => c.state.trace?.answer)).toEqual(['1', '3', '2']);
    expect(trace.answer).toBe('3');
    expect(trace.candidates.map((c) => c.score)).toEqual([0.2, 0.8, 0.5]);
  });

  it('best-of-N over particle-filter runs is reproducible, and each inner run reports its own trace', async () => {
    const make = () =>
      bestOfN({
        proposer: strategyAsProposer(() =>
          particleFiltering({ proposer: hmmProposer, scorer: hmmLikelihood, budget: 8, weighting: 'log' }),
        ),
        scorer: scoreSelected((path: number[]) => path.filter((x) => x === 1).length),
        budget: 4,
      });
    const a = await runStrategy(make(), { seed: 9 });
    const b = await runStrategy(make(), { seed: 9 });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    for (const c of a.candidates) {
      expect(c.state.trace?.strategy).toBe('particle-filtering');
      expect(c.state.trace?.spent).toBe(8);
      expect(c.score).toBe((c.state.selected as number[]).filter((x) => x === 1).length);
    }
    // Different inner seeds: the four inner runs are not copies of one another.
    expect(
      new Set(a.candidates.map((c) => JSON.stringify(c.state.trace?.candidates.map((x) => x.state)))).size,
    ).toBe(4);
  });

  it('passes the abort signal down: aborting the outer run stops the inner one', async () => {
    const controller = new AbortController();
    const slow = {
      ...hmmProposer,
      propose: async (p: number[], ctx: Parameters<typeof hmmProposer.propose>[1]) => {
        await new Promise((r) => setTimeout(r, 5));
        return hmmProposer.propose(p, ctx);
      },
    };
    const outer = bestOfN({
      proposer: strategyAsProposer(() =>
        particleFiltering({ proposer: slow, scorer: hmmLikelihood, budget: 4, weighting: 'log' }),
      ),
      scorer: scoreSelected(() => 1),
      budget: 2,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 8);
    await expect(runStrategy(outer)).rejects.toMatchObject({ name: 'AbortError' });
  });
});
