/**
 * @file What diffusers' sigma-based VP schedulers share (EulerDiscrete and its siblings,
 * huggingface/diffusers:src/diffusers/schedulers/scheduling_euler_discrete.py): the step index
 * found from the first timestep (`_init_step_index`) or set by `setBeginIndex`, input scaling
 * x/√(σ²+1), the initial noise σ_max (or √(σ_max²+1) for 'leading' spacing), and `addNoise`
 * x0 + σ·ε in the VE view. The update rules live in each scheduler's own file.
 */
import type { Sample, SampleLike, SetTimestepsOptions } from '../types';
import { checkSameLength, f64, indexOfTimestep } from '../util';

export abstract class SigmaScheduler {
  timesteps: Float64Array = new Float64Array(0);
  sigmas: Float64Array = new Float64Array(0);
  protected stepIdx: number | null = null;
  protected beginIdx: number | null = null;
  protected abstract readonly name: string;
  protected abstract readonly leadingSpacing: boolean;

  abstract setTimesteps(options: SetTimestepsOptions | number): void;

  get stepIndex(): number | null {
    return this.stepIdx;
  }

  /** Start at this index of `timesteps` (img2img), instead of finding the first timestep. */
  setBeginIndex(i: number): void {
    this.beginIdx = i;
  }

  get initNoiseSigma(): number {
    let max = 0;
    for (const s of this.sigmas) if (s > max) max = s;
    return this.leadingSpacing ? Math.sqrt(max * max + 1) : max;
  }

  protected normaliseRequest(options: SetTimestepsOptions | number): SetTimestepsOptions {
    const o = typeof options === 'number' ? { steps: options } : options;
    const given = [o.steps, o.timesteps, o.sigmas].filter((v) => v !== undefined).length;
    if (given !== 1)
      throw new Error(`${this.name}: setTimesteps needs exactly one of steps, timesteps, sigmas`);
    if (o.steps !== undefined && (!Number.isInteger(o.steps) || o.steps < 1)) {
      throw new Error(`${this.name}: steps must be a positive integer, got ${o.steps}`);
    }
    this.stepIdx = null;
    this.beginIdx = null;
    return o;
  }

  protected initStepIndex(t: number): number {
    if (this.timesteps.length === 0) throw new Error(`${this.name}: call setTimesteps before stepping`);
    if (this.stepIdx === null) this.stepIdx = this.beginIdx ?? indexOfTimestep(this.name, this.timesteps, t);
    return this.stepIdx;
  }

  scaleModelInput(sample: SampleLike, t: number): Sample {
    const s = this.sigmas[this.initStepIndex(t)];
    const c = 1 / Math.sqrt(s * s + 1);
    return f64(sample).map((v) => v * c);
  }

  /** x0 + σ(t)·ε, σ at the schedule's entry for `t`. */
  addNoise(original: SampleLike, noise: SampleLike, t: number): Sample {
    checkSameLength(this.name, noise, original, 'noise');
    const s = this.sigmas[this.beginIdx ?? indexOfTimestep(this.name, this.timesteps, t)];
    const n = f64(noise);
    return f64(original).map((v, k) => v + s * n[k]);
  }
}
