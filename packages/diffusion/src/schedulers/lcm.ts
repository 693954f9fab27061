/**
 * @file Multistep latent-consistency sampling (Luo et al., "Latent Consistency Models", arXiv
 * 2310.04378, Algorithm 3; consistency boundary conditions of Song et al. arXiv 2303.01469), with
 * diffusers' LCMScheduler options and defaults (huggingface/diffusers:src/diffusers/schedulers/
 * scheduling_lcm.py). Timesteps: the skipping-step grid t_k = k·(T div N_orig) − 1, k = 1..N_orig
 * (N_orig = originalInferenceSteps), reversed, then N evenly spaced entries of it (floor of
 * linspace(0, N_orig, N, endpoint=False)). Each step, with τ = t·timestepScaling and σ_data = 0.5:
 *   c_skip = σ_data²/(τ² + σ_data²),  c_out = τ/√(τ² + σ_data²)
 *   denoised = c_out·x̂0 + c_skip·x;   x_prev = √ᾱ_prev·denoised + √(1 − ᾱ_prev)·z (not after the last step)
 */
import { z } from 'zod';
import { alphasCumprodOf, BetaSchedule } from '../schedules/betas';
import type { Sample, SampleLike, Scheduler, SetTimestepsOptions, StepOptions, StepOutput } from '../types';
import { checkSameLength, drawNoise, f64, indexOfTimestep, parseOptions } from '../util';

const NAME = 'LCMScheduler';

export const LCMSchedulerOptions = z.strictObject({
  numTrainTimesteps: z.number().int().min(2).default(1000),
  betaStart: z.number().positive().default(0.00085),
  betaEnd: z.number().positive().default(0.012),
  betaSchedule: BetaSchedule.default('scaled_linear'),
  trainedBetas: z.array(z.number().min(0).lt(1)).optional(),
  rescaleBetasZeroSnr: z.boolean().default(false),
  originalInferenceSteps: z.number().int().positive().default(50),
  clipSample: z.boolean().default(false),
  clipSampleRange: z.number().positive().default(1),
  setAlphaToOne: z.boolean().default(true),
  predictionType: z.enum(['epsilon', 'v_prediction', 'sample']).default('epsilon'),
  timestepScaling: z.number().positive().default(10),
});
export type LCMSchedulerOptions = z.input<typeof LCMSchedulerOptions>;

export class LCMScheduler implements Scheduler {
  readonly config: z.output<typeof LCMSchedulerOptions>;
  readonly alphasCumprod: Float64Array;
  readonly finalAlphaCumprod: number;
  readonly initNoiseSigma = 1;
  readonly order = 1;
  timesteps: Float64Array = new Float64Array(0);
  sigmas: Float64Array = new Float64Array(0);
  private stepIdx: number | null = null;

  constructor(options?: LCMSchedulerOptions) {
    this.config = parseOptions(NAME, LCMSchedulerOptions, options);
    this.alphasCumprod = alphasCumprodOf(this.config);
    this.finalAlphaCumprod = this.config.setAlphaToOne ? 1 : this.alphasCumprod[0];
  }

  setTimesteps(options: SetTimestepsOptions | number): void {
    const o = typeof options === 'number' ? { steps: options } : options;
    const T = this.config.numTrainTimesteps;
    const orig = this.config.originalInferenceSteps;
    if (o.sigmas !== undefined || o.mu !== undefined)
      throw new Error(`${NAME}: setTimesteps takes steps or timesteps`);
    if ((o.steps === undefined) === (o.timesteps === undefined))
      throw new Error(`${NAME}: setTimesteps needs exactly one of steps, timesteps`);
    if (orig > T)
      throw new Error(`${NAME}: originalInferenceSteps ${orig} cannot exceed numTrainTimesteps ${T}`);
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
      if (!Number.isInteger(n) || n < 1 || n > orig)
        throw new Error(
          `${NAME}: steps must be an integer in [1, ${orig}] (originalInferenceSteps), got ${n}`,
        );
      const k = Math.floor(T / orig);
      const origin = Array.from({ length: orig }, (_, i) => (i + 1) * k - 1).reverse();
      this.timesteps = Float64Array.from({ length: n }, (_, i) => origin[Math.floor((i * orig) / n)]);
    }
    const sig = (a: number) => Math.sqrt((1 - a) / a);
    this.sigmas = Float64Array.from(
      [...this.timesteps].map((t) => sig(this.alphasCumprod[t])).concat(sig(this.finalAlphaCumprod)),
    );
    this.stepIdx = null;
  }

  scaleModelInput(sample: SampleLike): Sample {
    return f64(sample);
  }

  /** (c_skip, c_out) of the consistency parameterisation at timestep t. */
  boundaryScalings(t: number): [number, number] {
    const sd = 0.5;
    const tau = t * this.config.timestepScaling;
    return [(sd * sd) / (tau * tau + sd * sd), tau / Math.sqrt(tau * tau + sd * sd)];
  }

  step(output: SampleLike, t: number, sample: SampleLike, options?: StepOptions): StepOutput {
    if (this.timesteps.length === 0) throw new Error(`${NAME}: call setTimesteps before step`);
    checkSameLength(NAME, output, sample, 'model output');
    if (this.stepIdx === null) this.stepIdx = indexOfTimestep(NAME, this.timesteps, t);
    const i = this.stepIdx;
    const last = i === this.timesteps.length - 1;
    const aT = this.alphasCumprod[t];
    const tPrev = last ? t : this.timesteps[i + 1];
    const aP = tPrev >= 0 ? this.alphasCumprod[tPrev] : this.finalAlphaCumprod;
    const [cSkip, cOut] = this.boundaryScalings(t);
    const x = f64(sample);
    const m = f64(output);
    const p = this.config.predictionType;
    const r = this.config.clipSampleRange;
    const denoised = new Float64Array(x.length);
    for (let k = 0; k < x.length; k++) {
      let x0 =
        p === 'epsilon'
          ? (x[k] - Math.sqrt(1 - aT) * m[k]) / Math.sqrt(aT)
          : p === 'sample'
            ? m[k]
            : Math.sqrt(aT) * x[k] - Math.sqrt(1 - aT) * m[k];
      if (this.config.clipSample) x0 = Math.min(r, Math.max(-r, x0));
      denoised[k] = cOut * x0 + cSkip * x[k];
    }
    let prev: Sample = denoised;
    if (!last) {
      const z = drawNoise(NAME, x.length, options);
      prev = denoised.map((d, k) => Math.sqrt(aP) * d + Math.sqrt(1 - aP) * z[k]);
    }
    this.stepIdx = i + 1;
    return { prevSample: prev, predOriginalSample: denoised };
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
