/**
 * @file DEIS multistep, "logrho" variant (Zhang & Chen, "Fast Sampling of Diffusion Models with
 * Exponential Integrator", arXiv 2204.13902, tAB-DEIS in ρ = σ/α), with diffusers'
 * DEISMultistepScheduler options, defaults and warm-up (huggingface/diffusers:src/diffusers/
 * schedulers/scheduling_deis_multistep.py). The model output is turned into ε̂ (from x̂0 for
 * v/sample/flow predictions), and with ρ = σ_t/α_t:
 *   1st: x_t = (α_t/α_s)x − σ_t(e^h − 1)ε̂_0                        (h = λ_t − λ_s)
 *   2nd: x_t = α_t(x/α_s0 + c1 ε̂_0 + c2 ε̂_1),  c_i = F(ρ_t) − F(ρ_s0) of the Lagrange basis
 *        polynomial through (log ρ_s0, log ρ_s1) integrated in ρ:
 *        F(t; b, c) = t(log t − log c − 1)/(log b − log c)
 *   3rd: the same with three nodes: F(t; b, c, d) = t[log c(log d − log t + 1) − log d log t + log d
 *        + log² t − 2 log t + 2] / ((log b − log c)(log b − log d))
 * Warm-up and lower_order_final (< 15 steps) as DPM-Solver++; the final σ is σ_train[0]
 * (re-spaced sigmas repeat their last value, as in diffusers).
 */
import { z } from 'zod';
import { alphasCumprodOf, vpConfigShape } from '../schedules/betas';
import { customSigmaSchedule, multistepSchedule, SigmaSpacing } from '../schedules/discrete';
import { TimestepSpacing } from '../schedules/spacing';
import type { Sample, SampleLike, Scheduler, SetTimestepsOptions, StepOutput } from '../types';
import { checkSameLength, f64, indexOfTimestep, parseOptions, timestepRequest } from '../util';

const NAME = 'DEISMultistepScheduler';

export const DEISMultistepSchedulerOptions = z.strictObject({
  ...vpConfigShape,
  solverOrder: z.union([z.literal(1), z.literal(2), z.literal(3)]).default(2),
  predictionType: z.enum(['epsilon', 'v_prediction', 'sample']).default('epsilon'),
  lowerOrderFinal: z.boolean().default(true),
  sigmaSpacing: SigmaSpacing.exclude(['lu']).default('default'),
  timestepSpacing: TimestepSpacing.default('linspace'),
  stepsOffset: z.number().int().min(0).default(0),
});
export type DEISMultistepSchedulerOptions = z.input<typeof DEISMultistepSchedulerOptions>;

export class DEISMultistepScheduler implements Scheduler {
  readonly config: z.output<typeof DEISMultistepSchedulerOptions>;
  readonly alphasCumprod: Float64Array;
  readonly initNoiseSigma = 1;
  readonly order = 1;
  timesteps: Float64Array = new Float64Array(0);
  sigmas: Float64Array = new Float64Array(0);
  private stepIdx: number | null = null;
  /** ε̂ history, newest first. */
  private outputs: Sample[] = [];
  private lowerOrderNums = 0;

  constructor(options?: DEISMultistepSchedulerOptions) {
    this.config = parseOptions(NAME, DEISMultistepSchedulerOptions, options);
    this.alphasCumprod = alphasCumprodOf(this.config, true);
  }

  setTimesteps(options: SetTimestepsOptions | number): void {
    const o = timestepRequest(NAME, options, false);
    if (o.sigmas) {
      const s = customSigmaSchedule(NAME, o.sigmas, this.alphasCumprod);
      this.timesteps = s.timesteps;
      this.sigmas = s.sigmas;
    } else {
      const s = multistepSchedule(
        NAME,
        {
          ...this.config,
          alphasCumprod: this.alphasCumprod,
          cosine: this.config.betaSchedule === 'squaredcos_cap_v2',
          lambdaMinClipped: Number.NEGATIVE_INFINITY,
          useFlowSigmas: false,
          flowShift: 1,
          finalSigmasType: 'sigma_min',
        },
        o,
      );
      if (this.config.sigmaSpacing !== 'default')
        s.sigmas[s.sigmas.length - 1] = s.sigmas[s.sigmas.length - 2];
      // diffusers rounds Karras timesteps for DEIS whatever the beta schedule
      if (this.config.sigmaSpacing === 'karras') s.timesteps = s.timesteps.map(Math.round);
      this.timesteps = s.timesteps;
      this.sigmas = s.sigmas;
    }
    this.stepIdx = null;
    this.outputs = [];
    this.lowerOrderNums = 0;
  }

