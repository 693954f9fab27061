/**
 * @file Bandit allocation that favours hard-but-solvable queries (after Zuo & Zhu, "Strategic
 * Scaling of Test-Time Compute: A Bandit Learning Approach", arXiv 2506.12721: estimate each query's
 * difficulty on the fly and give more compute to queries that are not yet solved but look
 * solvable). The rule here (ours, in that spirit): every query first gets `warmup` samples; a query
 * counts as solved once a sample scores ≥ `solvedScore` (a verifier's confidence) and gets no more;
 * among unsolved queries the next sample goes to the largest upper confidence bound of the mean score
 *   UCB_q = mean_q + c·√(ln(total samples) / n_q)
 * (Auer, Cesa-Bianchi & Fischer 2002), so easy queries leave once solved, hopeless ones (many samples,
 * low scores) lose priority, and hard ones that show partial success keep receiving samples.
 * Defaults (warmup 1, solvedScore 0.8, exploration 2) were picked on the package's synthetic bench
 * (a few settings tried there), not on real models.
 */
import { z } from 'zod';
import { parseOptions } from '../options';
import { type Controller, leastSampled } from './controller';

const BanditOptions = z.strictObject({
  warmup: z.number().int().min(1).default(1),
  solvedScore: z.number().finite().default(0.8),
  exploration: z.number().min(0).finite().default(2),
});
export type BanditOptions = z.input<typeof BanditOptions>;

export function banditController(options?: BanditOptions): Controller {
  const o = parseOptions(BanditOptions, options, 'banditController');
  return {
    name: 'bandit',
    next(queries) {
      const open = queries.filter((q) => !q.scores.some((s) => s >= o.solvedScore));
      const cold = leastSampled(open.filter((q) => q.samples < o.warmup));
      if (cold) return { query: cold.index, reason: 'warm-up' };
      const total = queries.reduce((s, q) => s + q.samples, 0);
      let best: { query: number; ucb: number } | undefined;
      for (const q of open) {
        // Samples in flight count in the bonus (n), so one round of picks spreads over the queries.
        const mean = q.scores.length ? q.scores.reduce((a, b) => a + b, 0) / q.scores.length : 0;
        const ucb = mean + o.exploration * Math.sqrt(Math.log(Math.max(2, total)) / Math.max(1, q.samples));
        if (!best || ucb > best.ucb) best = { query: q.index, ucb };
      }
      return best && { query: best.query, reason: `max UCB ${best.ucb.toFixed(4)}` };
    },
  };
}
