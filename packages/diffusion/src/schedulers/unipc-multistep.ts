/**
 * @file UniPC (Zhao et al., "UniPC: A Unified Predictor-Corrector Framework for Fast Sampling of
 * Diffusion Models", arXiv 2302.04867, Algorithms 1–3, data-prediction form), with diffusers'
 * UniPCMultistepScheduler options, defaults and warm-up (huggingface/diffusers:src/diffusers/
 * schedulers/scheduling_unipc_multistep.py). With h = λ_t − λ_s0, hh = −h, and the previous data
 * predictions m_i at λ_{s_i}, r_i = (λ_{s_i} − λ_s0)/h, D_i = (m_i − m0)/r_i:
 *   B(h) = hh (bh1) or e^{hh} − 1 (bh2);  φ-coefficients b_k = k!·φ_{k+1}(hh)/B(h) with
 *   hφ_1 = e^{hh} − 1, φ_{k+1} = φ_k/hh − 1/k!;  R_{k,i} = r_i^{k−1}
 *   UniP (order p): x_t = (σ_t/σ_s0)x − α_t·hφ_1·m0 − α_t·B(h)·Σ ρ_i D_i, ρ = R[:p−1,:p−1]⁻¹ b[:p−1]
 *                    (ρ = ½ for p = 2)
 *   UniC (after the model is called at x_t, output m_t): the same with the extra node r = 1,
 *                    D_t = m_t − m0 and ρ = R⁻¹ b (ρ = ½ for p = 1); the corrected x_t replaces x_t.
 * The corrector costs no extra model call; it raises the order of the predictor by one.
 * Left out: noise-prediction form (predict_x0 = False) and solver_p.
 */
import { z } from 'zod';
import { alphasCumprodOf, vpConfigShape } from '../schedules/betas';
import { customSigmaSchedule, FinalSigmasType, multistepSchedule, SigmaSpacing } from '../schedules/discrete';
import { TimestepSpacing } from '../schedules/spacing';
import type { Sample, SampleLike, Scheduler, SetTimestepsOptions, StepOutput } from '../types';
import { checkSameLength, f64, indexOfTimestep, parseOptions, timestepRequest } from '../util';

const NAME = 'UniPCMultistepScheduler';

export const UniPCMultistepSchedulerOptions = z.strictObject({
  ...vpConfigShape,
  solverOrder: z.number().int().min(1).max(4).default(2),
  predictionType: z.enum(['epsilon', 'v_prediction', 'sample', 'flow_prediction']).default('epsilon'),
  solverType: z.enum(['bh1', 'bh2']).default('bh2'),
  lowerOrderFinal: z.boolean().default(true),
  /** Step indices after which the corrector is skipped. */
  disableCorrector: z.array(z.number().int().min(0)).default([]),
  sigmaSpacing: SigmaSpacing.exclude(['lu']).default('default'),
  useFlowSigmas: z.boolean().default(false),
  flowShift: z.number().positive().default(1),
  finalSigmasType: FinalSigmasType.default('zero'),
  timestepSpacing: TimestepSpacing.default('linspace'),
  stepsOffset: z.number().int().min(0).default(0),
  useDynamicShifting: z.boolean().default(false),
});
export type UniPCMultistepSchedulerOptions = z.input<typeof UniPCMultistepSchedulerOptions>;

/** Solve A x = b for a small dense system (Gaussian elimination with partial pivoting). */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    [M[c], M[p]] = [M[p], M[c]];
    for (let r = c + 1; r < n; r++) {
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r][n];
    for (let k = r + 1; k < n; k++) s -= M[r][k] * x[k];
    x[r] = s / M[r][r];
  }
  return x;
}

export class UniPCMultistepScheduler implements Scheduler {
  readonly config: z.output<typeof UniPCMultistepSchedulerOptions>;
  readonly alphasCumprod: Float64Array;
  readonly initNoiseSigma = 1;
  readonly order = 1;
  timesteps: Float64Array = new Float64Array(0);
  sigmas: Float64Array = new Float64Array(0);
  private stepIdx: number | null = null;
  /** Newest first. */
  private outputs: Sample[] = [];
  private lowerOrderNums = 0;
  private lastSample: Sample | null = null;
  private thisOrder = 1;
  private flowShift: number;

