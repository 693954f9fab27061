/**
 * @file Best-of-N (HF search-and-learn `best_of_n`, `pred_naive`; Snell et al. arXiv 2408.03314;
 * its_hub `BestOfN(orm)`): draw N complete generations, score each with an outcome reward, return
 *   argmax_i r(y_i)   (first index on ties).
 * Budget: N samples.
 */
import { z } from 'zod';
import { maxStepsOption, proposerOption, scorerOption } from '../common-options';
import { parseOptions, runOptionsShape } from '../options';
import type { Proposer, Scorer } from '../proposer';
import { argmaxScore, sampleCompletions } from '../sample-completions';
import { defineStrategy, type Strategy } from '../strategy';

const BestOfNOptions = z.strictObject({
  proposer: proposerOption,
  scorer: scorerOption,
  /** N, the number of samples. */
  budget: z.number().int().positive(),
  maxSteps: maxStepsOption,
  ...runOptionsShape,
});
export type BestOfNOptions<S> = Omit<z.input<typeof BestOfNOptions>, 'proposer' | 'scorer'> & {
  proposer: Proposer<S>;
  scorer: Scorer<S>;
};

export function bestOfN<S>(options: BestOfNOptions<S>): Strategy<S> {
  const o = parseOptions(BestOfNOptions, options, 'bestOfN');
  const proposer = o.proposer as Proposer<S>;
  const scorer = o.scorer as Scorer<S>;
  return defineStrategy<S>({
    name: 'best-of-n',
    unit: 'samples',
    budget: o.budget,
    defaults: o,
    async *body(ctx) {
      const cands = await sampleCompletions(ctx, proposer, scorer, o.budget, o.maxSteps);
      ctx.spend(o.budget);
      const best = argmaxScore(cands);
      ctx.best = cands[best].id;
      if (cands[best].answer !== undefined) ctx.answer = cands[best].answer;
      ctx.decide(0, 'select', { rule: 'argmax score', candidate: ctx.best, score: cands[best].score });
      yield { step: 0, active: 0, bestScore: cands[best].score };
    },
  });
}
