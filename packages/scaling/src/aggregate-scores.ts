/**
 * @file How a lineage's step scores become one score (HF search-and-learn `agg_strategy`, from
 * Snell et al. arXiv 2408.03314): 'last' (the PRM's score of the latest step, sal's default), 'min'
 * (the weakest step), 'prod' (product of step scores), and 'mean'.
 */
import { ScalingError } from './errors';

export const AGGREGATIONS = ['last', 'min', 'prod', 'mean'] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];

export function aggregateScores(scores: readonly number[], how: Aggregation): number {
  if (scores.length === 0) throw new ScalingError('input', 'aggregateScores: no scores to aggregate');
  switch (how) {
    case 'last':
      return scores[scores.length - 1];
    case 'min':
      return Math.min(...scores);
    case 'prod':
      return scores.reduce((a, b) => a * b, 1);
    case 'mean':
      return scores.reduce((a, b) => a + b, 0) / scores.length;
  }
}
