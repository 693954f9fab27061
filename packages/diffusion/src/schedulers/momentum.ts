/**
 * @file Momentum samplers (Wizadwongsa, Chinchuthakun, Khungurn, Raj, Suwajanakorn, "Diffusion
 * Sampling with Momentum for Mitigating Divergence Artifacts", ICLR 2024, openreview HXc5aXeoc8 /
 * arXiv 2307.11118; update rules as in the official sWizad/momentum-diffusion:
 * stable_diffusion/diffusion/momentum_scheduler.py). Divergence artifacts at large guidance and few
 * steps come from the small stability regions of high-order multistep solvers; Polyak's heavy-ball
 * (HB) momentum, an exponential moving average of the solver's update term, widens them at the cost
 * of accuracy (first order for β < 1), and the generalised heavy ball (GHVB) keeps a chosen order.
 *
 * `PLMSMomentumScheduler` (the official PLMSWithHBScheduler and GHVBScheduler, "scale" mode) works
 * in the variable x̄ = x/α with g = σ_VE = √(1−ᾱ)/√ᾱ, where the PF-ODE is dx̄/dg = ε:
 *   x_{n+1} = α_{n+1}·(x_n/α_n + (g_{n+1} − g_n)·u_n)
 * with ε_n the model's noise (converted from v / x0 predictions), AB_k the k-step Adams–Bashforth
 * combination of the last k entries (fewer while the history fills) and, with b = β:
 *   mix_k(e; b), newest first: k=1: b·e0; k=2: ((2+b)e0 − (2−b)e1)/2;
 *     k=3: ((18+5b)e0 − (24−8b)e1 + (6−b)e2)/12; k=4: ((46+9b)e0 − (78−19b)e1 + (42−5b)e2 − (10−b)e3)/24,
 *   each divided by b (b = 1: Adams–Bashforth 1–4, i.e. PLMS)
 *   HB:   p_n = mix_k(ε_n, ε_{n−1}, …; 1),  v_n = (1−β)·v_{n−1} + β·p_n,  u_n = v_n
 *   GHVB: v_n = (1−β)·v_{n−1} + β·ε_n,       u_n = mix_k(v_n, v_{n−1}, …; β)
 * with v_{−1} = ε_0. β = 1 gives PLMS of order k (k = 1: DDIM) for both; the official code's
 * fractional "order" r corresponds to k = ⌈r⌉, β = r − ⌊r⌋ (e.g. GHVB 1.8 = k 2, β 0.8).
 *
 * `MomentumDPMSolverMultistepScheduler` (the official MomentumDPMSolverMultistepScheduler): DPM-Solver++
 * multistep whose update x_t = (σ_t/σ_s)·x − α_t(e^{−h} − 1)·u (u = D0 + ½D1 for 2M midpoint, D0 for
 * first order; any order and solver type of the base) uses v = (1−β)·v_prev + β·u instead of u. The
 * first step and a final step to σ = 0 are plain (the official code applies momentum to the
 * second-order updates only, which is the same set of steps under diffusers' defaults); v starts as
 * the first u it replaces. The update is written as base + α_t(1 − e^{−h})·(v − u), so β = 1 gives
 * the base solver bit for bit.
 */
import { z } from 'zod';
import { alphasCumprodOf, vpConfigShape } from '../schedules/betas';
import { customSigmaSchedule, FinalSigmasType, multistepSchedule, SigmaSpacing } from '../schedules/discrete';
import { TimestepSpacing } from '../schedules/spacing';
import type { Sample, SampleLike, Scheduler, SetTimestepsOptions, StepOptions, StepOutput } from '../types';
import { checkSameLength, f64, indexOfTimestep, parseOptions, timestepRequest } from '../util';
import { DPMSolverMultistepScheduler, DPMSolverMultistepSchedulerOptions } from './dpm-solver-multistep';

const PLMS_NAME = 'PLMSMomentumScheduler';
const DPM_NAME = 'MomentumDPMSolverMultistepScheduler';

const Beta = z.number().gt(0).max(1);

