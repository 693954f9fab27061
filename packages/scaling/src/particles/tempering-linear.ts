/**
 * @file Linear tempering: the softmax temperature goes linearly from `from` to `to` over `steps`
 * steps and stays at `to` after (Puri et al., arXiv 2502.01618, the optional linear annealing
 * `(start, end, steps)` of the softmax temperature): T_t = from + (to − from)·min(t, steps)/steps.
 */
import { z } from 'zod';
import { parseOptions } from '../options';
import type { TemperatureSchedule } from './temperature-schedule';

const LinearTemperatureOptions = z.strictObject({
  from: z.number().positive().finite(),
  to: z.number().positive().finite(),
  steps: z.number().int().positive(),
});
export type LinearTemperatureOptions = z.input<typeof LinearTemperatureOptions>;

export function linearTemperature(options: LinearTemperatureOptions): TemperatureSchedule {
  const { from, to, steps } = parseOptions(LinearTemperatureOptions, options, 'linearTemperature');
  return ({ step }) => from + ((to - from) * Math.min(step, steps)) / steps;
}
