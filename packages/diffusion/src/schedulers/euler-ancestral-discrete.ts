/**
 * @file Euler ancestral sampler (k-diffusion's `sample_euler_ancestral`, after Karras et al.
 * arXiv 2206.00364 and Song et al.'s ancestral sampling arXiv 2011.13456), with diffusers'
 * EulerAncestralDiscreteScheduler options (huggingface/diffusers:src/diffusers/schedulers/
 * scheduling_euler_ancestral_discrete.py). In the VE view, from σ to σ_next:
 *   σ_up = √(σ_next²(σ² − σ_next²)/σ²),  σ_down = √(σ_next² − σ_up²)
 *   x_next = x + (σ_down − σ)·(x − x̂0)/σ + σ_up·z
 * with x̂0 from ε (x − σε̂), v (ε̂·(−σ/√(σ²+1)) + x/(σ²+1)) or sample predictions.
 */
import { z } from 'zod';
import { alphasCumprodOf, vpConfigShape } from '../schedules/betas';
import { customSigmaSchedule, eulerFamilySchedule } from '../schedules/discrete';
import { TimestepSpacing } from '../schedules/spacing';
import type { SampleLike, Scheduler, SetTimestepsOptions, StepOptions, StepOutput } from '../types';
import { checkSameLength, drawNoise, f64, parseOptions } from '../util';
import { SigmaScheduler } from './sigma-scheduler';

const NAME = 'EulerAncestralDiscreteScheduler';

export const EulerAncestralDiscreteSchedulerOptions = z.strictObject({
  ...vpConfigShape,
  predictionType: z.enum(['epsilon', 'v_prediction', 'sample']).default('epsilon'),
  timestepSpacing: TimestepSpacing.default('linspace'),
  stepsOffset: z.number().int().min(0).default(0),
});
export type EulerAncestralDiscreteSchedulerOptions = z.input<typeof EulerAncestralDiscreteSchedulerOptions>;

export class EulerAncestralDiscreteScheduler extends SigmaScheduler implements Scheduler {
  readonly config: z.output<typeof EulerAncestralDiscreteSchedulerOptions>;
  readonly alphasCumprod: Float64Array;
  readonly order = 1;
  protected readonly name = NAME;
  protected readonly leadingSpacing: boolean;

  constructor(options?: EulerAncestralDiscreteSchedulerOptions) {
    super();
    this.config = parseOptions(NAME, EulerAncestralDiscreteSchedulerOptions, options);
    this.alphasCumprod = alphasCumprodOf(this.config, true);
    this.leadingSpacing = this.config.timestepSpacing === 'leading';
  }

  setTimesteps(options: SetTimestepsOptions | number): void {
    const o = this.normaliseRequest(options);
    if (o.mu !== undefined) throw new Error(`${NAME}: mu is for flow-matching schedulers`);
    const s = o.sigmas
      ? customSigmaSchedule(NAME, o.sigmas, this.alphasCumprod)
      : eulerFamilySchedule(
          NAME,
          {
            ...this.config,
            alphasCumprod: this.alphasCumprod,
            sigmaSpacing: 'default',
            finalSigmasType: 'zero',
          },
          o,
        );
    this.timesteps = s.timesteps;
    this.sigmas = s.sigmas;
  }

  step(output: SampleLike, t: number, sample: SampleLike, options?: StepOptions): StepOutput {
    checkSameLength(NAME, output, sample, 'model output');
    const i = this.initStepIndex(t);
    const sigma = this.sigmas[i];
    const next = this.sigmas[i + 1];
    const up = Math.sqrt((next * next * (sigma * sigma - next * next)) / (sigma * sigma));
    const down = Math.sqrt(next * next - up * up);
    const x = f64(sample);
    const m = f64(output);
    const z = drawNoise(NAME, x.length, options);
    const x0 = new Float64Array(x.length);
    const prev = new Float64Array(x.length);
    const p = this.config.predictionType;
    for (let k = 0; k < x.length; k++) {
      x0[k] =
        p === 'epsilon'
          ? x[k] - sigma * m[k]
          : p === 'sample'
            ? m[k]
            : m[k] * (-sigma / Math.sqrt(sigma * sigma + 1)) + x[k] / (sigma * sigma + 1);
      prev[k] = x[k] + ((x[k] - x0[k]) / sigma) * (down - sigma) + up * z[k];
    }
    this.stepIdx = i + 1;
    return { prevSample: prev, predOriginalSample: x0 };
  }
}