export const PLMSMomentumSchedulerOptions = z.strictObject({
  ...vpConfigShape,
  /** 'hb': momentum on the PLMS combination; 'ghvb': PLMS-like combination of the momentum. */
  method: z.enum(['hb', 'ghvb']).default('hb'),
  /** Number of past noise estimates combined (1: DDIM-like, 4: PLMS). */
  order: z.number().int().min(1).max(4).default(2),
  /** Momentum β ∈ (0, 1]; 1 = no momentum. */
  beta: Beta.default(0.8),
  predictionType: z.enum(['epsilon', 'v_prediction', 'sample']).default('epsilon'),
  timestepSpacing: TimestepSpacing.default('linspace'),
  stepsOffset: z.number().int().min(0).default(0),
  sigmaSpacing: SigmaSpacing.default('default'),
  finalSigmasType: FinalSigmasType.default('zero'),
});
export type PLMSMomentumSchedulerOptions = z.input<typeof PLMSMomentumSchedulerOptions>;

/** mix_k(e; b) / b, e newest first (the official AdamBmixer), with k = min(order, history). */
function mixer(order: number, e: Sample[], b: number): Sample {
  const k = Math.min(order, e.length);
  const out = new Float64Array(e[0].length);
  const [e0, e1, e2, e3] = e;
  for (let i = 0; i < out.length; i++) {
    let p: number;
    if (k === 1) p = b * e0[i];
    else if (k === 2) p = ((2 + b) * e0[i] - (2 - b) * e1[i]) / 2;
    else if (k === 3) p = ((18 + 5 * b) * e0[i] - (24 - 8 * b) * e1[i] + (6 - b) * e2[i]) / 12;
    else p = ((46 + 9 * b) * e0[i] - (78 - 19 * b) * e1[i] + (42 - 5 * b) * e2[i] - (10 - b) * e3[i]) / 24;
    out[i] = p / b;
  }
  return out;
}

export class PLMSMomentumScheduler implements Scheduler {
  readonly config: z.output<typeof PLMSMomentumSchedulerOptions>;
  readonly alphasCumprod: Float64Array;
  readonly initNoiseSigma = 1;
  readonly order = 1;
  timesteps: Float64Array = new Float64Array(0);
  sigmas: Float64Array = new Float64Array(0);
  private stepIdx: number | null = null;
  /** Newest first: ε history (HB) or velocity history (GHVB). */
  private history: Sample[] = [];
  private vel: Sample | null = null;

  constructor(options?: PLMSMomentumSchedulerOptions) {
    this.config = parseOptions(PLMS_NAME, PLMSMomentumSchedulerOptions, options);
    this.alphasCumprod = alphasCumprodOf(this.config, true);
  }

  get stepIndex(): number | null {
    return this.stepIdx;
  }

  setTimesteps(options: SetTimestepsOptions | number): void {
    const o = timestepRequest(PLMS_NAME, options, false);
    const s = o.sigmas
      ? customSigmaSchedule(PLMS_NAME, o.sigmas, this.alphasCumprod)
      : multistepSchedule(
          PLMS_NAME,
          {
            ...this.config,
            lambdaMinClipped: Number.NEGATIVE_INFINITY,
            useFlowSigmas: false,
            flowShift: 1,
            alphasCumprod: this.alphasCumprod,
            cosine: this.config.betaSchedule === 'squaredcos_cap_v2',
          },
          o,
        );
    this.timesteps = s.timesteps;
    this.sigmas = s.sigmas;
    this.stepIdx = null;
    this.history = [];
    this.vel = null;
  }

  scaleModelInput(sample: SampleLike): Sample {
    return f64(sample);
  }