  constructor(options?: UniPCMultistepSchedulerOptions) {
    this.config = parseOptions(NAME, UniPCMultistepSchedulerOptions, options);
    this.alphasCumprod = alphasCumprodOf(this.config, true);
    this.flowShift = this.config.flowShift;
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
            lambdaMinClipped: Number.NEGATIVE_INFINITY,
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
    this.lastSample = null;
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

  scaleModelInput(sample: SampleLike): Sample {
    return f64(sample);
  }

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

  /**
   * One UniP (predictor, `mt` undefined) or UniC (corrector, `mt` = the model's data prediction at
   * the target) update from σ_s0 = sigmas[s0] to σ_t = sigmas[t], using `hist` (newest first) whose
   * entry i sits at sigmas[s0 − i].
   */
  private update(x: Sample, s0: number, t: number, hist: Sample[], order: number, mt?: Sample): Sample {
    const [aT, sT] = this.alphaSigma(this.sigmas[t]);
    const [, sS] = this.alphaSigma(this.sigmas[s0]);
    const l0 = this.lambda(this.sigmas[s0]);
    const h = this.lambda(this.sigmas[t]) - l0;
    const m0 = hist[0];
    const rks: number[] = [];
    const D1s: Sample[] = [];
    for (let i = 1; i < order; i++) {
      const rk = (this.lambda(this.sigmas[s0 - i]) - l0) / h;
      rks.push(rk);
      D1s.push(hist[i].map((v, k) => (v - m0[k]) / rk));
    }
    rks.push(1);
    const hh = -h;
    const hPhi1 = Math.expm1(hh);
    let hPhiK = hPhi1 / hh - 1;
    let fact = 1;
    const B = this.config.solverType === 'bh1' ? hh : Math.expm1(hh);
    const R: number[][] = [];
    const b: number[] = [];
    for (let i = 1; i <= order; i++) {
      R.push(rks.map((r) => r ** (i - 1)));
      b.push((hPhiK * fact) / B);
      fact *= i + 1;
      hPhiK = hPhiK / hh - 1 / fact;
    }
    const out = new Float64Array(x.length);
    let rhos: number[] = [];
    if (mt === undefined) {
      if (D1s.length > 0)
        rhos =
          order === 2
            ? [0.5]
            : solve(
                R.slice(0, -1).map((r) => r.slice(0, -1)),
                b.slice(0, -1),
              );
    } else {
      rhos = order === 1 ? [0.5] : solve(R, b);
    }
    const hasTerms = D1s.length > 0 || mt !== undefined;
    for (let k = 0; k < x.length; k++) {
      let res = 0;
      for (let j = 0; j < D1s.length; j++) res += rhos[j] * D1s[j][k];
      if (mt !== undefined) res += rhos[rhos.length - 1] * (mt[k] - m0[k]);
      // with no difference terms the B(h) term is absent (B = −∞ at a final σ = 0 for bh1).
      out[k] = (sT / sS) * x[k] - aT * hPhi1 * m0[k] - (hasTerms ? aT * B * res : 0);
    }
    return out;
  }

  step(output: SampleLike, t: number, sample: SampleLike): StepOutput {
    if (this.timesteps.length === 0) throw new Error(`${NAME}: call setTimesteps before step`);
    checkSameLength(NAME, output, sample, 'model output');
    if (this.stepIdx === null) this.stepIdx = indexOfTimestep(NAME, this.timesteps, t);
    const i = this.stepIdx;
    let x = f64(sample);
    const mt = this.toX0(f64(output), x, this.sigmas[i]);
    const useCorrector = i > 0 && !this.config.disableCorrector.includes(i - 1) && this.lastSample !== null;
    if (useCorrector) x = this.update(this.lastSample as Sample, i - 1, i, this.outputs, this.thisOrder, mt);
    this.outputs.unshift(mt);
    if (this.outputs.length > this.config.solverOrder) this.outputs.length = this.config.solverOrder;
    const n = this.timesteps.length;
    const order = this.config.lowerOrderFinal
      ? Math.min(this.config.solverOrder, n - i)
      : this.config.solverOrder;
    this.thisOrder = Math.min(order, this.lowerOrderNums + 1);
    this.lastSample = x;
    const prev = this.update(x, i, i + 1, this.outputs, this.thisOrder);
    if (this.lowerOrderNums < this.config.solverOrder) this.lowerOrderNums++;
    this.stepIdx = i + 1;
    return { prevSample: prev, predOriginalSample: mt };
  }

  addNoise(original: SampleLike, noise: SampleLike, t: number): Sample {
    checkSameLength(NAME, noise, original, 'noise');
    const [a, s] = this.alphaSigma(this.sigmas[indexOfTimestep(NAME, this.timesteps, t)]);
    const nz = f64(noise);
    return f64(original).map((v, k) => a * v + s * nz[k]);
  }
}
