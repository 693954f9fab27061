/**
 * @file Fixed tempering: the same softmax temperature T at every step, p_i ∝ exp(lw_i / T)
 * (Puri et al., arXiv 2502.01618: `softmax(logits / softmax_temp)`, default T = 1).
 */
import { ScalingError } from '../errors';
import type { TemperatureSchedule } from './temperature-schedule';

export function fixedTemperature(temperature = 1): TemperatureSchedule {
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new ScalingError(
      'options',
      `fixedTemperature: temperature must be finite and > 0, got ${temperature}`,
    );
  }
  return () => temperature;
}
