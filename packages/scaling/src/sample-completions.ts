/**
 * @file Draw complete generations (the samples of best-of-N and self-consistency): sample i uses the
 * stream of the run's i-th generator, is scored by the outcome scorer when there is one, and is
 * recorded as a candidate in index order (so the trace does not depend on completion order).
 */
import type { Proposer, Scorer } from './proposer';
import { rollout } from './rollout';
import type { RunContext } from './run-context';
import type { Candidate } from './trace';

export async function sampleCompletions<S>(
  ctx: RunContext<S>,
  proposer: Proposer<S>,
  scorer: Scorer<S> | undefined,
  count: number,
  maxSteps: number,
): Promise<Candidate<S>[]> {
  const streams = Array.from({ length: count }, () => ctx.rng());
  const results = await Promise.all(
    streams.map(async (stream) => {
      const r = await rollout(ctx, proposer, stream, maxSteps);
      const score = scorer ? await ctx.score(scorer, r.state) : undefined;
      return { ...r, score };
    }),
  );
  return results.map((r) =>
    ctx.add({
      step: r.steps,
      state: r.state,
      status: 'complete',
      ...(r.score === undefined ? {} : { score: r.score }),
      ...(proposer.answer ? { answer: proposer.answer(r.state) } : {}),
    }),
  );
}

/** Index of the highest score (first on ties); -1 when none is scored. */
export function argmaxScore<S>(cands: readonly Candidate<S>[]): number {
  let best = -1;
  for (let i = 0; i < cands.length; i++) {
    const s = cands[i].score;
    if (s !== undefined && (best < 0 || s > (cands[best].score as number))) best = i;
  }
  return best;
}
