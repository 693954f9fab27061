/**
 * @file Weighted best-of-N (HF search-and-learn `pred_weighted` = `find_answer_with_largest_sum`; Li
 * et al. 2023 / Snell et al. arXiv 2408.03314): draw N scored generations, group them by canonical
 * answer, sum the scores per group, return the group with the largest sum
 *   a* = argmax_a Σ_{i: ans(y_i) = a} r(y_i)
 * (ties to the answer seen first; @hasten/eval's `weightedVote`). The selected candidate is the
 * highest-scoring sample with that answer. Needs `proposer.answer`. Budget: N samples.
 */
import { weightedVote } from '@hasten/eval';
import { z } from 'zod';
import { maxStepsOption, proposerOption, scorerOption } from '../common-options';
import { ScalingError } from '../errors';
import { parseOptions, runOptionsShape } from '../options';
import type { Proposer, Scorer } from '../proposer';
import { sampleCompletions } from '../sample-completions';
import { defineStrategy, type Strategy } from '../strategy';

const WeightedBestOfNOptions = z.strictObject({
  proposer: proposerOption,
  scorer: scorerOption,
  budget: z.number().int().positive(),
  maxSteps: maxStepsOption,
  ...runOptionsShape,
});
export type WeightedBestOfNOptions<S> = Omit<
  z.input<typeof WeightedBestOfNOptions>,
  'proposer' | 'scorer'
> & {
  proposer: Proposer<S>;
  scorer: Scorer<S>;
};

export function weightedBestOfN<S>(options: WeightedBestOfNOptions<S>): Strategy<S> {
  const o = parseOptions(WeightedBestOfNOptions, options, 'weightedBestOfN');
  const proposer = o.proposer as Proposer<S>;
  const scorer = o.scorer as Scorer<S>;
  if (!proposer.answer)
    throw new ScalingError('options', "weightedBestOfN: option 'proposer' must have an answer(state) method");
  return defineStrategy<S>({
    name: 'weighted-best-of-n',
    unit: 'samples',
    budget: o.budget,
    defaults: o,
    async *body(ctx) {
      const cands = await sampleCompletions(ctx, proposer, scorer, o.budget, o.maxSteps);
      ctx.spend(o.budget);
      const vote = weightedVote(
        cands.map((c) => c.answer as string),
        cands.map((c) => c.score as number),
      );
      let best = cands.find((c) => c.answer === vote.answer)!;
      for (const c of cands)
        if (c.answer === vote.answer && (c.score as number) > (best.score as number)) best = c;
      ctx.best = best.id;
      ctx.answer = vote.answer;
      ctx.decide(0, 'select', {
        rule: 'largest summed score per answer',
        answer: vote.answer,
        support: vote.support,
      });
      yield { step: 0, active: 0, bestScore: best.score };
    },
  });
}
