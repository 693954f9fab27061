/**
 * @file The contracts of @hasten/diffusion (DESIGN.md §2): a `Denoiser` maps a noisy sample x_t and
 * a timestep to a prediction of a declared type; a `Scheduler` follows diffusers' scheduler contract
 * (`setTimesteps`, `scaleModelInput`, `step`, `addNoise`). Samples are flat Float64Arrays: a batch
 * of B items of D values each is one array of B*D values (schedulers act elementwise, so they never
 * need the shape); Float32Array inputs are accepted and read as f64.
 */
import type { Philox } from '@hasten/core-tensor';

/** What a denoiser predicts: noise, velocity α·ε − σ·x0, the clean sample, or the flow velocity ε − x0. */
export type PredictionType = 'epsilon' | 'v_prediction' | 'sample' | 'flow_prediction';

/** A sample buffer (the batch flattened). */
export type Sample = Float64Array;
export type SampleLike = Float64Array | Float32Array | readonly number[];

/**
 * `(x_t, t, cond) -> prediction`. `t` is the scheduler's timestep (a training-step index for VP
 * schedulers, possibly fractional; σ·1000 for flow-matching ones). `cond` is whatever the model
 * conditions on (a class label per batch item here), or null for the unconditional branch.
 */
export interface Denoiser<C = unknown> {
  readonly predictionType: PredictionType;
  (x: Sample, t: number, cond: C | null): Sample;
}

export interface StepOptions {
  /** Noise for stochastic samplers (as many values as the sample). */
  noise?: SampleLike;
  /** Or a seeded generator to draw it from (core-tensor's Philox). */
  generator?: Philox;
}

export interface StepOutput {
  prevSample: Sample;
  /** The model's estimate of x0 at this step (absent for schedulers that do not form one). */
  predOriginalSample?: Sample;
}

export interface SetTimestepsOptions {
  /** Number of inference steps (diffusers' num_inference_steps). */
  steps?: number;
  /** Custom timesteps, descending. */
  timesteps?: readonly number[];
  /** Custom sigmas, descending, with the final sigma included (length = steps + 1). */
  sigmas?: readonly number[];
  /** Dynamic shift of flow-matching schedules (the exponent of the time shift). */
  mu?: number;
}

export interface Scheduler {
  /** Timesteps the model is called at, in order (length = number of model calls per loop / order). */
  readonly timesteps: Float64Array;
  /** Noise levels per step, with the final one appended (schedulers that use sigmas). */
  readonly sigmas: Float64Array;
  /** Standard deviation of the initial noise. */
  readonly initNoiseSigma: number;
  /** Model evaluations per entry of `timesteps` that the scheduler's `order` implies (diffusers' `order`). */
  readonly order: number;
  setTimesteps(options: SetTimestepsOptions | number): void;
  scaleModelInput(sample: SampleLike, t: number): Sample;
  step(output: SampleLike, t: number, sample: SampleLike, options?: StepOptions): StepOutput;
  addNoise(original: SampleLike, noise: SampleLike, t: number): Sample;
}
