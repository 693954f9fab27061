/**
 * @file Strategies nest: a strategy becomes a one-step proposer whose step runs the whole inner
 * strategy (with a seed drawn from the outer call's generator and the outer abort signal) and
 * returns its trace and selected state. Best-of-N over particle-filter runs is
 * `bestOfN({ proposer: strategyAsProposer(seed => particleFiltering({...})), scorer: scoreSelected(orm) })`.
 * The step's cost is the inner run's spent budget, so an outer strategy in 'cost' or 'tokens' units
 * sees what the inner runs used.
 */
import type { Proposer, Scorer } from '../proposer';
import { runStrategy, type Strategy } from '../strategy';
import { bestCandidate, type Trace } from '../trace';

export interface NestedRun<S> {
  trace?: Trace<S>;
  /** The inner run's selected state. */
  selected?: S;
}

export function strategyAsProposer<S>(make: () => Strategy<S>): Proposer<NestedRun<S>> {
  return {
    initial: () => ({}),
    async propose(_, { rng, signal }) {
      const w = rng.words(2);
      const seed = w[0] + (w[1] & 0x1fffff) * 2 ** 32; // 53 bits
      const trace = await runStrategy(make(), { seed, ...(signal ? { signal } : {}) });
      return { trace, selected: bestCandidate(trace)?.state };
    },
    done: (s) => s.trace !== undefined,
    answer: (s) => s.trace?.answer ?? '',
    cost: (_, to) => to.trace?.spent ?? 0,
  };
}

/** Score a nested run by scoring the state its inner strategy selected. */
export function scoreSelected<S>(scorer: Scorer<S>): Scorer<NestedRun<S>> {
  return (run, ctx) => {
    if (run.selected === undefined) throw new Error('scoreSelected: the inner run selected nothing');
    return scorer(run.selected, ctx);
  };
}
