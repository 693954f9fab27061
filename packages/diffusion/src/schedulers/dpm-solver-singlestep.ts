/**
 * @file Singlestep DPM-Solver++ (Lu et al., arXiv 2211.01095, Algorithm 1 "DPM-Solver++(2S)" and
 * the third-order singlestep solver of DPM-Solver, arXiv 2206.00927, in data-prediction form), with
 * diffusers' DPMSolverSinglestepScheduler options, defaults and order lists (huggingface/diffusers:
 * src/diffusers/schedulers/scheduling_dpmsolver_singlestep.py). The timestep grid is split into
 * groups of 1, 2 or 3 steps (`orderList`, e.g. [1, 2, 1, 2, …]); inside a group every update starts
 * from the sample at the group's first σ (s) and uses the model outputs at the group's grid points,
 * so the grid points act as the solver's intermediate stages. With m the newest data predictions:
 *   order 2 (s = s1, stage s0): r0 = (λ_s0 − λ_s1)/h, D1 = (m0 − m1)/r0,
 *     midpoint: x_t = (σ_t/σ_s1)x − α_t(e^{−h}−1)m1 − ½α_t(e^{−h}−1)D1;  heun: … + α_t((e^{−h}−1)/h + 1)D1
 *   order 3 (s = s2, stages s1, s0): r0 = (λ_s0 − λ_s2)/h, r1 = (λ_s1 − λ_s2)/h,
 *     D1_0 = (m1 − m2)/r1, D1_1 = (m0 − m2)/r0, D1 = (r0 D1_0 − r1 D1_1)/(r0 − r1), D2 = 2(D1_1 − D1_0)/(r0 − r1);
 *     midpoint: x_t = (σ_t/σ_s2)x − α_t(e^{−h}−1)m2 + α_t((e^{−h}−1)/h + 1)D1_1
 *     heun:     x_t = (σ_t/σ_s2)x − α_t(e^{−h}−1)m2 + α_t((e^{−h}−1)/h + 1)D1 − α_t((e^{−h}−1+h)/h² − ½)D2
 * (h = λ_t − λ_s). As in diffusers, lower-order-final is forced on when the steps are not a multiple
 * of the order or the final σ is 0. The SDE variant and the deprecated noise-prediction form are
 * left out.
 */
import { z } from 'zod';
import { alphasCumprodOf, vpConfigShape } from '../schedules/betas';
import { customSigmaSchedule, FinalSigmasType, multistepSchedule, SigmaSpacing } from '../schedules/discrete';
import type { Sample, SampleLike, Scheduler, SetTimestepsOptions, StepOutput } from '../types';
import { checkSameLength, f64, indexOfTimestep, parseOptions, timestepRequest } from '../util';

const NAME = 'DPMSolverSinglestepScheduler';

export const DPMSolverSinglestepSchedulerOptions = z.strictObject({
  ...vpConfigShape,
  solverOrder: z.union([z.literal(1), z.literal(2), z.literal(3)]).default(2),
  predictionType: z.enum(['epsilon', 'v_prediction', 'sample', 'flow_prediction']).default('epsilon'),
  solverType: z.enum(['midpoint', 'heun']).default('midpoint'),
  lowerOrderFinal: z.boolean().default(false),
  sigmaSpacing: SigmaSpacing.exclude(['lu']).default('default'),
  useFlowSigmas: z.boolean().default(false),
  flowShift: z.number().positive().default(1),
  finalSigmasType: FinalSigmasType.default('zero'),
  lambdaMinClipped: z.number().default(Number.NEGATIVE_INFINITY),
});
export type DPMSolverSinglestepSchedulerOptions = z.input<typeof DPMSolverSinglestepSchedulerOptions>;

/** diffusers' get_order_list. */
export function singlestepOrderList(
  steps: number,
  order: 1 | 2 | 3,
  lowerOrderFinal: boolean,
  finalZero: boolean,
): number[] {
  const rep = (p: number[], n: number) => Array.from({ length: n }, () => p).flat();
  let out: number[];
  if (lowerOrderFinal) {
    if (order === 3) {
      if (steps % 3 === 0) out = [...rep([1, 2, 3], steps / 3 - 1), 1, 2, 1];
      else if (steps % 3 === 1) out = [...rep([1, 2, 3], Math.floor(steps / 3)), 1];
      else out = [...rep([1, 2, 3], Math.floor(steps / 3)), 1, 2];
    } else if (order === 2) {
      out =
        steps % 2 === 0 ? [...rep([1, 2], steps / 2 - 1), 1, 1] : [...rep([1, 2], Math.floor(steps / 2)), 1];
    } else out = new Array(steps).fill(1);
  } else if (order === 3) out = rep([1, 2, 3], Math.floor(steps / 3));
  else if (order === 2) out = rep([1, 2], Math.floor(steps / 2));
  else out = new Array(steps).fill(1);
  if (finalZero && out.length > 0) out[out.length - 1] = 1;
  return out;
}

export class DPMSolverSinglestepScheduler implements Scheduler {
  readonly config: z.output<typeof DPMSolverSinglestepSchedulerOptions>;
  readonly alphasCumprod: Float64Array;
  readonly initNoiseSigma = 1;
  readonly order = 1;
  timesteps: Float64Array = new Float64Array(0);
  sigmas: Float64Array = new Float64Array(0);
  orderList: number[] = [];
  /** lowerOrderFinal as applied by the last setTimesteps (see there). */
  lowerOrderFinalInEffect = false;
  private stepIdx: number | null = null;
  /** Newest first; null where no output was stored yet. */
  private outputs: (Sample | null)[] = [];
  private groupSample: Sample | null = null;