  step(output: SampleLike, t: number, sample: SampleLike, _options?: StepOptions): StepOutput {
    if (this.timesteps.length === 0) throw new Error(`${PLMS_NAME}: call setTimesteps before step`);
    checkSameLength(PLMS_NAME, output, sample, 'model output');
    if (this.stepIdx === null) this.stepIdx = indexOfTimestep(PLMS_NAME, this.timesteps, t);
    const i = this.stepIdx;
    if (i >= this.timesteps.length)
      throw new Error(`${PLMS_NAME}: the schedule has ended; call setTimesteps again`);
    const x = f64(sample);
    const m = f64(output);
    const g0 = this.sigmas[i];
    const g1 = this.sigmas[i + 1];
    const a0 = 1 / Math.sqrt(g0 * g0 + 1);
    const s0 = g0 * a0;
    const a1 = 1 / Math.sqrt(g1 * g1 + 1);
    const eps = new Float64Array(x.length);
    const x0 = new Float64Array(x.length);
    for (let k = 0; k < x.length; k++) {
      const type = this.config.predictionType;
      const p0 =
        type === 'epsilon' ? (x[k] - s0 * m[k]) / a0 : type === 'sample' ? m[k] : a0 * x[k] - s0 * m[k];
      x0[k] = p0;
      eps[k] = type === 'epsilon' ? m[k] : (x[k] - a0 * p0) / s0;
    }
    const { method, order, beta } = this.config;
    if (this.vel === null) this.vel = eps;
    let u: Sample;
    if (method === 'hb') {
      this.history.unshift(eps);
      if (this.history.length > order) this.history.length = order;
      const p = mixer(order, this.history, 1);
      const v = this.vel;
      this.vel = p.map((pk, k) => (1 - beta) * v[k] + beta * pk);
      u = this.vel;
    } else {
      const v = this.vel;
      this.vel = eps.map((ek, k) => (1 - beta) * v[k] + beta * ek);
      this.history.unshift(this.vel);
      if (this.history.length > order) this.history.length = order;
      u = mixer(order, this.history, beta);
    }
    const dg = g1 - g0;
    const prev = new Float64Array(x.length);
    for (let k = 0; k < x.length; k++) prev[k] = (x[k] / a0 + dg * u[k]) * a1;
    this.stepIdx = i + 1;
    return { prevSample: prev, predOriginalSample: x0 };
  }

  addNoise(original: SampleLike, noise: SampleLike, t: number): Sample {
    checkSameLength(PLMS_NAME, noise, original, 'noise');
    const g = this.sigmas[indexOfTimestep(PLMS_NAME, this.timesteps, t)];
    const a = 1 / Math.sqrt(g * g + 1);
    const nz = f64(noise);
    return f64(original).map((v, k) => a * v + g * a * nz[k]);
  }
}

export const MomentumDPMSolverMultistepSchedulerOptions = DPMSolverMultistepSchedulerOptions.extend({
  /** Momentum β ∈ (0, 1]; 1 = the base DPM-Solver++ exactly. */
  beta: Beta.default(0.8),
});
export type MomentumDPMSolverMultistepSchedulerOptions = z.input<
  typeof MomentumDPMSolverMultistepSchedulerOptions
>;

export class MomentumDPMSolverMultistepScheduler extends DPMSolverMultistepScheduler {
  readonly beta: number;
  private vel: Sample | null = null;

  constructor(options?: MomentumDPMSolverMultistepSchedulerOptions) {
    const { beta, algorithmType } = parseOptions(
      DPM_NAME,
      MomentumDPMSolverMultistepSchedulerOptions,
      options,
    );
    if (algorithmType !== 'dpmsolver++')
      throw new Error(`${DPM_NAME}: option 'algorithmType' must be 'dpmsolver++' (the deterministic solver)`);
    const { beta: _beta, ...rest } = options ?? {};
    super(rest);
    this.beta = beta;
  }

  override setTimesteps(options: SetTimestepsOptions | number): void {
    super.setTimesteps(options);
    this.vel = null;
  }

  override step(output: SampleLike, t: number, sample: SampleLike, options?: StepOptions): StepOutput {
    const r = super.step(output, t, sample, options);
    const i = (this.stepIndex as number) - 1;
    const sT = this.sigmas[i + 1];
    if (i === 0 || sT === 0) return r;
    const s0 = this.sigmas[i];
    const alphaSigma = (s: number): [number, number] => {
      if (this.config.useFlowSigmas) return [1 - s, s];
      const a = 1 / Math.sqrt(s * s + 1);
      return [a, s * a];
    };
    const [aT, sgT] = alphaSigma(sT);
    const [a0, sg0] = alphaSigma(s0);
    const h = Math.log(aT) - Math.log(sgT) - (Math.log(a0) - Math.log(sg0));
    const ratio = sgT / sg0;
    const coef = aT * -Math.expm1(-h); // α_t(1 − e^{−h})
    const x = f64(sample);
    const prev = r.prevSample;
    const u = new Float64Array(x.length);
    for (let k = 0; k < x.length; k++) u[k] = (prev[k] - ratio * x[k]) / coef;
    const v = this.vel ?? u;
    const b = this.beta;
    const nv = new Float64Array(x.length);
    for (let k = 0; k < x.length; k++) {
      nv[k] = (1 - b) * v[k] + b * u[k];
      prev[k] += coef * (nv[k] - u[k]);
    }
    this.vel = nv;
    return r;
  }
}
