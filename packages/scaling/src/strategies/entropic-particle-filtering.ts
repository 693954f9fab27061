/**
 * @file Entropic particle filtering (Giannone et al., "Mitigating Premature Exploitation in
 * Particle-based Monte Carlo for Inference-Time Scaling", arXiv 2510.05825; its_hub
 * `EntropicParticleFiltering`): particle filtering (particle-filtering.ts) whose resampling
 * temperature follows entropic annealing (particles/entropic-annealing.ts):
 *   T_t = max(1, (N/ESS)·(1 − t/T_max)) while ESS/N < essThreshold and t/T_max < earlyPhase, else 1,
 * with systematic resampling by default, as its_hub. Look-ahead modulation is not implemented (no
 * formula in the anchors; its_hub raises NotImplementedError). Budget: N particles.
 */
import { z } from 'zod';
import { parseOptions } from '../options';
import { entropicAnnealing } from '../particles/entropic-annealing';
import type { Proposer, Scorer } from '../proposer';
import type { Strategy } from '../strategy';
import { ParticleFilteringOptions, particleFilteringFrom } from './particle-filtering';

const EntropicOptions = ParticleFilteringOptions.omit({ temperature: true }).extend({
  resampler: ParticleFilteringOptions.shape.resampler.removeDefault().default('systematic'),
  essThreshold: z.number().gt(0).max(1).default(0.5),
  earlyPhase: z.number().gt(0).max(1).default(0.5),
});
export type EntropicParticleFilteringOptions<S> = Omit<
  z.input<typeof EntropicOptions>,
  'proposer' | 'scorer'
> & {
  proposer: Proposer<S>;
  scorer: Scorer<S>;
};

export function entropicParticleFiltering<S>(options: EntropicParticleFilteringOptions<S>): Strategy<S> {
  const { essThreshold, earlyPhase, ...o } = parseOptions(
    EntropicOptions,
    options,
    'entropicParticleFiltering',
  );
  return particleFilteringFrom<S>(
    { ...o, temperature: entropicAnnealing({ essThreshold, earlyPhase }) },
    'entropic-particle-filtering',
  );
}
