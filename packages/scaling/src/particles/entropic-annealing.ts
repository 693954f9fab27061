/**
 * @file Entropic annealing (Giannone et al., "Mitigating Premature Exploitation in Particle-based
 * Monte Carlo for Inference-Time Scaling", arXiv 2510.05825; the rule of its_hub's
 * EntropicParticleFiltering): with p = softmax(lw) and ESS = 1/Σp², when diversity collapses early,
 *   if ESS/N < essThreshold and t/T_max < earlyPhase:  T = max(1, (N/ESS)·(1 − t/T_max)),  else T = 1,
 * so resampling uses softmax(lw / T) (the paper's β_t⁻¹ = (N/ESS(t))(1 − t/T)). The look-ahead
 * modulation of the same paper is not implemented: the anchors give no formula for it and its_hub
 * raises NotImplementedError.
 */
import { z } from 'zod';
import { parseOptions } from '../options';
import { effectiveSampleSizeOfLogWeights } from './effective-sample-size';
import type { TemperatureSchedule } from './temperature-schedule';

const EntropicAnnealingOptions = z.strictObject({
  essThreshold: z.number().gt(0).max(1).default(0.5),
  earlyPhase: z.number().gt(0).max(1).default(0.5),
});
export type EntropicAnnealingOptions = z.input<typeof EntropicAnnealingOptions>;

export function entropicAnnealing(options?: EntropicAnnealingOptions): TemperatureSchedule {
  const { essThreshold, earlyPhase } = parseOptions(EntropicAnnealingOptions, options, 'entropicAnnealing');
  return ({ step, maxSteps, logWeights }) => {
    const n = logWeights.length;
    const ess = effectiveSampleSizeOfLogWeights(logWeights);
    const progress = step / maxSteps;
    if (ess / n < essThreshold && progress < earlyPhase) return Math.max(1, (n / ess) * (1 - progress));
    return 1;
  };
}
