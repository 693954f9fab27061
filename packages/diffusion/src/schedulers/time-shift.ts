/**
 * @file Time-Shift Sampler (Li, Qu, Yao, Sun, Moens, "Alleviating Exposure Bias in Diffusion Models
 * through Sampling with Shifted Time Steps", ICLR 2024, arXiv 2305.15583; the rule as in the
 * official code, Mingxiao-Li/TS-DPM and tingyu215/TS-DPM-ADM `get_next_time_window`). Exposure
 * bias leaves the sample x_t of a step with a noise level that differs from the scheduled t; the
 * next model call is made at the timestep whose noise level matches it better:
 *   after the step to the next scheduled timestep t', per item b (its `dim` values):
 *     v_b = unbiased variance of x_{t'}[b]
 *     t_s[b] = argmin_{τ ∈ [t' − ⌊w/2⌋, t' + ⌊w/2⌋]} |v_b − (1 − ᾱ_τ)|   (first minimum)
 *   only while t' > t_c (cutoff; below it the data's own variance dominates and t_s = t'); the
 *   next model call is ε̂ = ε_θ(x_{t'}, t_s[b]), and the DDIM step goes from t_s[b] to the following
 *   scheduled timestep:
 *     x̂0 = (x − √(1−ᾱ_{t_s})·ε̂)/√ᾱ_{t_s},  x_prev = √ᾱ_prev·x̂0 + √(1−ᾱ_prev−σ_η²)·ε̂ + σ_η·z
 *   (DDIM eq. 12 with η and the base scheduler's prediction type and clipping).
 * One addition of ours: candidates are also kept strictly between the scheduled timesteps around
 * t' (only matters when ⌊w/2⌋ reaches a neighbour), so a step never goes up in noise.
 * Defaults w = 80, t_c = 300: the DDIM example of the official ADM-version README.
 *
 * Use: `const ts = new TimeShiftScheduler(new DDIMScheduler(...), { dim });
 * sample(ts, ts.wrap(model), ...)`. The wrapped denoiser evaluates each item at its own shifted
 * timestep (one denoiser call per distinct timestep in the batch; `modelCalls` counts them), and
 * CFG's doubled batch maps item j to item j mod batch. `trace` reports the timesteps used.
 */
import { z } from 'zod';
import type { Denoiser, Sample, SampleLike, Scheduler, SetTimestepsOptions, StepOutput } from '../types';
import { checkSameLength, drawNoise, f64, parseOptions } from '../util';
import type { DDIMScheduler, DDIMStepOptions } from './ddim';

const NAME = 'TimeShiftScheduler';

export const TimeShiftOptions = z.strictObject({
  /** Values per batch item (the variance is taken over each item, so at least 2). */
  dim: z.number().int().min(2),
  /** Window size w: candidates t' − ⌊w/2⌋ … t' + ⌊w/2⌋ (w = 1: no shift). */
  window: z.number().int().min(1).default(80),
  /** Cutoff t_c: shift only while the next scheduled timestep is above it. */
  cutoff: z.number().min(0).default(300),
});
export type TimeShiftOptions = z.input<typeof TimeShiftOptions>;

export interface TimeShiftTraceEntry {
  /** Step index and its scheduled timestep. */
  step: number;
  scheduled: number;
  /** Timestep each item's model call used at this step. */
  used: number[];
}

export class TimeShiftScheduler implements Scheduler {
  readonly base: DDIMScheduler;
  readonly config: z.output<typeof TimeShiftOptions>;
  readonly order = 1;
  /** Per step, the timesteps the items were evaluated at (filled as the loop runs). */
  trace: TimeShiftTraceEntry[] = [];
  /** Denoiser calls made through `wrap` (one per distinct timestep per step). */
  modelCalls = 0;
  private stepIdx = 0;
  /** Shifted timesteps for the current step (null: all at the scheduled one). */
  private shift: Int32Array | null = null;
  private wrappedAt = -1;

  constructor(base: DDIMScheduler, options: TimeShiftOptions) {
    this.base = base;
    this.config = parseOptions(NAME, TimeShiftOptions, options);
  }

  get timesteps(): Float64Array {
    return this.base.timesteps;
  }

  get sigmas(): Float64Array {
    return this.base.sigmas;
  }

  get initNoiseSigma(): number {
    return this.base.initNoiseSigma;
  }

  /** The base DDIM's ᾱ (the noise levels the shift matches against). */
  get alphasCumprod(): Float64Array {
    return this.base.alphasCumprod;
  }

  setTimesteps(options: SetTimestepsOptions | number): void {
    this.base.setTimesteps(options);
    this.trace = [];
    this.modelCalls = 0;
    this.stepIdx = 0;
    this.shift = null;
    this.wrappedAt = -1;
  }

  scaleModelInput(sample: SampleLike): Sample {
    return f64(sample);
  }

