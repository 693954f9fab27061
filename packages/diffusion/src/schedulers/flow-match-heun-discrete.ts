/**
 * @file Heun's second-order sampler for flow-matching models (Karras et al. arXiv 2206.00364,
 * Algorithm 1, on the rectified-flow ODE dx/dσ = v), with diffusers' FlowMatchHeunDiscreteScheduler
 * contract (huggingface/diffusers:src/diffusers/schedulers/scheduling_flow_match_heun_discrete.py):
 * σ = shift(linspace(1, 1/T, N)) with σ = 0 appended, interior timesteps and sigmas repeated so the
 * loop calls the model twice per interval:
 *   x̃ = x + (σ_next − σ)·v̂(x, σ);  x_next = x + (σ_next − σ)·(v̂(x, σ) + v̂(x̃, σ_next))/2
 * The last interval to σ = 0 is a plain Euler step.
 */
import { z } from 'zod';
import { shiftSigma } from '../schedules/flow';
import type { Sample, SampleLike, Scheduler, SetTimestepsOptions, StepOutput } from '../types';
import { checkSameLength, f64, indexOfTimestep, parseOptions } from '../util';

const NAME = 'FlowMatchHeunDiscreteScheduler';

export const FlowMatchHeunDiscreteSchedulerOptions = z.strictObject({
  numTrainTimesteps: z.number().int().min(2).default(1000),
  shift: z.number().positive().default(1),
});
export type FlowMatchHeunDiscreteSchedulerOptions = z.input<typeof FlowMatchHeunDiscreteSchedulerOptions>;

export class FlowMatchHeunDiscreteScheduler implements Scheduler {
  readonly config: z.output<typeof FlowMatchHeunDiscreteSchedulerOptions>;
  readonly initNoiseSigma = 1;
  readonly order = 2;
  timesteps: Float64Array = new Float64Array(0);
  sigmas: Float64Array = new Float64Array(0);
  private stepIdx: number | null = null;
  private state: { d: Sample; dt: number; x: Sample } | null = null;

  constructor(options?: FlowMatchHeunDiscreteSchedulerOptions) {
    this.config = parseOptions(NAME, FlowMatchHeunDiscreteSchedulerOptions, options);
  }

  setTimesteps(options: SetTimestepsOptions | number): void {
    const o = typeof options === 'number' ? { steps: options } : options;
    const n = o.steps;
    if (n === undefined || o.timesteps !== undefined || o.sigmas !== undefined || o.mu !== undefined) {
      throw new Error(`${NAME}: setTimesteps takes steps only`);
    }
    if (!Number.isInteger(n) || n < 1) throw new Error(`${NAME}: steps must be a positive integer, got ${n}`);
    const T = this.config.numTrainTimesteps;
    const { shift } = this.config;
    // diffusers: σ_max = shift(1) = 1 and σ_min = shift(1/T) from the training grid, then shifted again
    const hi = T * shiftSigma(1, shift);
    const lo = T * shiftSigma(1 / T, shift);
    const base = Array.from({ length: n }, (_, i) =>
      shiftSigma((n === 1 ? hi : hi + (i * (lo - hi)) / (n - 1)) / T, shift),
    );
    const all = [...base, 0];
    const sig = [all[0]];
    for (let i = 1; i < all.length - 1; i++) sig.push(all[i], all[i]);
    sig.push(0);
    const ts = [base[0] * T];
    for (let i = 1; i < n; i++) ts.push(base[i] * T, base[i] * T);
    this.sigmas = Float64Array.from(sig);
    this.timesteps = Float64Array.from(ts);
    this.stepIdx = null;
    this.state = null;
  }

  scaleModelInput(sample: SampleLike): Sample {
    return f64(sample);
  }

  step(output: SampleLike, t: number, sample: SampleLike): StepOutput {
    if (this.timesteps.length === 0) throw new Error(`${NAME}: call setTimesteps before step`);
    checkSameLength(NAME, output, sample, 'model output');
    if (this.stepIdx === null) this.stepIdx = indexOfTimestep(NAME, this.timesteps, t);
    const i = this.stepIdx;
    const first = this.state === null;
    const sigma = first ? this.sigmas[i] : this.sigmas[i - 1];
    const next = first ? this.sigmas[i + 1] : this.sigmas[i];
    const x = f64(sample);
    const v = f64(output);
    let prev: Sample;
    if (first) {
      const dt = next - sigma;
      prev = x.map((xv, k) => xv + dt * v[k]);
      this.state = { d: Float64Array.from(v), dt, x };
    } else {
      const st = this.state as { d: Sample; dt: number; x: Sample };
      prev = st.x.map((xv, k) => xv + st.dt * 0.5 * (st.d[k] + v[k]));
      this.state = null;
    }
    this.stepIdx = i + 1;
    const sIn = first ? sigma : next;
    return { prevSample: prev, predOriginalSample: x.map((xv, k) => xv - sIn * v[k]) };
  }

  /** σ·ε + (1 − σ)·x0 at the schedule's σ for t. */
  addNoise(original: SampleLike, noise: SampleLike, t: number): Sample {
    checkSameLength(NAME, noise, original, 'noise');
    const s = this.sigmas[indexOfTimestep(NAME, this.timesteps, t)];
    const n = f64(noise);
    return f64(original).map((v, k) => s * n[k] + (1 - s) * v);
  }
}
