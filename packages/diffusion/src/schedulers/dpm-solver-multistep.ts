/**
 * @file DPM-Solver++ multistep (Lu et al., "DPM-Solver++: Fast Solver for Guided Sampling of
 * Diffusion Probabilistic Models", arXiv 2211.01095, Algorithm 2 "2M" and its third-order
 * extension) and its SDE variant (SDE-DPM-Solver++, ibid. / k-diffusion's dpmpp_2m_sde), with
 * diffusers' DPMSolverMultistepScheduler options, defaults and warm-up rules
 * (huggingface/diffusers:src/diffusers/schedulers/scheduling_dpmsolver_multistep.py).
 * Data prediction x̂0 = m; α_t, σ_t of each σ (VP: 1/√(σ²+1), σ/√(σ²+1); flow: 1 − σ, σ);
 * λ = log α − log σ; h = λ_t − λ_s0. Newest model outputs m0, m1, m2:
 *   1st (= DDIM): x_t = (σ_t/σ_s0)·x − α_t(e^{−h} − 1)·m0
 *   2M: r0 = (λ_s0 − λ_s1)/h, D1 = (m0 − m1)/r0;
 *       midpoint: x_t = (σ_t/σ_s0)x − α_t(e^{−h}−1)m0 − ½α_t(e^{−h}−1)D1
 *       heun:     x_t = (σ_t/σ_s0)x − α_t(e^{−h}−1)m0 + α_t((e^{−h}−1)/h + 1)D1
 *   3M: r1 = (λ_s1 − λ_s2)/h, D1_0 = (m0−m1)/r0, D1_1 = (m1−m2)/r1,
 *       D1 = D1_0 + r0/(r0+r1)(D1_0 − D1_1) ≈ h·x0', D2 = (D1_0 − D1_1)/(r0+r1) ≈ h²·x0''/2
 *       (as diffusers and dpm-solver; this leaves 3M second-order accurate, `taylorThirdOrder`
 *       doubles D2 for a true third-order update);
 *       x_t = (σ_t/σ_s0)x − α_t(e^{−h}−1)m0 + α_t((e^{−h}−1)/h + 1)D1 − α_t((e^{−h}−1+h)/h² − ½)D2
 *   SDE (sde-dpmsolver++): x_t = (σ_t/σ_s0)e^{−h}x + α_t(1−e^{−2h})m0 [+ ½α_t(1−e^{−2h})D1 (midpoint)
 *       or α_t((1−e^{−2h})/(−2h) + 1)D1 (heun)] + σ_t√(1−e^{−2h})·z; third order adds
 *       α_t((1−e^{−2h})/(−2h) + 1)D1 + α_t((1−e^{−2h}−2h)/(2h)² − ½)D2 (diffusers' form)
 * Warm-up: step k uses order min(solverOrder, k+1); the last step drops to 1st order when
 * eulerAtFinal, or lowerOrderFinal and N < 15, or the final σ is 0; the one before it to 2nd order
 * when lowerOrderFinal and N < 15. (The deprecated noise-prediction 'dpmsolver' variants are left out.)
 */
import { z } from 'zod';
import { alphasCumprodOf, vpConfigShape } from '../schedules/betas';
import { customSigmaSchedule, FinalSigmasType, multistepSchedule, SigmaSpacing } from '../schedules/discrete';
import { TimestepSpacing } from '../schedules/spacing';
import type { Sample, SampleLike, Scheduler, SetTimestepsOptions, StepOptions, StepOutput } from '../types';
import { checkSameLength, drawNoise, f64, indexOfTimestep, parseOptions, timestepRequest } from '../util';

const NAME = 'DPMSolverMultistepScheduler';