  /** The model, evaluated per item at this step's shifted timesteps. */
  wrap<C>(denoiser: Denoiser<C>): Denoiser<C> {
    const f = ((x: Sample, t: number, cond: C | null) => {
      const i = this.stepIdx;
      if (t !== this.timesteps[i])
        throw new Error(
          `${NAME}: the wrapped denoiser expected the scheduled timestep ${this.timesteps[i]}, got ${t}`,
        );
      this.wrappedAt = i;
      const shift = this.shift;
      const d = this.config.dim;
      const items = x.length / d;
      if (shift === null) {
        this.modelCalls++;
        return denoiser(x, t, cond);
      }
      if (!Number.isInteger(items) || items % shift.length !== 0) {
        throw new Error(
          `${NAME}: the denoiser input has ${x.length} values, not a multiple of batch ${shift.length} × dim ${d}`,
        );
      }
      const groups = new Map<number, number[]>();
      for (let j = 0; j < items; j++) {
        const tau = shift[j % shift.length];
        const g = groups.get(tau);
        if (g) g.push(j);
        else groups.set(tau, [j]);
      }
      if (groups.size === 1) {
        this.modelCalls++;
        return denoiser(x, shift[0], cond);
      }
      const out = new Float64Array(x.length);
      for (const [tau, idx] of groups) {
        const sub = new Float64Array(idx.length * d);
        idx.forEach((j, r) => {
          sub.set(x.subarray(j * d, (j + 1) * d), r * d);
        });
        const subCond = (Array.isArray(cond) ? idx.map((j) => cond[j]) : cond) as C | null;
        this.modelCalls++;
        const y = denoiser(sub, tau, subCond);
        idx.forEach((j, r) => {
          out.set(y.subarray(r * d, (r + 1) * d), j * d);
        });
      }
      return out;
    }) as Denoiser<C>;
    Object.defineProperty(f, 'predictionType', { value: denoiser.predictionType });
    return f;
  }

  step(output: SampleLike, t: number, sample: SampleLike, options?: DDIMStepOptions): StepOutput {
    const ts = this.timesteps;
    if (ts.length === 0) throw new Error(`${NAME}: call setTimesteps before step`);
    checkSameLength(NAME, output, sample, 'model output');
    const i = this.stepIdx;
    if (i >= ts.length || t !== ts[i])
      throw new Error(
        `${NAME}: step ${i} expected timestep ${ts[i]}, got ${t} (steps must follow the schedule)`,
      );
    const d = this.config.dim;
    const batch = sample.length / d;
    if (!Number.isInteger(batch))
      throw new Error(`${NAME}: sample has ${sample.length} values, not a multiple of dim ${d}`);
    const shift = this.shift;
    if (shift !== null && this.wrappedAt !== i) {
      throw new Error(
        `${NAME}: the model must be evaluated at the shifted timesteps; pass scheduler.wrap(denoiser) to sample`,
      );
    }
    const base = this.base;
    const cfg = base.config;
    const eta = options?.eta ?? cfg.eta;
    const aPrev = i + 1 < ts.length ? base.alphasCumprod[ts[i + 1]] : base.finalAlphaCumprod;
    const noise = eta > 0 ? drawNoise(NAME, sample.length, options) : null;
    const x = f64(sample);
    const m = f64(output);
    const x0 = new Float64Array(x.length);
    const prev = new Float64Array(x.length);
    const r = cfg.clipSampleRange;
    const used: number[] = [];
    for (let b = 0; b < batch; b++) {
      const tb = shift === null ? t : shift[b];
      used.push(tb);
      // the same expressions as DDIMScheduler.step, per item
      const aT = base.alphasCumprod[tb];
      const bT = 1 - aT;
      const variance = ((1 - aPrev) / bT) * (1 - aT / aPrev);
      const std = eta * Math.sqrt(variance);
      const dirCoef = Math.sqrt(Math.max(0, 1 - aPrev - std * std));
      for (let k = b * d; k < (b + 1) * d; k++) {
        let p0: number;
        let eps: number;
        if (cfg.predictionType === 'epsilon') {
          p0 = (x[k] - Math.sqrt(bT) * m[k]) / Math.sqrt(aT);
          eps = m[k];
        } else if (cfg.predictionType === 'sample') {
          p0 = m[k];
          eps = (x[k] - Math.sqrt(aT) * p0) / Math.sqrt(bT);
        } else {
          p0 = Math.sqrt(aT) * x[k] - Math.sqrt(bT) * m[k];
          eps = Math.sqrt(aT) * m[k] + Math.sqrt(bT) * x[k];
        }
        if (cfg.clipSample) p0 = Math.min(r, Math.max(-r, p0));
        x0[k] = p0;
        prev[k] = Math.sqrt(aPrev) * p0 + dirCoef * eps + (noise ? std * noise[k] : 0);
      }
    }
    this.trace.push({ step: i, scheduled: t, used });
    this.stepIdx = i + 1;
    this.shift = i + 1 < ts.length ? this.chooseShift(prev, batch, i + 1) : null;
    return { prevSample: prev, predOriginalSample: x0 };
  }

  /** t_s per item for step j (null when no item moves). */
  private chooseShift(x: Float64Array, batch: number, j: number): Int32Array | null {
    const ts = this.timesteps;
    const tNext = ts[j];
    const half = Math.floor(this.config.window / 2);
    if (!(tNext > this.config.cutoff) || half === 0) return null;
    const ac = this.base.alphasCumprod;
    const upper = j > 0 ? ts[j - 1] - 1 : ac.length - 1;
    const lower = j + 1 < ts.length ? ts[j + 1] + 1 : 0;
    const lo = Math.max(0, lower, tNext - half);
    const hi = Math.min(ac.length - 1, upper, tNext + half);
    const d = this.config.dim;
    const out = new Int32Array(batch);
    let moved = false;
    for (let b = 0; b < batch; b++) {
      let mean = 0;
      for (let k = b * d; k < (b + 1) * d; k++) mean += x[k];
      mean /= d;
      let ss = 0;
      for (let k = b * d; k < (b + 1) * d; k++) ss += (x[k] - mean) ** 2;
      const v = ss / (d - 1);
      let best = tNext;
      let bestDist = Number.POSITIVE_INFINITY;
      for (let tau = lo; tau <= hi; tau++) {
        const dist = Math.abs(v - (1 - ac[tau]));
        if (dist < bestDist) {
          bestDist = dist;
          best = tau;
        }
      }
      out[b] = best;
      if (best !== tNext) moved = true;
    }
    return moved ? out : null;
  }

  addNoise(original: SampleLike, noise: SampleLike, t: number): Sample {
    return this.base.addNoise(original, noise, t);
  }
}
