/**
 * @file PNDM / PLMS (Liu, Ren, Lin, Zhao, "Pseudo Numerical Methods for Diffusion Models on
 * Manifolds", arXiv 2202.09778), with diffusers' PNDMScheduler options, defaults and step rules
 * (huggingface/diffusers:src/diffusers/schedulers/scheduling_pndm.py). The transfer from t to t'
 * with a noise estimate ε (the paper's eq. 11, "φ"):
 *   x_{t'} = √(ᾱ_{t'}/ᾱ_t)·x − (ᾱ_{t'} − ᾱ_t)·ε / (ᾱ_t√(1−ᾱ_{t'}) + √(ᾱ_t(1−ᾱ_t)ᾱ_{t'}))
 * PRK warm-up (3 pseudo Runge–Kutta steps, 4 calls each, at half steps t − (T div N)/2), then PLMS:
 * ε' = (55ε_0 − 59ε_1 + 37ε_2 − 9ε_3)/24 (with 1-, 2-, 3-term Adams–Bashforth while the history
 * fills). `skipPrkSteps` replaces the warm-up by a pseudo-Heun first step (the second call at the
 * repeated timestep averages two estimates), as Stable Diffusion pipelines use it.
 * As in diffusers, PLMS steps to t − T div N (consistent with the default 'leading' spacing).
 */
import { z } from 'zod';
import { alphasCumprodOf, vpConfigShape } from '../schedules/betas';
import { spacedTimesteps, TimestepSpacing } from '../schedules/spacing';
import type { Sample, SampleLike, Scheduler, SetTimestepsOptions, StepOutput } from '../types';
import { checkSameLength, f64, parseOptions } from '../util';

const NAME = 'PNDMScheduler';

export const PNDMSchedulerOptions = z.strictObject({
  ...vpConfigShape,
  skipPrkSteps: z.boolean().default(false),
  setAlphaToOne: z.boolean().default(false),
  predictionType: z.enum(['epsilon', 'v_prediction']).default('epsilon'),
  timestepSpacing: TimestepSpacing.default('leading'),
  stepsOffset: z.number().int().min(0).default(0),
});
export type PNDMSchedulerOptions = z.input<typeof PNDMSchedulerOptions>;

export class PNDMScheduler implements Scheduler {
  readonly config: z.output<typeof PNDMSchedulerOptions>;
  readonly alphasCumprod: Float64Array;
  readonly finalAlphaCumprod: number;
  readonly initNoiseSigma = 1;
  readonly order = 1;
  timesteps: Float64Array = new Float64Array(0);
  sigmas: Float64Array = new Float64Array(0);
  prkTimesteps: Float64Array = new Float64Array(0);
  plmsTimesteps: Float64Array = new Float64Array(0);
  private n = 0;
  private counter = 0;
  private ets: Sample[] = [];
  private curModelOutput: Sample | null = null;
  private curSample: Sample | null = null;

  constructor(options?: PNDMSchedulerOptions) {
    this.config = parseOptions(NAME, PNDMSchedulerOptions, options);
    if (this.config.rescaleBetasZeroSnr)
      throw new Error(`${NAME}: rescaleBetasZeroSnr is not supported (as in diffusers)`);
    this.alphasCumprod = alphasCumprodOf(this.config);
    this.finalAlphaCumprod = this.config.setAlphaToOne ? 1 : this.alphasCumprod[0];
  }

  setTimesteps(options: SetTimestepsOptions | number): void {
    const o = typeof options === 'number' ? { steps: options } : options;
    if (o.steps === undefined || o.timesteps !== undefined || o.sigmas !== undefined || o.mu !== undefined) {
      throw new Error(`${NAME}: setTimesteps takes steps only`);
    }
    const T = this.config.numTrainTimesteps;
    const N = o.steps;
    if (!Number.isInteger(N) || N < 4 || N > T)
      throw new Error(`${NAME}: steps must be an integer in [4, ${T}], got ${N}`);
    this.n = N;
    // ascending, as diffusers' _timesteps
    const ts = spacedTimesteps(this.config.timestepSpacing, T, N, {
      family: 'ddim',
      stepsOffset: this.config.stepsOffset,
    })
      .slice()
      .reverse();
    if (this.config.skipPrkSteps) {
      this.prkTimesteps = new Float64Array(0);
      this.plmsTimesteps = Float64Array.from([...ts.slice(0, -1), ts[N - 2], ts[N - 1]]).reverse();
    } else {
      const h = Math.floor(Math.floor(T / N) / 2);
      const last4 = [...ts.slice(-4)];
      const prk = last4.flatMap((t) => [t, t + h]); // repeat(2) + tile([0, h])
      const rep = prk
        .slice(0, -1)
        .flatMap((t) => [t, t])
        .slice(1, -1);
      this.prkTimesteps = Float64Array.from(rep.reverse());
      this.plmsTimesteps = ts.slice(0, -3).reverse();
    }
    this.timesteps = Float64Array.from([...this.prkTimesteps, ...this.plmsTimesteps]);
    const sig = (a: number) => Math.sqrt((1 - a) / a);
    this.sigmas = Float64Array.from(
      [...this.timesteps].map((t) => sig(this.alphasCumprod[t])).concat(sig(this.finalAlphaCumprod)),
    );
    this.counter = 0;
    this.ets = [];
    this.curModelOutput = null;
    this.curSample = null;
  }