export const DPMSolverMultistepSchedulerOptions = z.strictObject({
  ...vpConfigShape,
  solverOrder: z.union([z.literal(1), z.literal(2), z.literal(3)]).default(2),
  predictionType: z.enum(['epsilon', 'v_prediction', 'sample', 'flow_prediction']).default('epsilon'),
  algorithmType: z.enum(['dpmsolver++', 'sde-dpmsolver++']).default('dpmsolver++'),
  solverType: z.enum(['midpoint', 'heun']).default('midpoint'),
  lowerOrderFinal: z.boolean().default(true),
  eulerAtFinal: z.boolean().default(false),
  /** diffusers' use_karras_sigmas / use_exponential_sigmas / use_beta_sigmas / use_lu_lambdas. */
  sigmaSpacing: SigmaSpacing.default('default'),
  useFlowSigmas: z.boolean().default(false),
  flowShift: z.number().positive().default(1),
  finalSigmasType: FinalSigmasType.default('zero'),
  lambdaMinClipped: z.number().default(Number.NEGATIVE_INFINITY),
  timestepSpacing: TimestepSpacing.default('linspace'),
  stepsOffset: z.number().int().min(0).default(0),
  useDynamicShifting: z.boolean().default(false),
  /**
   * false (default, as diffusers and dpm-solver): 3M's D2 = (D1_0 − D1_1)/(r0 + r1) ≈ h²x0''/2 meets
   * a coefficient made for h²x0'', which leaves 3M second-order accurate. true: D2 doubled, the
   * third-order Taylor term (the factor dpm-solver's singlestep 'taylor' update has): order 3 on
   * λ-uniform steps, but 1.3–1.5× less accurate than the default on diffusers' default `linspace`
   * timesteps (very uneven λ steps near t = 0) in our mixture benchmarks.
   */
  taylorThirdOrder: z.boolean().default(false),
});
export type DPMSolverMultistepSchedulerOptions = z.input<typeof DPMSolverMultistepSchedulerOptions>;

export class DPMSolverMultistepScheduler implements Scheduler {
  readonly config: z.output<typeof DPMSolverMultistepSchedulerOptions>;
  readonly alphasCumprod: Float64Array;
  readonly initNoiseSigma = 1;
  readonly order = 1;
  timesteps: Float64Array = new Float64Array(0);
  sigmas: Float64Array = new Float64Array(0);
  private stepIdx: number | null = null;
  private outputs: Sample[] = [];
  private lowerOrderNums = 0;
  private flowShift: number;

  constructor(options?: DPMSolverMultistepSchedulerOptions) {
    this.config = parseOptions(NAME, DPMSolverMultistepSchedulerOptions, options);
    this.alphasCumprod = alphasCumprodOf(this.config, true);
    this.flowShift = this.config.flowShift;
  }

  get stepIndex(): number | null {
    return this.stepIdx;
  }

  setTimesteps(options: SetTimestepsOptions | number): void {
    const o = timestepRequest(NAME, options, true);
    if (o.mu !== undefined) {
      if (!this.config.useDynamicShifting) throw new Error(`${NAME}: mu needs useDynamicShifting: true`);
      this.flowShift = Math.exp(o.mu);
    }
    const s = o.sigmas
      ? customSigmaSchedule(NAME, o.sigmas, this.alphasCumprod)
      : multistepSchedule(
          NAME,
          {
            ...this.config,
            flowShift: this.flowShift,
            alphasCumprod: this.alphasCumprod,
            cosine: this.config.betaSchedule === 'squaredcos_cap_v2',
          },
          o,
        );
    this.timesteps = s.timesteps;
    this.sigmas = s.sigmas;
    this.stepIdx = null;
    this.outputs = [];
    this.lowerOrderNums = 0;
  }

  private alphaSigma(s: number): [number, number] {
    if (this.config.useFlowSigmas) return [1 - s, s];
    const a = 1 / Math.sqrt(s * s + 1);
    return [a, s * a];
  }

  scaleModelInput(sample: SampleLike): Sample {
    return f64(sample);
  }

  /** The data prediction x̂0 from the model output at the current σ. */
  private toX0(m: Float64Array, x: Float64Array, sigma: number): Sample {
    const [a, s] = this.alphaSigma(sigma);
    switch (this.config.predictionType) {
      case 'epsilon':
        return x.map((v, k) => (v - s * m[k]) / a);
      case 'sample':
        return Float64Array.from(m);
      case 'v_prediction':
        return x.map((v, k) => a * v - s * m[k]);
      default:
        return x.map((v, k) => v - sigma * m[k]);
    }
  }

