/**
 * @file Rollover budget forcing (Kim, Yoon, Hwang & Sung, "Inference-Time Scaling for Flow Models via
 * Stochastic Generation and Rollover Budget Forcing", arXiv 2503.19385; reference `rbf/rbf.py`).
 * Pre-correction: draw `initParticles` initial states, score each (1 NFE: the Tweedie estimate's
 * reward) and start from the best. Each of the `steps` denoising steps gets
 *   default = ⌊(budget − initParticles) / steps⌋ NFE plus whatever the previous step left over.
 * Within a step, propose one stochastic step at a time (cost from proposer.cost, default 1) and score
 * it; the first proposal whose reward beats the best so far is accepted at once and the unused NFE
 * roll over to the next step; if the step's NFE run out without an improvement, advance with the step's
 * best proposal (no rollover). Returns the final state. Budget: NFE.
 */
import { z } from 'zod';
import { proposerOption, scorerOption } from '../common-options';
import { ScalingError } from '../errors';
import { parseOptions, runOptionsShape } from '../options';
import type { Proposer, Scorer } from '../proposer';
import { defineStrategy, type Strategy } from '../strategy';
import type { Candidate } from '../trace';

const RolloverBudgetForcingOptions = z.strictObject({
  proposer: proposerOption,
  scorer: scorerOption,
  /** max_nfe. */
  budget: z.number().int().positive(),
  initParticles: z.number().int().positive().default(25),
  /** Denoising steps (RBF's max_steps, 10). */
  steps: z.number().int().positive().default(10),
  ...runOptionsShape,
});
export type RolloverBudgetForcingOptions<S> = Omit<
  z.input<typeof RolloverBudgetForcingOptions>,
  'proposer' | 'scorer'
> & { proposer: Proposer<S>; scorer: Scorer<S> };

export function rolloverBudgetForcing<S>(options: RolloverBudgetForcingOptions<S>): Strategy<S> {
  const o = parseOptions(RolloverBudgetForcingOptions, options, 'rolloverBudgetForcing');
  const perStep = Math.floor((o.budget - o.initParticles) / o.steps);
  if (perStep < 1) {
    throw new ScalingError(
      'budget',
      `rolloverBudgetForcing: budget ${o.budget} NFE leaves no NFE per step after ${o.initParticles} initial particles and ${o.steps} steps`,
    );
  }
  const proposer = o.proposer as Proposer<S>;
  const scorer = o.scorer as Scorer<S>;
  return defineStrategy<S>({
    name: 'rollover-budget-forcing',
    unit: 'nfe',
    budget: o.budget,
    defaults: o,
    async *body(ctx) {
      const inits = await Promise.all(
        Array.from({ length: o.initParticles }, async () => {
          const state = await ctx.initial(proposer);
          return { state, score: await ctx.score(scorer, state) };
        }),
      );
      ctx.spend(o.initParticles);
      const roots = inits.map((r) => ctx.add({ step: 0, state: r.state, score: r.score, status: 'pruned' }));
      let cur = roots.reduce((a, b) => ((b.score as number) > (a.score as number) ? b : a));
      cur.status = 'active';
      let bestSoFar = cur.score as number;
      let leftover = 0;
      for (let step = 1; step <= o.steps && !proposer.done(cur.state); step++) {
        const allowance = leftover + perStep;
        let used = 0;
        let stepBest: Candidate<S> | undefined;
        let accepted = false;
        // One proposal at a time: acceptance of the first improvement is sequential by definition.
        while (used < allowance) {
          const r = await ctx.propose(proposer, cur.state);
          const score = await ctx.score(scorer, r.state);
          used += r.cost;
          ctx.spend(r.cost);
          const c = ctx.add({ parent: cur.id, step, state: r.state, score, status: 'pruned' });
          if (!stepBest || score > (stepBest.score as number)) stepBest = c;
          if (score > bestSoFar) {
            accepted = true;
            break;
          }
        }
        const chosen = stepBest as Candidate<S>;
        chosen.status = 'active';
        cur.status = cur.status === 'active' ? 'pruned' : cur.status;
        cur = chosen;
        if (accepted) bestSoFar = chosen.score as number;
        leftover = accepted ? allowance - used : 0;
        ctx.decide(step, accepted ? 'accept' : 'advance', {
          candidate: chosen.id,
          used,
          allowance,
          rollover: leftover,
        });
        yield { step, active: 1, bestScore: bestSoFar };
      }
      cur.status = 'complete';
      ctx.best = cur.id;
      if (proposer.answer && proposer.done(cur.state)) ctx.answer = proposer.answer(cur.state);
    },
  });
}
