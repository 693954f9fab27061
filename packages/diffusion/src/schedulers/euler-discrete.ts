/**
 * @file Euler sampler of Karras et al. ("Elucidating the Design Space of Diffusion-Based Generative
 * Models", arXiv 2206.00364, Algorithm 2 with its churn), with diffusers' EulerDiscreteScheduler
 * options and defaults (huggingface/diffusers:src/diffusers/schedulers/scheduling_euler_discrete.py).
 * In the VE view x = x0 + σε (the model sees x/√(σ²+1)):
 *   γ = min(s_churn/N, √2 − 1) if s_tmin ≤ σ ≤ s_tmax else 0;  σ̂ = σ(1+γ);  x̂ = x + √(σ̂² − σ²)·s_noise·z
 *   x̂0 = x̂ − σ̂ε̂ (ε),  ε̂·(−σ/√(σ²+1)) + x̂/(σ²+1) (v),  ε̂ (sample)
 *   x_next = x̂ + (σ_next − σ̂)·(x̂ − x̂0)/σ̂
 */
import { z } from 'zod';
import { alphasCumprodOf, vpConfigShape } from '../schedules/betas';
import {
  customSigmaSchedule,
  eulerFamilySchedule,
  FinalSigmasType,
  SigmaSpacing,
} from '../schedules/discrete';
import { TimestepSpacing } from '../schedules/spacing';
import type { SampleLike, Scheduler, SetTimestepsOptions, StepOptions, StepOutput } from '../types';
import { checkSameLength, drawNoise, f64, parseOptions } from '../util';
import { SigmaScheduler } from './sigma-scheduler';

const NAME = 'EulerDiscreteScheduler';

export const EulerDiscreteSchedulerOptions = z.strictObject({
  ...vpConfigShape,
  predictionType: z.enum(['epsilon', 'v_prediction', 'sample']).default('epsilon'),
  /** diffusers' use_karras_sigmas / use_exponential_sigmas / use_beta_sigmas as one choice. */
  sigmaSpacing: SigmaSpacing.exclude(['lu']).default('default'),
  sigmaMin: z.number().positive().optional(),
  sigmaMax: z.number().positive().optional(),
  timestepSpacing: TimestepSpacing.default('linspace'),
  stepsOffset: z.number().int().min(0).default(0),
  finalSigmasType: FinalSigmasType.default('zero'),
  sChurn: z.number().min(0).default(0),
  sTmin: z.number().min(0).default(0),
  sTmax: z.number().default(Number.POSITIVE_INFINITY),
  sNoise: z.number().default(1),
});
export type EulerDiscreteSchedulerOptions = z.input<typeof EulerDiscreteSchedulerOptions>;

export class EulerDiscreteScheduler extends SigmaScheduler implements Scheduler {
  readonly config: z.output<typeof EulerDiscreteSchedulerOptions>;
  readonly alphasCumprod: Float64Array;
  readonly order = 1;
  protected readonly name = NAME;
  protected readonly leadingSpacing: boolean;

  constructor(options?: EulerDiscreteSchedulerOptions) {
    super();
    this.config = parseOptions(NAME, EulerDiscreteSchedulerOptions, options);
    this.alphasCumprod = alphasCumprodOf(this.config, true);
    this.leadingSpacing = this.config.timestepSpacing === 'leading';
  }

  setTimesteps(options: SetTimestepsOptions | number): void {
    const o = this.normaliseRequest(options);
    if (o.mu !== undefined) throw new Error(`${NAME}: mu is for flow-matching schedulers`);
    const s = o.sigmas
      ? customSigmaSchedule(NAME, o.sigmas, this.alphasCumprod)
      : eulerFamilySchedule(NAME, { ...this.config, alphasCumprod: this.alphasCumprod }, o);
    this.timesteps = s.timesteps;
    this.sigmas = s.sigmas;
  }

  step(output: SampleLike, t: number, sample: SampleLike, options?: StepOptions): StepOutput {
    checkSameLength(NAME, output, sample, 'model output');
    const i = this.initStepIndex(t);
    const { sChurn, sTmin, sTmax, sNoise, predictionType } = this.config;
    const sigma = this.sigmas[i];
    const gamma =
      sTmin <= sigma && sigma <= sTmax ? Math.min(sChurn / (this.sigmas.length - 1), Math.SQRT2 - 1) : 0;
    const sigmaHat = sigma * (gamma + 1);
    let x = f64(sample);
    if (gamma > 0) {
      const z = drawNoise(NAME, x.length, options);
      const c = Math.sqrt(sigmaHat * sigmaHat - sigma * sigma) * sNoise;
      x = x.map((v, k) => v + c * z[k]);
    }
    const m = f64(output);
    const x0 = new Float64Array(x.length);
    const prev = new Float64Array(x.length);
    const dt = this.sigmas[i + 1] - sigmaHat;
    for (let k = 0; k < x.length; k++) {
      x0[k] =
        predictionType === 'epsilon'
          ? x[k] - sigmaHat * m[k]
          : predictionType === 'sample'
            ? m[k]
            : m[k] * (-sigma / Math.sqrt(sigma * sigma + 1)) + x[k] / (sigma * sigma + 1);
      prev[k] = x[k] + ((x[k] - x0[k]) / sigmaHat) * dt;
    }
    this.stepIdx = i + 1;
    return { prevSample: prev, predOriginalSample: x0 };
  }
}
