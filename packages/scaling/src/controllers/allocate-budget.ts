/**
 * @file Allocate a sample budget across queries with a controller (controller.ts). Each unit is one
 * complete sample of one query (a rollout of its proposer, scored by its scorer when it has one). The
 * controller is asked, one unit at a time, where the next sample goes, seeing every score and answer
 * so far (samples in flight count as drawn); up to `concurrency` picks run at once. Each query's answer
 * is then the best-scoring sample's ('best') or the majority vote ('majority'). The trace records every
 * sample (state = { query, state }), every allocation decision with the controller's reason, and the
 * final answers (decision 'answers'; `queryAnswers(trace)` reads them).
 */
import { majorityVote } from '@hasten/eval';
import { z } from 'zod';
import { maxStepsOption } from '../common-options';
import { ScalingError } from '../errors';
import { parseOptions, runOptionsShape } from '../options';
import type { Proposer, Scorer } from '../proposer';
import { rollout } from '../rollout';
import { defineStrategy, type Strategy } from '../strategy';
import type { Trace } from '../trace';
import type { Controller, QueryStats } from './controller';

export interface Query<S> {
  proposer: Proposer<S>;
  scorer?: Scorer<S>;
}

export interface QuerySample<S> {
  query: number;
  state: S;
}

const AllocateBudgetOptions = z.strictObject({
  queries: z
    .array(
      z.custom<Query<unknown>>((q) => typeof q === 'object' && q !== null && 'proposer' in q, {
        message: 'must be { proposer, scorer? }',
      }),
    )
    .min(1),
  controller: z.custom<Controller>(
    (c) => typeof c === 'object' && c !== null && typeof (c as Controller).next === 'function',
    {
      message: 'must be a controller (uniformController(), earlyStoppingController(), banditController())',
    },
  ),
  /** Total samples over all queries. */
  budget: z.number().int().positive(),
  select: z.enum(['best', 'majority']).default('best'),
  maxSteps: maxStepsOption,
  ...runOptionsShape,
});
export type AllocateBudgetOptions<S> = Omit<z.input<typeof AllocateBudgetOptions>, 'queries'> & {
  queries: Query<S>[];
};

export function allocateBudget<S>(options: AllocateBudgetOptions<S>): Strategy<QuerySample<S>> {
  const o = parseOptions(AllocateBudgetOptions, options, 'allocateBudget');
  const queries = o.queries as Query<S>[];
  if (o.select === 'majority' || !queries.every((q) => q.scorer)) {
    if (!queries.every((q) => q.proposer.answer)) {
      throw new ScalingError(
        'options',
        "allocateBudget: select 'majority' (or a query without scorer) needs proposer.answer on every query",
      );
    }
  }
  const controller = o.controller as Controller;
  return defineStrategy<QuerySample<S>>({
    name: `allocate-budget(${controller.name})`,
    unit: 'samples',
    budget: o.budget,
    defaults: o,
    async *body(ctx) {
      const stats: QueryStats[] = queries.map((_, index) => ({ index, samples: 0, answers: [], scores: [] }));
      const ids: number[][] = queries.map(() => []);
      let round = 0;
      while (ctx.spent < o.budget) {
        const picks: number[] = [];
        while (picks.length < ctx.limit.limit && ctx.spent + picks.length < o.budget) {
          const pick = controller.next(stats, ctx.spent + picks.length, o.budget);
          if (!pick) break;
          if (!(pick.query >= 0 && pick.query < queries.length)) {
            throw new ScalingError(
              'input',
              `allocateBudget: controller ${controller.name} picked query ${pick.query} of ${queries.length}`,
            );
          }
          stats[pick.query].samples++;
          picks.push(pick.query);
          ctx.decide(round, 'allocate', {
            query: pick.query,
            reason: pick.reason,
            controller: controller.name,
          });
        }
        if (picks.length === 0) {
          ctx.decide(round, 'stop', { spent: ctx.spent, reason: 'controller stopped' });
          break;
        }
        const streams = picks.map(() => ctx.rng());
        const results = await Promise.all(
          picks.map(async (qi, k) => {
            const q = queries[qi];
            const r = await rollout(ctx, q.proposer, streams[k], o.maxSteps);
            const score = q.scorer ? await ctx.score(q.scorer as Scorer<S>, r.state as S) : undefined;
            return { state: r.state as S, score };
          }),
        );
        ctx.spend(picks.length);
        results.forEach((r, k) => {
          const qi = picks[k];
          const answer = queries[qi].proposer.answer?.(r.state);
          if (answer !== undefined) stats[qi].answers.push(answer);
          if (r.score !== undefined) stats[qi].scores.push(r.score);
          const c = ctx.add({
            step: round,
            state: { query: qi, state: r.state },
            status: 'complete',
            ...(r.score === undefined ? {} : { score: r.score }),
            ...(answer === undefined ? {} : { answer }),
          });
          ids[qi].push(c.id);
        });
        yield { step: round, active: picks.length };
        round++;
      }
      const answers = queries.map((_, qi) => {
        const cands = ids[qi].map((id) => ctx.candidates[id]);
        if (cands.length === 0) return undefined;
        if (o.select === 'majority' || cands[0].score === undefined)
          return majorityVote(cands.map((c) => c.answer as string)).answer;
        return cands.reduce((a, b) => ((b.score as number) > (a.score as number) ? b : a)).answer;
      });
      ctx.decide(round, 'answers', { answers, samples: stats.map((s) => s.samples) });
    },
  });
}

/** Each query's final answer (undefined for a query that got no sample). */
export function queryAnswers(trace: Trace<unknown>): (string | undefined)[] {
  const d = trace.decisions.findLast((x) => x.kind === 'answers');
  return (d?.detail.answers as (string | undefined)[]) ?? [];
}
