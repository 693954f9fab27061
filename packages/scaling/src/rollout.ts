/**
 * @file Complete one generation: from the proposer's initial state, propose until `done` (or
 * `maxSteps`). Every call of one rollout draws from its own stream (`rng.fold(k)` for its k-th call),
 * so concurrent rollouts stay reproducible whatever order their calls finish in.
 */
import type { Philox } from '@hasten/core-tensor';
import type { Proposer } from './proposer';
import type { RunContext } from './run-context';

export interface RolloutResult<S> {
  state: S;
  cost: number;
  steps: number;
  /** Whether `done` held at the end (false when maxSteps cut it short). */
  finished: boolean;
}

/** Propose from `from` (default: a fresh initial state) until done or maxSteps. */
export async function rollout<S>(
  ctx: Pick<RunContext<unknown>, 'call' | 'signal' | 'calls'>,
  proposer: Proposer<S>,
  stream: Philox,
  maxSteps: number,
  from?: S,
): Promise<RolloutResult<S>> {
  let k = 0;
  const next = () => ({ rng: stream.fold(k++), signal: ctx.signal });
  let state: S;
  if (from === undefined) {
    const c = next();
    state = await ctx.call(() => proposer.initial(c));
  } else state = from;
  let cost = 0;
  let steps = 0;
  while (!proposer.done(state) && steps < maxSteps) {
    const c = next();
    const prev = state;
    state = await ctx.call(() => proposer.propose(prev, c));
    ctx.calls.propose++;
    cost += proposer.cost ? proposer.cost(prev, state) : 1;
    steps++;
  }
  return { state, cost, steps, finished: proposer.done(state) };
}