  scaleModelInput(sample: SampleLike): Sample {
    return f64(sample);
  }

  private alphaSigma(s: number): [number, number] {
    const a = 1 / Math.sqrt(s * s + 1);
    return [a, s * a];
  }

  step(output: SampleLike, t: number, sample: SampleLike): StepOutput {
    if (this.timesteps.length === 0) throw new Error(`${NAME}: call setTimesteps before step`);
    checkSameLength(NAME, output, sample, 'model output');
    if (this.stepIdx === null) this.stepIdx = indexOfTimestep(NAME, this.timesteps, t);
    const i = this.stepIdx;
    const n = this.timesteps.length;
    const x = f64(sample);
    const m = f64(output);
    const [a0, s0] = this.alphaSigma(this.sigmas[i]);
    const p = this.config.predictionType;
    const x0 =
      p === 'epsilon'
        ? x.map((v, k) => (v - s0 * m[k]) / a0)
        : p === 'sample'
          ? m
          : x.map((v, k) => a0 * v - s0 * m[k]);
    const eps = x.map((v, k) => (v - a0 * x0[k]) / s0);
    this.outputs.unshift(eps);
    if (this.outputs.length > this.config.solverOrder) this.outputs.length = this.config.solverOrder;
    const lowFinal = i === n - 1 && this.config.lowerOrderFinal && n < 15;
    const lowSecond = i === n - 2 && this.config.lowerOrderFinal && n < 15;
    let order = 3;
    if (this.config.solverOrder === 1 || this.lowerOrderNums < 1 || lowFinal) order = 1;
    else if (this.config.solverOrder === 2 || this.lowerOrderNums < 2 || lowSecond) order = 2;
    const [aT, sT] = this.alphaSigma(this.sigmas[i + 1]);
    const prev = new Float64Array(x.length);
    if (order === 1) {
      const h = Math.log(aT / sT) - Math.log(a0 / s0);
      for (let k = 0; k < x.length; k++) prev[k] = (aT / a0) * x[k] - sT * Math.expm1(h) * eps[k];
    } else {
      const rho = (j: number) => {
        const [a, s] = this.alphaSigma(this.sigmas[j]);
        return s / a;
      };
      const rt = sT / aT;
      const r0 = s0 / a0;
      const L = Math.log;
      let c: number[];
      if (order === 2) {
        const r1 = rho(i - 1);
        const F = (tt: number, b: number, cc: number) => (tt * (-L(cc) + L(tt) - 1)) / (L(b) - L(cc));
        c = [F(rt, r0, r1) - F(r0, r0, r1), F(rt, r1, r0) - F(r0, r1, r0)];
      } else {
        const r1 = rho(i - 1);
        const r2 = rho(i - 2);
        const F = (tt: number, b: number, cc: number, d: number) =>
          (tt * (L(cc) * (L(d) - L(tt) + 1) - L(d) * L(tt) + L(d) + L(tt) ** 2 - 2 * L(tt) + 2)) /
          ((L(b) - L(cc)) * (L(b) - L(d)));
        c = [
          F(rt, r0, r1, r2) - F(r0, r0, r1, r2),
          F(rt, r1, r2, r0) - F(r0, r1, r2, r0),
          F(rt, r2, r0, r1) - F(r0, r2, r0, r1),
        ];
      }
      for (let k = 0; k < x.length; k++) {
        let acc = x[k] / a0;
        for (let j = 0; j < c.length; j++) acc += c[j] * this.outputs[j][k];
        prev[k] = aT * acc;
      }
    }
    if (this.lowerOrderNums < this.config.solverOrder) this.lowerOrderNums++;
    this.stepIdx = i + 1;
    return { prevSample: prev, predOriginalSample: x0 };
  }

  addNoise(original: SampleLike, noise: SampleLike, t: number): Sample {
    checkSameLength(NAME, noise, original, 'noise');
    const [a, s] = this.alphaSigma(this.sigmas[indexOfTimestep(NAME, this.timesteps, t)]);
    const nz = f64(noise);
    return f64(original).map((v, k) => a * v + s * nz[k]);
  }
}
