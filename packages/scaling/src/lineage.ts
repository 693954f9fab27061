/**
 * @file Helpers of the step-level strategies: extend a candidate by one proposer step and score the
 * new prefix (its lineage's step scores aggregated), and duplicate states through `proposer.fork`.
 */
import { type Aggregation, aggregateScores } from './aggregate-scores';
import type { Proposer, Scorer } from './proposer';
import type { RunContext } from './run-context';
import type { Candidate } from './trace';

/** Copies of `state` for `times` uses: the state itself first, then forks. */
export function duplicate<S>(proposer: Proposer<S>, state: S, times: number): S[] {
  const out: S[] = [];
  for (let i = 0; i < times; i++) out.push(i === 0 || !proposer.fork ? state : proposer.fork(state));
  return out;
}

export interface Extended<S> {
  candidate: Candidate<S>;
  /** Aggregated score of the lineage. */
  value: number;
  cost: number;
}

/**
 * Propose one step from each `(parent, state)` pair (calls requested in array order), score every new
 * state with the process scorer, and record the children as candidates.
 */
export async function extendAll<S>(
  ctx: RunContext<S>,
  proposer: Proposer<S>,
  scorer: Scorer<S>,
  parents: readonly { parent: Candidate<S>; state: S }[],
  step: number,
  agg: Aggregation,
): Promise<Extended<S>[]> {
  const results = await Promise.all(
    parents.map(async ({ state }) => {
      const p = await ctx.propose(proposer, state);
      return { ...p, score: await ctx.score(scorer, p.state) };
    }),
  );
  return results.map((r, i) => {
    const parent = parents[i].parent;
    const scores = [...(parent.scores ?? []), r.score];
    const value = aggregateScores(scores, agg);
    const done = proposer.done(r.state);
    const candidate = ctx.add({
      parent: parent.id,
      step,
      state: r.state,
      score: r.score,
      scores,
      status: done ? 'complete' : 'active',
      ...(done && proposer.answer ? { answer: proposer.answer(r.state) } : {}),
    });
    return { candidate, value, cost: r.cost };
  });
}

/** The root candidate of a step-level search (the proposer's initial state). */
export async function rootCandidate<S>(ctx: RunContext<S>, proposer: Proposer<S>): Promise<Candidate<S>> {
  const state = await ctx.initial(proposer);
  return ctx.add({ step: 0, state, scores: [], status: 'active' });
}

/** Mark a candidate pruned and release its state. */
export function prune<S>(proposer: Proposer<S>, c: Candidate<S>): void {
  c.status = 'pruned';
  proposer.release?.(c.state);
}
