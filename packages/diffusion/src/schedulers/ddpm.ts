/**
 * @file DDPM ancestral sampling (Ho, Jain, Abbeel, arXiv 2006.11239, eqs. 6–7, on any subsequence of
 * timesteps), with diffusers' DDPMScheduler options and defaults (huggingface/diffusers:src/
 * diffusers/schedulers/scheduling_ddpm.py). With ᾱ_t, ᾱ_prev (1 after the last step),
 * α = ᾱ_t/ᾱ_prev, β = 1 − α:
 *   x_prev = √ᾱ_prev·β/(1−ᾱ_t)·x̂0 + √α·(1−ᾱ_prev)/(1−ᾱ_t)·x_t + √v·z   (no noise at t = 0)
 *   v = (1−ᾱ_prev)/(1−ᾱ_t)·β (fixed_small, clamped at 1e-20) or β (fixed_large).
 */
import { z } from 'zod';
import { alphasCumprodOf, vpConfigShape } from '../schedules/betas';
import { spacedTimesteps, TimestepSpacing } from '../schedules/spacing';
import type { Sample, SampleLike, Scheduler, SetTimestepsOptions, StepOptions, StepOutput } from '../types';
import { checkSameLength, drawNoise, f64, indexOfTimestep, parseOptions } from '../util';

const NAME = 'DDPMScheduler';

export const DDPMSchedulerOptions = z.strictObject({
  ...vpConfigShape,
  varianceType: z.enum(['fixed_small', 'fixed_large']).default('fixed_small'),
  clipSample: z.boolean().default(true),
  clipSampleRange: z.number().positive().default(1),
  predictionType: z.enum(['epsilon', 'v_prediction', 'sample']).default('epsilon'),
  timestepSpacing: TimestepSpacing.default('leading'),
  stepsOffset: z.number().int().min(0).default(0),
});
export type DDPMSchedulerOptions = z.input<typeof DDPMSchedulerOptions>;

export class DDPMScheduler implements Scheduler {
  readonly config: z.output<typeof DDPMSchedulerOptions>;
  readonly alphasCumprod: Float64Array;
  readonly initNoiseSigma = 1;
  readonly order = 1;
  timesteps: Float64Array = new Float64Array(0);
  sigmas: Float64Array = new Float64Array(0);

  constructor(options?: DDPMSchedulerOptions) {
    this.config = parseOptions(NAME, DDPMSchedulerOptions, options);
    this.alphasCumprod = alphasCumprodOf(this.config);
  }

  setTimesteps(options: SetTimestepsOptions | number): void {
    const o = typeof options === 'number' ? { steps: options } : options;
    const T = this.config.numTrainTimesteps;
    if (o.sigmas !== undefined || o.mu !== undefined)
      throw new Error(`${NAME}: setTimesteps takes steps or timesteps`);
    if ((o.steps === undefined) === (o.timesteps === undefined))
      throw new Error(`${NAME}: setTimesteps needs exactly one of steps, timesteps`);
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
      if ((o.steps as number) > T)
        throw new Error(`${NAME}: steps ${o.steps} cannot exceed numTrainTimesteps ${T}`);
      this.timesteps = spacedTimesteps(this.config.timestepSpacing, T, o.steps as number, {
        family: 'ddim',
        stepsOffset: this.config.stepsOffset,
      });
    }
    const sig = (a: number) => Math.sqrt((1 - a) / a);
    this.sigmas = Float64Array.from([...this.timesteps].map((t) => sig(this.alphasCumprod[t])).concat(0));
  }

  scaleModelInput(sample: SampleLike): Sample {
    return f64(sample);
  }

  step(output: SampleLike, t: number, sample: SampleLike, options?: StepOptions): StepOutput {
    if (this.timesteps.length === 0) throw new Error(`${NAME}: call setTimesteps before step`);
    checkSameLength(NAME, output, sample, 'model output');
    const i = indexOfTimestep(NAME, this.timesteps, t);
    const aT = this.alphasCumprod[t];
    const aPrev = i + 1 < this.timesteps.length ? this.alphasCumprod[this.timesteps[i + 1]] : 1;
    const bT = 1 - aT;
    const curAlpha = aT / aPrev;
    const curBeta = 1 - curAlpha;
    const c0 = (Math.sqrt(aPrev) * curBeta) / bT;
    const cx = (Math.sqrt(curAlpha) * (1 - aPrev)) / bT;
    const variance =
      this.config.varianceType === 'fixed_small' ? Math.max(((1 - aPrev) / bT) * curBeta, 1e-20) : curBeta;
    const noise = t > 0 ? drawNoise(NAME, sample.length, options) : null;
    const x = f64(sample);
    const m = f64(output);
    const r = this.config.clipSampleRange;
    const x0 = new Float64Array(x.length);
    const prev = new Float64Array(x.length);
    for (let k = 0; k < x.length; k++) {
      let p0 =
        this.config.predictionType === 'epsilon'
          ? (x[k] - Math.sqrt(bT) * m[k]) / Math.sqrt(aT)
          : this.config.predictionType === 'sample'
            ? m[k]
            : Math.sqrt(aT) * x[k] - Math.sqrt(bT) * m[k];
      if (this.config.clipSample) p0 = Math.min(r, Math.max(-r, p0));
      x0[k] = p0;
      prev[k] = c0 * p0 + cx * x[k] + (noise ? Math.sqrt(variance) * noise[k] : 0);
    }
    return { prevSample: prev, predOriginalSample: x0 };
  }

  addNoise(original: SampleLike, noise: SampleLike, t: number): Sample {
    checkSameLength(NAME, noise, original, 'noise');
    const a = this.alphasCumprod[t];
    if (a === undefined)
      throw new Error(`${NAME}: addNoise timestep ${t} is not in [0, ${this.config.numTrainTimesteps - 1}]`);
    const n = f64(noise);
    return f64(original).map((v, k) => Math.sqrt(a) * v + Math.sqrt(1 - a) * n[k]);
  }
}