  constructor(options?: DPMSolverSinglestepSchedulerOptions) {
    this.config = parseOptions(NAME, DPMSolverSinglestepSchedulerOptions, options);
    this.alphasCumprod = alphasCumprodOf(this.config, true);
  }

  setTimesteps(options: SetTimestepsOptions | number): void {
    const o = timestepRequest(NAME, options, false);
    const s = o.sigmas
      ? customSigmaSchedule(NAME, o.sigmas, this.alphasCumprod)
      : multistepSchedule(
          NAME,
          {
            ...this.config,
            alphasCumprod: this.alphasCumprod,
            cosine: this.config.betaSchedule === 'squaredcos_cap_v2',
            timestepSpacing: 'linspace',
            stepsOffset: 0,
          },
          o,
        );
    this.timesteps = s.timesteps;
    this.sigmas = s.sigmas;
    const n = s.timesteps.length;
    const finalZero = this.sigmas[n] === 0;
    // diffusers switches lower_order_final on (with a warning) when the steps are not a multiple of
    // the order or the final σ is 0; here that is the documented rule, visible as lowerOrderFinalInEffect.
    this.lowerOrderFinalInEffect =
      this.config.lowerOrderFinal || n % this.config.solverOrder !== 0 || finalZero;
    this.orderList = singlestepOrderList(n, this.config.solverOrder, this.lowerOrderFinalInEffect, finalZero);
    this.stepIdx = null;
    this.outputs = new Array(this.config.solverOrder).fill(null);
    this.groupSample = null;
  }

  scaleModelInput(sample: SampleLike): Sample {
    return f64(sample);
  }

  private alphaSigma(s: number): [number, number] {
    if (this.config.useFlowSigmas) return [1 - s, s];
    const a = 1 / Math.sqrt(s * s + 1);
    return [a, s * a];
  }

  private lambda(s: number): number {
    const [a, sg] = this.alphaSigma(s);
    return Math.log(a) - Math.log(sg);
  }

  step(output: SampleLike, t: number, sample: SampleLike): StepOutput {
    if (this.timesteps.length === 0) throw new Error(`${NAME}: call setTimesteps before step`);
    checkSameLength(NAME, output, sample, 'model output');
    if (this.stepIdx === null) this.stepIdx = indexOfTimestep(NAME, this.timesteps, t);
    const i = this.stepIdx;
    const x = f64(sample);
    const m = f64(output);
    const sg = this.sigmas[i];
    const [a, s] = this.alphaSigma(sg);
    const p = this.config.predictionType;
    const x0 =
      p === 'epsilon'
        ? x.map((v, k) => (v - s * m[k]) / a)
        : p === 'sample'
          ? Float64Array.from(m)
          : p === 'v_prediction'
            ? x.map((v, k) => a * v - s * m[k])
            : x.map((v, k) => v - sg * m[k]);
    this.outputs.unshift(x0);
    this.outputs.length = this.config.solverOrder;
    let order = this.orderList[i] ?? 1;
    while (this.outputs[order - 1] === null || this.outputs[order - 1] === undefined) order--;
    if (order === 1) this.groupSample = x;
    const xs = this.groupSample as Sample;
    const [aT, sT] = this.alphaSigma(this.sigmas[i + 1]);
    const lt = this.lambda(this.sigmas[i + 1]);
    const mid = this.config.solverType === 'midpoint';
    const prev = new Float64Array(x.length);
    const [m0, m1, m2] = this.outputs as Sample[];
    if (order === 1) {
      const [, sS] = this.alphaSigma(sg);
      const emh = Math.exp(-(lt - this.lambda(sg)));
      for (let k = 0; k < x.length; k++) prev[k] = (sT / sS) * xs[k] - aT * (emh - 1) * m0[k];
    } else if (order === 2) {
      const [, s1] = this.alphaSigma(this.sigmas[i - 1]);
      const l1 = this.lambda(this.sigmas[i - 1]);
      const h = lt - l1;
      const r0 = (this.lambda(sg) - l1) / h;
      const emh = Math.exp(-h);
      const c1 = mid ? -0.5 * aT * (emh - 1) : aT * ((emh - 1) / h + 1);
      for (let k = 0; k < x.length; k++)
        prev[k] = (sT / s1) * xs[k] - aT * (emh - 1) * m1[k] + c1 * ((m0[k] - m1[k]) / r0);
    } else {
      const [, s2] = this.alphaSigma(this.sigmas[i - 2]);
      const l2 = this.lambda(this.sigmas[i - 2]);
      const h = lt - l2;
      const r0 = (this.lambda(sg) - l2) / h;
      const r1 = (this.lambda(this.sigmas[i - 1]) - l2) / h;
      const emh = Math.exp(-h);
      const c1 = aT * ((emh - 1) / h + 1);
      const c2 = aT * ((emh - 1 + h) / (h * h) - 0.5);
      for (let k = 0; k < x.length; k++) {
        const d10 = (m1[k] - m2[k]) / r1;
        const d11 = (m0[k] - m2[k]) / r0;
        const base = (sT / s2) * xs[k] - aT * (emh - 1) * m2[k];
        if (mid) prev[k] = base + c1 * d11;
        else {
          const D1 = (r0 * d10 - r1 * d11) / (r0 - r1);
          const D2 = (2 * (d11 - d10)) / (r0 - r1);
          prev[k] = base + c1 * D1 - c2 * D2;
        }
      }
    }
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
