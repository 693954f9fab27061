/**
 * @file Uniform allocation: every query gets the same number of samples (round robin; its_hub's
 * PlanningWrapper splits statically and evenly too). The baseline the adaptive controllers beat.
 */
import { type Controller, leastSampled } from './controller';

export function uniformController(): Controller {
  return {
    name: 'uniform',
    next(queries) {
      const q = leastSampled(queries);
      return q && { query: q.index, reason: 'round robin' };
    },
  };
}
