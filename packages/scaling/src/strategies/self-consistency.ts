/**
 * @file Self-consistency (Wang et al., arXiv 2203.11171; sal `pred_maj`; its_hub `SelfConsistency`):
 * sample complete generations and return the most frequent canonical answer (majority vote, ties to
 * the answer seen first: @hasten/eval's `majorityVote`). Early stopping, as its_hub evaluates it:
 * - 'fixed': N samples.
 * - 'adaptive' (adaptive SC): check at 2, 4, 8, ... samples; stop once the leader holds a ≥ 75%
 *   supermajority (stopping/supermajority-stopping-rule.ts); else double, up to N.
 * - 'beta' (Beta SC, Aggarwal et al. arXiv 2305.11860): samples are drawn in waves of `concurrency`
 *   (what runs at once); after each sample, in index order, stop when
 *   P(p_top > p_second) ≥ confidence under a Beta posterior (stopping/beta-stopping-rule.ts). Samples
 *   of the last wave after the stopping point were paid for: they are recorded as 'discarded'.
 * Needs `proposer.answer`. A scorer is optional (it picks the representative sample). Budget: N samples.
 */
import { majorityVote } from '@hasten/eval';
import { z } from 'zod';
import { maxStepsOption, proposerOption, scorerOption } from '../common-options';
import { ScalingError } from '../errors';
import { parseOptions, runOptionsShape } from '../options';
import type { Proposer, Scorer } from '../proposer';
import type { RunContext } from '../run-context';
import { sampleCompletions } from '../sample-completions';
import { betaProbabilityLeaderIsBest, topTwoCounts } from '../stopping/beta-stopping-rule';
import { doublingCheckpoints, supermajorityReached } from '../stopping/supermajority-stopping-rule';
import { defineStrategy, type Strategy } from '../strategy';
import type { Candidate } from '../trace';

const SelfConsistencyOptions = z.strictObject({
  proposer: proposerOption,
  scorer: scorerOption.optional(),
  /** N, the most samples. */
  budget: z.number().int().positive(),
  stopping: z.enum(['fixed', 'adaptive', 'beta']).default('fixed'),
  /** Adaptive: the leader's share that stops. */
  supermajority: z.number().gt(0.5).max(1).default(0.75),
  /** Beta: P(leader is best) that stops. */
  confidence: z.number().gt(0.5).lt(1).default(0.95),
  maxSteps: maxStepsOption,
  ...runOptionsShape,
});
export type SelfConsistencyOptions<S> = Omit<
  z.input<typeof SelfConsistencyOptions>,
  'proposer' | 'scorer'
> & {
  proposer: Proposer<S>;
  scorer?: Scorer<S>;
};

export function selfConsistency<S>(options: SelfConsistencyOptions<S>): Strategy<S> {
  const o = parseOptions(SelfConsistencyOptions, options, 'selfConsistency');
  const proposer = o.proposer as Proposer<S>;
  const scorer = o.scorer as Scorer<S> | undefined;
  if (!proposer.answer)
    throw new ScalingError('options', "selfConsistency: option 'proposer' must have an answer(state) method");
  const draw = async (ctx: RunContext<S>, k: number) => {
    const c = await sampleCompletions(ctx, proposer, scorer, k, o.maxSteps);
    ctx.spend(k);
    return c;
  };
  return defineStrategy<S>({
    name: 'self-consistency',
    unit: 'samples',
    budget: o.budget,
    defaults: o,
    async *body(ctx) {
      const kept: Candidate<S>[] = [];
      const answers = () => kept.map((c) => c.answer as string);
      if (o.stopping === 'fixed') {
        kept.push(...(await draw(ctx, o.budget)));
      } else if (o.stopping === 'adaptive') {
        for (const k of doublingCheckpoints(o.budget)) {
          kept.push(...(await draw(ctx, k - kept.length)));
          const stop = supermajorityReached(answers(), o.supermajority);
          ctx.decide(kept.length, stop || k === o.budget ? 'stop' : 'continue', {
            samples: kept.length,
            leaderVotes: topTwoCounts(answers())[0],
            rule: `supermajority >= ${o.supermajority}`,
          });
          yield { step: kept.length, active: 0 };
          if (stop) break;
        }
      } else {
        let stopped = false;
        while (!stopped && kept.length < o.budget) {
          const wave = await draw(ctx, Math.min(ctx.limit.limit, o.budget - kept.length));
          for (const c of wave) {
            if (stopped) {
              c.status = 'discarded';
              continue;
            }
            kept.push(c);
            const [v1, v2] = topTwoCounts(answers());
            const p = betaProbabilityLeaderIsBest(v1, v2);
            if (p >= o.confidence) {
              stopped = true;
              ctx.decide(kept.length, 'stop', {
                samples: kept.length,
                leaderVotes: v1,
                runnerUpVotes: v2,
                probability: p,
              });
            }
          }
          yield { step: kept.length, active: 0 };
        }
      }
      const vote = majorityVote(answers());
      ctx.answer = vote.answer;
      const withAnswer = kept.filter((c) => c.answer === vote.answer);
      let best = withAnswer[0];
      if (scorer) for (const c of withAnswer) if ((c.score as number) > (best.score as number)) best = c;
      ctx.best = best.id;
      ctx.decide(kept.length, 'select', {
        rule: 'majority vote',
        answer: vote.answer,
        votes: vote.support,
        samples: kept.length,
      });
      yield { step: kept.length, active: 0, ...(best.score === undefined ? {} : { bestScore: best.score }) };
    },
  });
}
