/**
 * @file The diffusion adapter for search over initial noises (random search and zero-order search,
 * Ma et al. arXiv 2501.09732; EvoSearch, He et al. arXiv 2505.17618): a `NoiseProposer` whose sample is
 * a deterministic function of its noise z, the sampler's solve
 *   x_0 = Solve(initNoiseSigma · z)   (DDIM η = 0, Euler, DPM-Solver++, UniPC, Heun, ... with N steps)
 * through @hasten/diffusion's `sample()` loop (classifier-free guidance included). `nfe` is the
 * denoiser calls one solve makes (the scheduler's timesteps: N for one-call solvers, 2N − 1 for Heun),
 * checked against the loop's own count on every call, so a strategy's NFE budget is exact.
 * A stochastic scheduler is refused by the loop itself (it would need noise beyond z). EvoSearch's
 * mutation √(1 − β²)·z + β·ε lives in the strategy; this adapter only maps noises to samples.
 */
import { type Denoiser, sample } from '@hasten/diffusion';
import { z } from 'zod';
import { ScalingError } from '../errors';
import { parseOptions } from '../options';
import type { NoiseProposer } from '../proposer';
import { DenoiserArg, freshScheduler, SchedulerFactoryArg } from './diffusion-proposer';

const WHERE = 'diffusionNoiseProposer';

export const DiffusionNoiseProposerOptions = z.strictObject({
  scheduler: SchedulerFactoryArg,
  denoiser: DenoiserArg,
  steps: z.number().int().positive(),
  /** Values per sample (the noise's length). */
  dim: z.number().int().positive(),
  /** The denoiser's conditioning of the one item (e.g. a class label); null = unconditional. */
  cond: z.unknown().optional(),
  /** Classifier-free guidance scale (1 = none; needs a non-null cond). */
  guidanceScale: z.number().finite().default(1),
});
export type DiffusionNoiseProposerOptions = z.input<typeof DiffusionNoiseProposerOptions>;

export interface DiffusionNoiseProposer extends NoiseProposer<Float64Array> {
  readonly dim: number;
  readonly nfe: number;
}

export function diffusionNoiseProposer(options: DiffusionNoiseProposerOptions): DiffusionNoiseProposer {
  const o = parseOptions(DiffusionNoiseProposerOptions, options, WHERE);
  const nfe = freshScheduler(o.scheduler, o.steps, WHERE).timesteps.length;
  const denoiser = o.denoiser as unknown as Denoiser<unknown[]>;
  return {
    dim: o.dim,
    nfe,
    generate(noise: Float64Array) {
      if (noise.length !== o.dim)
        throw new ScalingError(
          'input',
          `${WHERE}: the noise has ${noise.length} values, expected dim = ${o.dim}`,
        );
      const r = sample(freshScheduler(o.scheduler, o.steps, WHERE), denoiser, {
        steps: o.steps,
        batch: 1,
        dim: o.dim,
        noise,
        cond: [o.cond ?? null],
        guidanceScale: o.guidanceScale,
      });
      if (r.nfe !== nfe)
        throw new ScalingError('input', `${WHERE}: the solve made ${r.nfe} denoiser calls, expected ${nfe}`);
      return r.sample;
    },
  };
}