  scaleModelInput(sample: SampleLike): Sample {
    return f64(sample);
  }

  /** φ: transfer x from t to tPrev with the noise estimate `eps` (or v, converted). */
  private prevSample(x: Sample, t: number, tPrev: number, out: Sample): Sample {
    const aT = this.alphasCumprod[t];
    const aP = tPrev >= 0 ? this.alphasCumprod[tPrev] : this.finalAlphaCumprod;
    const bT = 1 - aT;
    const eps =
      this.config.predictionType === 'v_prediction'
        ? out.map((v, k) => Math.sqrt(aT) * v + Math.sqrt(bT) * x[k])
        : out;
    const c = Math.sqrt(aP / aT);
    const den = aT * Math.sqrt(1 - aP) + Math.sqrt(aT * bT * aP);
    return x.map((v, k) => c * v - ((aP - aT) * eps[k]) / den);
  }

  step(output: SampleLike, t: number, sample: SampleLike): StepOutput {
    if (this.n === 0) throw new Error(`${NAME}: call setTimesteps before step`);
    checkSameLength(NAME, output, sample, 'model output');
    if (this.counter >= this.timesteps.length)
      throw new Error(`${NAME}: the schedule has ended; call setTimesteps again`);
    const m = Float64Array.from(f64(output));
    const x = f64(sample);
    const prk = this.counter < this.prkTimesteps.length;
    const prev = prk ? this.stepPrk(m, t, x) : this.stepPlms(m, t, x);
    this.counter++;
    return { prevSample: prev };
  }

  private stepPrk(m: Sample, t: number, x: Sample): Sample {
    const T = this.config.numTrainTimesteps;
    const diff = this.counter % 2 ? 0 : Math.floor(Math.floor(T / this.n) / 2);
    const tPrev = t - diff;
    const t0 = this.prkTimesteps[Math.floor(this.counter / 4) * 4];
    const acc = (w: number) => {
      const cur = this.curModelOutput ?? new Float64Array(m.length);
      this.curModelOutput = cur.map((v, k) => v + w * m[k]);
    };
    let eps = m;
    const r = this.counter % 4;
    if (r === 0) {
      acc(1 / 6);
      this.ets.push(m);
      this.curSample = x;
    } else if (r === 1 || r === 2) {
      acc(1 / 3);
    } else {
      const cur = this.curModelOutput ?? new Float64Array(m.length);
      eps = cur.map((v, k) => v + m[k] / 6);
      this.curModelOutput = null;
    }
    return this.prevSample(this.curSample ?? x, t0, tPrev, eps);
  }

  private stepPlms(m: Sample, t: number, x: Sample): Sample {
    const ratio = Math.floor(this.config.numTrainTimesteps / this.n);
    let tPrev = t - ratio;
    let tCur = t;
    if (this.counter !== 1) {
      this.ets = this.ets.slice(-3);
      this.ets.push(m);
    } else {
      tPrev = t;
      tCur = t + ratio;
    }
    const e = this.ets;
    const L = e.length;
    let eps: Sample;
    let xs = x;
    if (L === 1 && this.counter === 0) {
      eps = m;
      this.curSample = x;
    } else if (L === 1 && this.counter === 1) {
      eps = m.map((v, k) => (v + e[0][k]) / 2);
      xs = this.curSample as Sample;
      this.curSample = null;
    } else if (L === 2) {
      eps = e[1].map((v, k) => (3 * v - e[0][k]) / 2);
    } else if (L === 3) {
      eps = e[2].map((v, k) => (23 * v - 16 * e[1][k] + 5 * e[0][k]) / 12);
    } else {
      eps = e[3].map((v, k) => (55 * v - 59 * e[2][k] + 37 * e[1][k] - 9 * e[0][k]) / 24);
    }
    return this.prevSample(xs, tCur, tPrev, eps);
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
