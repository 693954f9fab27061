/**
 * @file Early-stopping allocation: round robin over the queries whose vote is not yet settled; a query
 * stops once its answers meet the Beta rule (P(leader is best) ≥ confidence; Aggarwal et al.
 * arXiv 2305.11860, its_hub Beta SC) or, with `rule: 'supermajority'`, a 75% supermajority over at
 * least `minSamples`. Budget left when every query has stopped is not spent.
 */
import { z } from 'zod';
import { parseOptions } from '../options';
import { betaShouldStop } from '../stopping/beta-stopping-rule';
import { supermajorityReached } from '../stopping/supermajority-stopping-rule';
import { type Controller, leastSampled } from './controller';

const EarlyStoppingOptions = z.strictObject({
  rule: z.enum(['beta', 'supermajority']).default('beta'),
  confidence: z.number().gt(0.5).lt(1).default(0.95),
  supermajority: z.number().gt(0.5).max(1).default(0.75),
  minSamples: z.number().int().min(1).default(2),
});
export type EarlyStoppingOptions = z.input<typeof EarlyStoppingOptions>;

export function earlyStoppingController(options?: EarlyStoppingOptions): Controller {
  const o = parseOptions(EarlyStoppingOptions, options, 'earlyStoppingController');
  const settled = (answers: string[]) =>
    answers.length >= o.minSamples &&
    (o.rule === 'beta'
      ? betaShouldStop(answers, o.confidence)
      : supermajorityReached(answers, o.supermajority));
  return {
    name: 'early-stopping',
    next(queries) {
      const q = leastSampled(queries.filter((x) => !settled(x.answers)));
      return q && { query: q.index, reason: `not settled (${o.rule})` };
    },
  };
}
