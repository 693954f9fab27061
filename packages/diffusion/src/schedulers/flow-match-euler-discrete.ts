/**
 * @file Euler sampler for flow-matching (rectified-flow) models, x_σ = (1 − σ)·x0 + σ·ε, velocity
 * v = ε − x0 (Liu et al. arXiv 2209.03003; Esser et al. "Scaling Rectified Flow Transformers", SD3,
 * arXiv 2403.03206), with diffusers' FlowMatchEulerDiscreteScheduler options and defaults
 * (huggingface/diffusers:src/diffusers/schedulers/scheduling_flow_match_euler_discrete.py):
 *   x_next = x + (σ_next − σ)·v̂
 * Schedule: σ_max = 1 and σ_min = shift(1/T) from the training grid, N timesteps linspace(σ_max·T,
 * σ_min·T, N)/T, then the static shift sσ/(1+(s−1)σ) or, with dynamic shifting, the exponential
 * time shift e^μ/(e^μ + 1/σ − 1) with μ given to setTimesteps (e.g. from `calculateShift`); then
 * optional shift_terminal stretching and Karras/exponential/beta re-spacing; timesteps = σ·T; σ = 0
 * appended. Optional stochastic sampling: x_next = (1 − σ_next)·x̂0 + σ_next·z.
 */
import { z } from 'zod';
import { SigmaSpacing } from '../schedules/discrete';
import { shiftSigma, stretchShiftToTerminal, timeShiftExponential, timeShiftLinear } from '../schedules/flow';
import { betaSigmas, exponentialSigmas, karrasSigmas } from '../schedules/sigmas';
import type { Sample, SampleLike, Scheduler, SetTimestepsOptions, StepOptions, StepOutput } from '../types';
import { checkSameLength, drawNoise, f64, indexOfTimestep, parseOptions } from '../util';

const NAME = 'FlowMatchEulerDiscreteScheduler';

export const FlowMatchEulerDiscreteSchedulerOptions = z.strictObject({
  numTrainTimesteps: z.number().int().min(2).default(1000),
  shift: z.number().positive().default(1),
  useDynamicShifting: z.boolean().default(false),
  baseShift: z.number().default(0.5),
  maxShift: z.number().default(1.15),
  baseImageSeqLen: z.number().int().positive().default(256),
  maxImageSeqLen: z.number().int().positive().default(4096),
  shiftTerminal: z.number().gt(0).lt(1).optional(),
  sigmaSpacing: SigmaSpacing.exclude(['lu']).default('default'),
  timeShiftType: z.enum(['exponential', 'linear']).default('exponential'),
  stochasticSampling: z.boolean().default(false),
});
export type FlowMatchEulerDiscreteSchedulerOptions = z.input<typeof FlowMatchEulerDiscreteSchedulerOptions>;

export class FlowMatchEulerDiscreteScheduler implements Scheduler {
  readonly config: z.output<typeof FlowMatchEulerDiscreteSchedulerOptions>;
  readonly initNoiseSigma = 1;
  readonly order = 1;
  timesteps: Float64Array = new Float64Array(0);
  sigmas: Float64Array = new Float64Array(0);
  private stepIdx: number | null = null;
  private readonly sigmaMax: number;
  private readonly sigmaMin: number;

  constructor(options?: FlowMatchEulerDiscreteSchedulerOptions) {
    this.config = parseOptions(NAME, FlowMatchEulerDiscreteSchedulerOptions, options);
    const T = this.config.numTrainTimesteps;
    // diffusers' training grid: σ = linspace(1, T, T)/T (descending), statically shifted unless dynamic.
    const sh = (s: number) => (this.config.useDynamicShifting ? s : shiftSigma(s, this.config.shift));
    this.sigmaMax = sh(1);
    this.sigmaMin = sh(1 / T);
  }

