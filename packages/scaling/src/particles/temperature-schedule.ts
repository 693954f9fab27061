/**
 * @file What a temperature schedule sees at a resampling step, and returns: the softmax temperature
 * T_t > 0 applied to the log-weights before resampling (p_i ∝ exp(lw_i / T_t)); T = 1/β in the
 * language of tempered SMC.
 */
export interface TemperatureInput {
  /** Resampling step, from 0. */
  step: number;
  /** Step budget of the run (its_hub's T_max). */
  maxSteps: number;
  logWeights: Float64Array;
}

export type TemperatureSchedule = (input: TemperatureInput) => number;
