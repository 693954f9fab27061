/**
 * @file DDIM (Song, Meng, Ermon, "Denoising Diffusion Implicit Models", arXiv 2010.02502, eq. 12),
 * with diffusers' DDIMScheduler options and defaults (huggingface/diffusers:src/diffusers/
 * schedulers/scheduling_ddim.py). With ᾱ_t, ᾱ_prev the cumulative alphas of this and the next step:
 *   x̂0 = (x − √(1−ᾱ_t)·ε̂)/√ᾱ_t                  (from ε, v or x0 predictions)
 *   σ_η² = η²·(1−ᾱ_prev)/(1−ᾱ_t)·(1 − ᾱ_t/ᾱ_prev)
 *   x_prev = √ᾱ_prev·x̂0 + √(1−ᾱ_prev−σ_η²)·ε̂ + σ_η·z
 * η = 0 is the deterministic sampler (a first-order solver of the probability-flow ODE).
 * One deliberate difference: the previous timestep is the next entry of `timesteps`, not
 * t − T div N as in diffusers (which is wrong for linspace/trailing spacing: diffusers issues
 * #12633, #11347); for the default 'leading' spacing both are the same.
 */
import { z } from 'zod';
import { alphasCumprodOf, vpConfigShape } from '../schedules/betas';
import { spacedTimesteps, TimestepSpacing } from '../schedules/spacing';
import type { Sample, SampleLike, Scheduler, SetTimestepsOptions, StepOptions, StepOutput } from '../types';
import { checkSameLength, drawNoise, f64, indexOfTimestep, parseOptions } from '../util';

const NAME = 'DDIMScheduler';

export const DDIMSchedulerOptions = z.strictObject({
  ...vpConfigShape,
  clipSample: z.boolean().default(true),
  clipSampleRange: z.number().positive().default(1),
  setAlphaToOne: z.boolean().default(true),
  stepsOffset: z.number().int().min(0).default(0),
  predictionType: z.enum(['epsilon', 'v_prediction', 'sample']).default('epsilon'),
  timestepSpacing: TimestepSpacing.default('leading'),
  /** Default η for `step` (diffusers passes it to step; 0 = deterministic DDIM). */
  eta: z.number().min(0).default(0),
});
export type DDIMSchedulerOptions = z.input<typeof DDIMSchedulerOptions>;

export interface DDIMStepOptions extends StepOptions {
  eta?: number;
}

export class DDIMScheduler implements Scheduler {
  readonly config: z.output<typeof DDIMSchedulerOptions>;
  readonly alphasCumprod: Float64Array;
  readonly finalAlphaCumprod: number;
  readonly initNoiseSigma = 1;
  readonly order = 1;
  timesteps: Float64Array;
  sigmas: Float64Array;

  constructor(options?: DDIMSchedulerOptions) {
    this.config = parseOptions(NAME, DDIMSchedulerOptions, options);
    this.alphasCumprod = alphasCumprodOf(this.config);
    this.finalAlphaCumprod = this.config.setAlphaToOne ? 1 : this.alphasCumprod[0];
    this.timesteps = new Float64Array(0);
    this.sigmas = new Float64Array(0);
  }

  setTimesteps(options: SetTimestepsOptions | number): void {
    const o = typeof options === 'number' ? { steps: options } : options;
    const T = this.config.numTrainTimesteps;
    if (o.sigmas !== undefined || o.mu !== undefined)
      throw new Error(`${NAME}: setTimesteps takes steps or timesteps`);
    if ((o.steps === undefined) === (o.timesteps === undefined)) {
      throw new Error(`${NAME}: setTimesteps needs exactly one of steps, timesteps`);
    }
    if (o.timesteps !== undefined) {
      const ts = Float64Array.from(o.timesteps);
      ts.forEach((t, i) => {
        if (!Number.isInteger(t) || t < 0 || t >= T || (i > 0 && t >= ts[i - 1])) {
          throw new Error(
            `${NAME}: timesteps must be descending integers in [0, ${T - 1}], got ${t} at ${i}`,
          );
        }
      });
      this.timesteps = ts;
    } else {
      const n = o.steps as number;
      if (n > T) throw new Error(`${NAME}: steps ${n} cannot exceed numTrainTimesteps ${T}`);
      this.timesteps = spacedTimesteps(this.config.timestepSpacing, T, n, {
        family: 'ddim',
        stepsOffset: this.config.stepsOffset,
      });
    }
    const sig = (a: number) => Math.sqrt((1 - a) / a);
    this.sigmas = Float64Array.from(
      [...this.timesteps].map((t) => sig(this.alphasCumprod[t])).concat(sig(this.finalAlphaCumprod)),
    );
  }

  scaleModelInput(sample: SampleLike): Sample {
    return f64(sample);
  }

  step(output: SampleLike, t: number, sample: SampleLike, options?: DDIMStepOptions): StepOutput {
    if (this.timesteps.length === 0) throw new Error(`${NAME}: call setTimesteps before step`);
    checkSameLength(NAME, output, sample, 'model output');
    const i = indexOfTimestep(NAME, this.timesteps, t);
    const eta = options?.eta ?? this.config.eta;
    const aT = this.alphasCumprod[t];
    const aPrev =
      i + 1 < this.timesteps.length ? this.alphasCumprod[this.timesteps[i + 1]] : this.finalAlphaCumprod;
    const bT = 1 - aT;
    const variance = ((1 - aPrev) / bT) * (1 - aT / aPrev);
    const std = eta * Math.sqrt(variance);
    const noise = eta > 0 ? drawNoise(NAME, sample.length, options) : null;
    const x = f64(sample);
    const m = f64(output);
    const x0 = new Float64Array(x.length);
    const prev = new Float64Array(x.length);
    const dirCoef = Math.sqrt(Math.max(0, 1 - aPrev - std * std));
    const r = this.config.clipSampleRange;
    for (let k = 0; k < x.length; k++) {
      let p0: number;
      let eps: number;
      if (this.config.predictionType === 'epsilon') {
        p0 = (x[k] - Math.sqrt(bT) * m[k]) / Math.sqrt(aT);
        eps = m[k];
      } else if (this.config.predictionType === 'sample') {
        p0 = m[k];
        eps = (x[k] - Math.sqrt(aT) * p0) / Math.sqrt(bT);
      } else {
        p0 = Math.sqrt(aT) * x[k] - Math.sqrt(bT) * m[k];
        eps = Math.sqrt(aT) * m[k] + Math.sqrt(bT) * x[k];
      }
      if (this.config.clipSample) p0 = Math.min(r, Math.max(-r, p0));
      x0[k] = p0;
      prev[k] = Math.sqrt(aPrev) * p0 + dirCoef * eps + (noise ? std * noise[k] : 0);
    }
    return { prevSample: prev, predOriginalSample: x0 };
  }

  addNoise(original: SampleLike, noise: SampleLike, t: number): Sample {
    checkSameLength(NAME, noise, original, 'noise');
    const a = this.alphasCumprod[t];
    if (a === undefined)
      throw new Error(`${NAME}: addNoise timestep ${t} is not in [0, ${this.config.numTrainTimesteps - 1}]`);
    const x = f64(original);
    const n = f64(noise);
    return x.map((v, k) => Math.sqrt(a) * v + Math.sqrt(1 - a) * n[k]);
  }
}