  setTimesteps(options: SetTimestepsOptions | number): void {
    const o = typeof options === 'number' ? { steps: options } : options;
    const T = this.config.numTrainTimesteps;
    if (this.config.useDynamicShifting && o.mu === undefined)
      throw new Error(`${NAME}: useDynamicShifting needs mu in setTimesteps`);
    if (!this.config.useDynamicShifting && o.mu !== undefined)
      throw new Error(`${NAME}: mu needs useDynamicShifting: true`);
    let sigmas: Float64Array;
    if (o.sigmas !== undefined) {
      sigmas = Float64Array.from(o.sigmas);
      if (o.steps !== undefined && o.steps !== sigmas.length)
        throw new Error(`${NAME}: sigmas must have steps values`);
    } else if (o.timesteps !== undefined) {
      sigmas = Float64Array.from(o.timesteps, (t) => t / T);
    } else {
      const n = o.steps;
      if (n === undefined || !Number.isInteger(n) || n < 1)
        throw new Error(`${NAME}: setTimesteps needs steps (a positive integer), timesteps or sigmas`);
      const a = this.sigmaMax * T;
      const b = this.sigmaMin * T;
      sigmas = Float64Array.from({ length: n }, (_, i) => (n === 1 ? a : a + (i * (b - a)) / (n - 1)) / T);
    }
    sigmas.forEach((s, i) => {
      if (!(s > 0 && s <= 1) || (i > 0 && s >= sigmas[i - 1]))
        throw new Error(`${NAME}: sigmas must be in (0, 1] and descending, got ${s} at ${i}`);
    });
    if (this.config.useDynamicShifting) {
      const mu = o.mu as number;
      sigmas = sigmas.map((s) =>
        this.config.timeShiftType === 'exponential' ? timeShiftExponential(mu, s) : timeShiftLinear(mu, s),
      );
    } else {
      sigmas = sigmas.map((s) => shiftSigma(s, this.config.shift));
    }
    if (this.config.shiftTerminal !== undefined)
      sigmas = stretchShiftToTerminal(sigmas, this.config.shiftTerminal);
    const lo = sigmas[sigmas.length - 1];
    const hi = sigmas[0];
    const n = sigmas.length;
    if (this.config.sigmaSpacing === 'karras') sigmas = karrasSigmas(lo, hi, n);
    else if (this.config.sigmaSpacing === 'exponential') sigmas = exponentialSigmas(lo, hi, n);
    else if (this.config.sigmaSpacing === 'beta') sigmas = betaSigmas(lo, hi, n);
    this.timesteps = sigmas.map((s) => s * T);
    const all = new Float64Array(n + 1);
    all.set(sigmas);
    this.sigmas = all;
    this.stepIdx = null;
  }

  scaleModelInput(sample: SampleLike): Sample {
    return f64(sample);
  }

  step(output: SampleLike, t: number, sample: SampleLike, options?: StepOptions): StepOutput {
    if (this.timesteps.length === 0) throw new Error(`${NAME}: call setTimesteps before step`);
    checkSameLength(NAME, output, sample, 'model output');
    if (this.stepIdx === null) this.stepIdx = indexOfTimestep(NAME, this.timesteps, t);
    const i = this.stepIdx;
    const s = this.sigmas[i];
    const next = this.sigmas[i + 1];
    const x = f64(sample);
    const v = f64(output);
    const x0 = x.map((xv, k) => xv - s * v[k]);
    let prev: Sample;
    if (this.config.stochasticSampling) {
      const z = drawNoise(NAME, x.length, options);
      prev = x0.map((p, k) => (1 - next) * p + next * z[k]);
    } else {
      prev = x.map((xv, k) => xv + (next - s) * v[k]);
    }
    this.stepIdx = i + 1;
    return { prevSample: prev, predOriginalSample: x0 };
  }

  /** diffusers' scale_noise: σ·ε + (1 − σ)·x0 at the schedule's σ for t. */
  addNoise(original: SampleLike, noise: SampleLike, t: number): Sample {
    checkSameLength(NAME, noise, original, 'noise');
    const s = this.sigmas[indexOfTimestep(NAME, this.timesteps, t)];
    const n = f64(noise);
    return f64(original).map((v, k) => s * n[k] + (1 - s) * v);
  }
}