  step(output: SampleLike, t: number, sample: SampleLike, options?: StepOptions): StepOutput {
    if (this.timesteps.length === 0) throw new Error(`${NAME}: call setTimesteps before step`);
    checkSameLength(NAME, output, sample, 'model output');
    if (this.stepIdx === null) this.stepIdx = indexOfTimestep(NAME, this.timesteps, t);
    const i = this.stepIdx;
    const n = this.timesteps.length;
    const { solverOrder, lowerOrderFinal, eulerAtFinal } = this.config;
    // diffusers tests final_sigmas_type == 'zero'; the final σ itself covers custom sigmas too.
    const lowerFinal = i === n - 1 && (eulerAtFinal || (lowerOrderFinal && n < 15) || this.sigmas[n] === 0);
    const lowerSecond = i === n - 2 && lowerOrderFinal && n < 15;
    const x = f64(sample);
    const m0 = this.toX0(f64(output), x, this.sigmas[i]);
    this.outputs.unshift(m0);
    if (this.outputs.length > solverOrder) this.outputs.length = solverOrder;
    const sde = this.config.algorithmType === 'sde-dpmsolver++';
    const noise = sde ? drawNoise(NAME, x.length, options) : null;
    let order = 3;
    if (solverOrder === 1 || this.lowerOrderNums < 1 || lowerFinal) order = 1;
    else if (solverOrder === 2 || this.lowerOrderNums < 2 || lowerSecond) order = 2;

    const [aT, sT] = this.alphaSigma(this.sigmas[i + 1]);
    const [a0, s0] = this.alphaSigma(this.sigmas[i]);
    const lam = (s: number) => {
      const [a, sg] = this.alphaSigma(s);
      return Math.log(a) - Math.log(sg);
    };
    const h = Math.log(aT) - Math.log(sT) - (Math.log(a0) - Math.log(s0));
    const emh = Math.exp(-h); // 0 when σ_t = 0 (h = ∞)
    const prev = new Float64Array(x.length);
    if (order === 1) {
      for (let k = 0; k < x.length; k++) {
        prev[k] = sde
          ? (sT / s0) * emh * x[k] +
            aT * (1 - emh * emh) * m0[k] +
            sT * Math.sqrt(1 - emh * emh) * (noise as Sample)[k]
          : (sT / s0) * x[k] - aT * (emh - 1) * m0[k];
      }
    } else if (order === 2) {
      const m1 = this.outputs[1];
      const r0 = (lam(this.sigmas[i]) - lam(this.sigmas[i - 1])) / h;
      const midpoint = this.config.solverType === 'midpoint';
      for (let k = 0; k < x.length; k++) {
        const D1 = (m0[k] - m1[k]) / r0;
        if (sde) {
          const c1 = midpoint ? 0.5 * aT * (1 - emh * emh) : aT * ((1 - emh * emh) / (-2 * h) + 1);
          prev[k] =
            (sT / s0) * emh * x[k] +
            aT * (1 - emh * emh) * m0[k] +
            c1 * D1 +
            sT * Math.sqrt(1 - emh * emh) * (noise as Sample)[k];
        } else {
          const c1 = midpoint ? -0.5 * aT * (emh - 1) : aT * ((emh - 1) / h + 1);
          prev[k] = (sT / s0) * x[k] - aT * (emh - 1) * m0[k] + c1 * D1;
        }
      }
    } else {
      const [m1, m2] = [this.outputs[1], this.outputs[2]];
      const l0 = lam(this.sigmas[i]);
      const l1 = lam(this.sigmas[i - 1]);
      const l2 = lam(this.sigmas[i - 2]);
      const r0 = (l0 - l1) / h;
      const r1 = (l1 - l2) / h;
      const c1 = aT * ((emh - 1) / h + 1);
      const c2 = aT * ((emh - 1 + h) / (h * h) - 0.5);
      for (let k = 0; k < x.length; k++) {
        const d10 = (m0[k] - m1[k]) / r0;
        const d11 = (m1[k] - m2[k]) / r1;
        const D1 = d10 + (r0 / (r0 + r1)) * (d10 - d11);
        const D2 = ((this.config.taylorThirdOrder ? 2 : 1) * (d10 - d11)) / (r0 + r1);
        if (sde) {
          prev[k] =
            (sT / s0) * emh * x[k] +
            aT * (1 - emh * emh) * m0[k] +
            aT * ((1 - emh * emh) / (-2 * h) + 1) * D1 +
            aT * ((1 - emh * emh - 2 * h) / (2 * h) ** 2 - 0.5) * D2 +
            sT * Math.sqrt(1 - emh * emh) * (noise as Sample)[k];
        } else {
          prev[k] = (sT / s0) * x[k] - aT * (emh - 1) * m0[k] + c1 * D1 - c2 * D2;
        }
      }
    }
    if (this.lowerOrderNums < solverOrder) this.lowerOrderNums++;
    this.stepIdx = i + 1;
    return { prevSample: prev, predOriginalSample: m0 };
  }

  addNoise(original: SampleLike, noise: SampleLike, t: number): Sample {
    checkSameLength(NAME, noise, original, 'noise');
    const [a, s] = this.alphaSigma(this.sigmas[indexOfTimestep(NAME, this.timesteps, t)]);
    const nz = f64(noise);
    return f64(original).map((v, k) => a * v + s * nz[k]);
  }
}
