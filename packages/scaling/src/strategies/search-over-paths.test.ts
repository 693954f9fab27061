import { describe, expect, it } from 'vitest';
import { runStrategy } from '../strategy';
import { type PathProposer, searchOverPaths } from './search-over-paths';

interface X {
  t: number;
  x: number;
}
/** A toy chain from noise level 6 to 0: each step moves x by a uniform in [−0.5, 0.5); re-noising goes back up. */
function walk() {
  const renoised: number[] = [];
  const proposer: PathProposer<X> = {
    initial: () => ({ t: 6, x: 0 }),
    propose: (s, { rng }) => ({ t: s.t - 1, x: s.x + rng.uniform(1)[0] - 0.5 }),
    done: (s) => s.t === 0,
    renoise: (s, steps, { rng }) => {
      renoised.push(steps);
      return { t: s.t + steps, x: s.x + 0.1 * rng.normal(1)[0] };
    },
  };
  return { proposer, renoised };
}

describe('searchOverPaths', () => {
  it('N = 4 chains × M = 2 branches, forward 1 / backward 2: 4 + 5 × 16 NFE to reach t = 0, keeping the top 4 each time', async () => {
    const { proposer, renoised } = walk();
    const trace = await runStrategy(searchOverPaths({ proposer, scorer: (s) => s.x, budget: 100 }), {
      seed: 1,
    });
    expect(trace.spent).toBe(84);
    expect(renoised.every((f) => f === 1)).toBe(true);
    const selects = trace.decisions.filter((d) => d.kind === 'select');
    expect(selects).toHaveLength(5);
    for (const d of selects) {
      const kept = d.detail.kept as number[];
      const keptMin = Math.min(...kept.map((id) => trace.candidates[id].score as number));
      const others = trace.candidates.filter(
        (c) => c.step !== undefined && !kept.includes(c.id) && c.status === 'pruned' && c.score !== undefined,
      );
      // Every branch of the iteration that was not kept scores at most the weakest kept one.
      const sameIteration = others.filter((c) => kept.some((k) => trace.candidates[k].step === c.step));
      for (const c of sameIteration) expect(c.score as number).toBeLessThanOrEqual(keptMin);
    }
    const best = trace.candidates[trace.best as number];
    expect(best.state.t).toBe(0);
    expect(best.score).toBe(
      Math.max(...trace.candidates.filter((c) => c.state.t === 0).map((c) => c.score as number)),
    );
  });

  it('stops before an iteration the budget cannot pay for', async () => {
    const trace = await runStrategy(
      searchOverPaths({ proposer: walk().proposer, scorer: (s) => s.x, budget: 50 }),
      { seed: 2 },
    );
    expect(trace.spent).toBe(36);
    expect(trace.decisions.at(-1)?.kind).toBe('stop');
  });

  it('needs backward > forward and a renoise method', () => {
    const { proposer } = walk();
    expect(() =>
      searchOverPaths({ proposer, scorer: (s) => s.x, budget: 10, forward: 2, backward: 2 }),
    ).toThrow(/must exceed 'forward'/);
    const { renoise: _r, ...plain } = proposer;
    expect(() => searchOverPaths({ proposer: plain as never, scorer: () => 0, budget: 10 })).toThrow(
      /renoise/,
    );
  });
});
