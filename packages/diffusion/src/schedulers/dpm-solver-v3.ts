/**
 * @file DPM-Solver-v3 (Zheng, Lu, Chen & Zhu, "DPM-Solver-v3: Improved Diffusion ODE Solver with
 * Empirical Model Statistics", NeurIPS 2023, arXiv 2310.13268; update rules as in the official
 * thu-ml/DPM-Solver-v3:dpm_solver_v3.py, `multistep_predictor_update`, `multistep_corrector_update`
 * and `sample`), for ε / v / x0 models on diffusers' discrete VP schedules. With λ = log α − log σ
 * and the EMS l, s, b (`dpm-solver-v3-ems.ts`), L = ∫l, S = ∫s, B = ∫e^{−S}b, f = (σε − l⊙x)/α and,
 * relative to the step's start s, g_j = e^{S_s−S_j}f_j − e^{S_s}(B_j − B_s) (g_s = f_s):
 *   x_t = (α_t/α_s)e^{−(L_t−L_s)}x_s − α_t e^{−(L_t−L_s)} [Σ_{k=0}^{n} E_k g^{(k)} + C]
 *   E_k = ∫_s^t e^{(L−L_s)+(S−S_s)}(λ−λ_s)^k/k! dλ,   C = ∫_s^t e^{L−L_s+S}(B − B_s) dλ,
 * where g^{(k)} (k ≥ 1) are estimated from the previous nodes: by the Taylor system
 * Σ_k g^{(k)}(λ_j−λ_s)^k/k! = g_j − g_s (`pseudo` false), or k!·(divided differences) (`pseudo`,
 * the paper's pseudo-order). The predictor uses nodes s, s−1, …; the corrector, run when the model
 * has been evaluated at the predicted x_t, redoes the same step with nodes s, t, s−1, … (order + 1
 * with the pseudo-order corrector, the paper's default) and keeps N = σε − l⊙x of the new output.
 * Defaults are the official `sample()` ones: order 3, predictor not pseudo, corrector on and pseudo,
 * lower-order final steps; `linspace` timesteps down to the last training step (σ_min) are its
 * `time_uniform` schedule for discrete models.
 *
 * Deviations: the official code rounds every timestep to its EMS grid and integrates with the
 * trapezoid rule on it; here l, s, b are piecewise linear in λ between grid points, so any timestep
 * can be used, and the integrals are 8-point Gauss–Legendre on each grid interval (pieces ≤ 0.5 in λ;
 * exact to rounding for the degenerated EMS). A final σ = 0 ('zero') ends with the data prediction
 * x̂0 (λ = ∞ is outside any EMS). With l = 1, s = b = 0 (`degeneratedDpmSolverV3Ems`) the predictor
 * is DPM-Solver++: order 1 = DDIM, order 2 = 2M (heun form), order 3 = 3M with the Taylor
 * third-order term (`taylorThirdOrder`), which the tests check to 1e-10.
 */
import { z } from 'zod';
import { alphasCumprodOf, vpConfigShape } from '../schedules/betas';
import { customSigmaSchedule, FinalSigmasType, multistepSchedule, SigmaSpacing } from '../schedules/discrete';
import { TimestepSpacing } from '../schedules/spacing';
import type { Sample, SampleLike, Scheduler, SetTimestepsOptions, StepOutput } from '../types';
import { checkSameLength, f64, indexOfTimestep, parseOptions, timestepRequest } from '../util';
import { DPMSolverV3Ems, toEpsilon } from './dpm-solver-v3-ems';

const NAME = 'DPMSolverV3Scheduler';

export const DPMSolverV3SchedulerOptions = z.strictObject({
  ...vpConfigShape,
  /** The model's empirical model statistics (see dpm-solver-v3-ems.ts for the JSON shape). */
  ems: DPMSolverV3Ems,
  solverOrder: z.union([z.literal(1), z.literal(2), z.literal(3)]).default(3),
  predictionType: z.enum(['epsilon', 'v_prediction', 'sample']).default('epsilon'),
  /** Pseudo-order predictor (official p_pseudo; the paper uses it at 5 steps on CIFAR-10). */
  predictorPseudo: z.boolean().default(false),
  useCorrector: z.boolean().default(true),
  /** Pseudo-order corrector of order + 1 (official c_pseudo); false: corrector of the predictor's order. */
  correctorPseudo: z.boolean().default(true),
  /** The last steps use order min(order, steps left) (official lower_order_final). */
  lowerOrderFinal: z.boolean().default(true),
  sigmaSpacing: SigmaSpacing.default('default'),
  finalSigmasType: FinalSigmasType.default('sigma_min'),
  timestepSpacing: TimestepSpacing.default('linspace'),
  stepsOffset: z.number().int().min(0).default(0),
});
export type DPMSolverV3SchedulerOptions = z.input<typeof DPMSolverV3SchedulerOptions>;

// 8-point Gauss–Legendre nodes and weights on [−1, 1].
const GL_X = [
  -0.9602898564975363, -0.7966664774136267, -0.525532409916329, -0.1834346424956498, 0.1834346424956498,
  0.525532409916329, 0.7966664774136267, 0.9602898564975363,
];
const GL_W = [
  0.1012285362903763, 0.2223810344533745, 0.3137066458778873, 0.362683783378362, 0.362683783378362,
  0.3137066458778873, 0.2223810344533745, 0.1012285362903763,
];
const MAX_PIECE = 0.5;

/** The EMS as piecewise-linear functions of λ with their integrals L, S and B (per dimension). */
class EmsTable {
  readonly lam: Float64Array;
  readonly D: number;
  private readonly l: Float64Array;
  private readonly s: Float64Array;
  private readonly b: Float64Array;
  private readonly cumL: Float64Array;
  private readonly cumS: Float64Array;
  private readonly cumB: Float64Array;

  constructor(e: DPMSolverV3Ems) {
    this.lam = Float64Array.from(e.lambdas);
    const D = e.dim;
    this.D = D;
    const G = this.lam.length;
    const flat = (m: number[][]) => {
      const a = new Float64Array(G * D);
      m.forEach((row, k) => {
        a.set(row, k * D);
      });
      return a;
    };
    this.l = flat(e.l);
    this.s = flat(e.s);
    this.b = flat(e.b);
    this.cumL = new Float64Array(G * D);
    this.cumS = new Float64Array(G * D);
    this.cumB = new Float64Array(G * D);
    for (let p = 0; p + 1 < G; p++) {
      const w = this.lam[p + 1] - this.lam[p];
      for (let d = 0; d < D; d++) {
        const i = p * D + d;
        this.cumL[i + D] = this.cumL[i] + 0.5 * w * (this.l[i] + this.l[i + D]);
        this.cumS[i + D] = this.cumS[i] + 0.5 * w * (this.s[i] + this.s[i + D]);
      }
      const inc = this.bIntegral(p, this.lam[p], this.lam[p + 1]);
      for (let d = 0; d < D; d++) this.cumB[(p + 1) * D + d] = this.cumB[p * D + d] + inc[d];
    }
  }

  get min(): number {
    return this.lam[0];
  }

  get max(): number {
    return this.lam[this.lam.length - 1];
  }

  /** The grid interval holding λ (clamped to the ends). */
  piece(lam: number): number {
    const G = this.lam.length;
    if (lam <= this.lam[0]) return 0;
    if (lam >= this.lam[G - 1]) return G - 2;
    let lo = 0;
    let hi = G - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (this.lam[mid] <= lam) lo = mid;
      else hi = mid;
    }
    return lo;
  }

  /** l, L and S at λ in interval p, for dimension d (l, s linear in the interval). */
  lls(p: number, lam: number, d: number): [number, number, number] {
    const D = this.D;
    const i = p * D + d;
    const w = this.lam[p + 1] - this.lam[p];
    const t = lam - this.lam[p];
    const dl = (this.l[i + D] - this.l[i]) / w;
    const ds = (this.s[i + D] - this.s[i]) / w;
    return [
      this.l[i] + dl * t,
      this.cumL[i] + this.l[i] * t + 0.5 * dl * t * t,
      this.cumS[i] + this.s[i] * t + 0.5 * ds * t * t,
    ];
  }

  private sb(p: number, lam: number, d: number): number {
    const D = this.D;
    const i = p * D + d;
    const w = this.lam[p + 1] - this.lam[p];
    const t = lam - this.lam[p];
    const S = this.cumS[i] + this.s[i] * t + (0.5 * (this.s[i + D] - this.s[i]) * t * t) / w;
    const bv = this.b[i] + ((this.b[i + D] - this.b[i]) * t) / w;
    return Math.exp(-S) * bv;
  }

  /** ∫_a^c e^{−S}b dλ within interval p, per dimension. */
  private bIntegral(p: number, a: number, c: number): Float64Array {
    const out = new Float64Array(this.D);
    const parts = Math.max(1, Math.ceil(Math.abs(c - a) / MAX_PIECE));
    const step = (c - a) / parts;
    for (let q = 0; q < parts; q++) {
      const lo = a + q * step;
      for (let m = 0; m < 8; m++) {
        const u = lo + 0.5 * step * (GL_X[m] + 1);
        const wgt = 0.5 * step * GL_W[m];
        for (let d = 0; d < this.D; d++) out[d] += wgt * this.sb(p, u, d);
      }
    }
    return out;
  }

  /** l, S and B at λ, per dimension. */
  at(lam: number): { l: Float64Array; S: Float64Array; B: Float64Array } {
    const p = this.piece(lam);
    const x = Math.min(Math.max(lam, this.min), this.max);
    const l = new Float64Array(this.D);
    const S = new Float64Array(this.D);
    const part = this.bIntegral(p, this.lam[p], x);
    const B = new Float64Array(this.D);
    for (let d = 0; d < this.D; d++) {
      const v = this.lls(p, x, d);
      l[d] = v[0];
      S[d] = v[2];
      B[d] = this.cumB[p * this.D + d] + part[d];
    }
    return { l, S, B };
  }

  /**
   * For a step λs → λt: e^{−(L_t − L_s)}, E_0..E_n and C (see the file comment), per dimension,
   * by Gauss–Legendre on each piece of [λs, λt] cut at the grid points.
   */
  stepIntegrals(
    lamS: number,
    lamT: number,
    n: number,
  ): { decay: Float64Array; E: Float64Array[]; C: Float64Array } {
    const D = this.D;
    const a = Math.min(Math.max(lamS, this.min), this.max);
    const c = Math.min(Math.max(lamT, this.min), this.max);
    const start = this.at(a);
    const pS = this.piece(a);
    const Ls = new Float64Array(D);
    for (let d = 0; d < D; d++) Ls[d] = this.lls(pS, a, d)[1];
    const E = Array.from({ length: n + 1 }, () => new Float64Array(D));
    const C = new Float64Array(D);
    // cut points: a, the grid points strictly between, c (works in either direction)
    const cuts = [a];
    const dir = c >= a ? 1 : -1;
    for (let k = 0; k < this.lam.length; k++) {
      const g = this.lam[k];
      if (dir > 0 ? g > a && g < c : g < a && g > c) cuts.push(g);
    }
    if (dir < 0) cuts.splice(1, cuts.length - 1, ...cuts.slice(1).sort((x, y) => y - x));
    cuts.push(c);
    const Bcur = Float64Array.from(start.B); // B at the current sub-piece start
    const fact = [1, 1, 2, 6, 24];
    for (let q = 0; q + 1 < cuts.length; q++) {
      const lo0 = cuts[q];
      const hi0 = cuts[q + 1];
      if (hi0 === lo0) continue;
      const p = this.piece(0.5 * (lo0 + hi0));
      const parts = Math.max(1, Math.ceil(Math.abs(hi0 - lo0) / MAX_PIECE));
      const step = (hi0 - lo0) / parts;
      for (let r = 0; r < parts; r++) {
        const lo = lo0 + r * step;
        for (let m = 0; m < 8; m++) {
          const u = lo + 0.5 * step * (GL_X[m] + 1);
          const wgt = 0.5 * step * GL_W[m];
          const inner = this.bIntegral(p, lo, u);
          const du = u - a;
          for (let d = 0; d < D; d++) {
            const [, L, S] = this.lls(p, u, d);
            const ex = Math.exp(L - Ls[d] + S - start.S[d]);
            let pw = 1;
            for (let k = 0; k <= n; k++) {
              E[k][d] += (wgt * ex * pw) / fact[k];
              pw *= du;
            }
            C[d] += wgt * Math.exp(L - Ls[d] + S) * (Bcur[d] + inner[d] - start.B[d]);
          }
        }
        const whole = this.bIntegral(p, lo, lo + step);
        for (let d = 0; d < D; d++) Bcur[d] += whole[d];
      }
    }
    const pT = this.piece(c);
    const decay = new Float64Array(D);
    for (let d = 0; d < D; d++) decay[d] = Math.exp(-(this.lls(pT, c, d)[1] - Ls[d]));
    return { decay, E, C };
  }
}

interface Node {
  x: Sample;
  eps: Sample;
  sigmaVe: number;
  lambda: number;
  alpha: number;
  sigma: number;
}

function vp(sigmaVe: number): { alpha: number; sigma: number; lambda: number } {
  const alpha = 1 / Math.sqrt(1 + sigmaVe * sigmaVe);
  return { alpha, sigma: sigmaVe * alpha, lambda: -Math.log(sigmaVe) };
}

/** Solve the small dense system A x = b (Gaussian elimination with partial pivoting). */
function solveSmall(A: number[][], b: number[]): number[] {
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

export class DPMSolverV3Scheduler implements Scheduler {
  readonly config: z.output<typeof DPMSolverV3SchedulerOptions>;
  readonly alphasCumprod: Float64Array;
  readonly initNoiseSigma = 1;
  readonly order = 1;
  timesteps: Float64Array = new Float64Array(0);
  sigmas: Float64Array = new Float64Array(0);
  private readonly table: EmsTable;
  private stepIdx: number | null = null;
  /** Oldest first (as the official cached_* lists); at most solverOrder + 1 entries. */
  private nodes: Node[] = [];
  private lastPredictorOrder = 0;

  constructor(options: DPMSolverV3SchedulerOptions) {
    this.config = parseOptions(NAME, DPMSolverV3SchedulerOptions, options);
    this.alphasCumprod = alphasCumprodOf(this.config, true);
    this.table = new EmsTable(this.config.ems);
  }

  get stepIndex(): number | null {
    return this.stepIdx;
  }

  setTimesteps(options: SetTimestepsOptions | number): void {
    const o = timestepRequest(NAME, options, false);
    if (o.steps !== undefined && (!Number.isInteger(o.steps) || o.steps < 1))
      throw new Error(`${NAME}: steps must be a positive integer, got ${o.steps}`);
    const s = o.sigmas
      ? customSigmaSchedule(NAME, o.sigmas, this.alphasCumprod)
      : multistepSchedule(
          NAME,
          {
            ...this.config,
            useFlowSigmas: false,
            flowShift: 1,
            lambdaMinClipped: Number.NEGATIVE_INFINITY,
            alphasCumprod: this.alphasCumprod,
            cosine: this.config.betaSchedule === 'squaredcos_cap_v2',
          },
          o,
        );
    // every noise level the solver integrates through must lie in the EMS range
    const tol = 1e-6 * (this.table.max - this.table.min);
    for (const sg of s.sigmas) {
      if (sg === 0) continue;
      const lam = -Math.log(sg);
      if (lam < this.table.min - tol || lam > this.table.max + tol) {
        throw new Error(
          `${NAME}: sigma ${sg} (λ = ${lam.toFixed(4)}) is outside the EMS range λ ∈ [${this.table.min.toFixed(4)}, ${this.table.max.toFixed(4)}]`,
        );
      }
    }
    this.timesteps = s.timesteps;
    this.sigmas = s.sigmas;
    this.stepIdx = null;
    this.nodes = [];
    this.lastPredictorOrder = 0;
  }

  scaleModelInput(sample: SampleLike): Sample {
    return f64(sample);
  }

  /** g of each node relative to nodes[0] (the step's start), per value. */
  private gValues(nodes: Node[], n: number): Sample[] {
    const D = this.table.D;
    const s = this.table.at(nodes[0].lambda);
    return nodes.map((nd) => {
      const e = this.table.at(nd.lambda);
      const g = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const d = i % D;
        const f = (nd.sigma * nd.eps[i] - e.l[d] * nd.x[i]) / nd.alpha;
        g[i] = Math.exp(s.S[d] - e.S[d]) * f - Math.exp(s.S[d]) * (e.B[d] - s.B[d]);
      }
      return g;
    });
  }

  /**
   * One update from nodes[0] (at λ_s) to λ_t with `nodes` (start first) of which all are used for
   * derivatives: order = nodes.length.
   */
  private update(nodes: Node[], target: { alpha: number; lambda: number }, pseudo: boolean): Sample {
    const n = nodes[0].x.length;
    const D = this.table.D;
    const order = nodes.length;
    const g = this.gValues(nodes, n);
    const { decay, E, C } = this.table.stepIntegrals(nodes[0].lambda, target.lambda, order - 1);
    const lam = nodes.map((nd) => nd.lambda);
    const derivs: Sample[] = [];
    if (order > 1) {
      const k = order - 1;
      if (pseudo) {
        let Dprev = g;
        for (let i = 1; i <= k; i++) {
          const Dnext: Sample[] = [];
          for (let j = 0; j < k - i + 1; j++) {
            const den = lam[j] - lam[i + j];
            Dnext.push(Dprev[j].map((v, q) => (v - Dprev[j + 1][q]) / den));
          }
          let fi = 1;
          for (let q = 2; q <= i; q++) fi *= q;
          derivs.push(Dnext[0].map((v) => v * fi));
          Dprev = Dnext;
        }
      } else {
        const R = Array.from({ length: k }, (_, j) =>
          Array.from({ length: k }, (_, i) => (lam[j + 1] - lam[0]) ** (i + 1)),
        );
        // R⁻¹ column by column, applied to every value
        const inv = Array.from({ length: k }, (_, c) =>
          solveSmall(
            R,
            Array.from({ length: k }, (_, r) => (r === c ? 1 : 0)),
          ),
        );
        for (let i = 0; i < k; i++) derivs.push(new Float64Array(n));
        let fi = 1;
        for (let i = 0; i < k; i++) {
          fi *= i + 1;
          for (let q = 0; q < n; q++) {
            let acc = 0;
            for (let c = 0; c < k; c++) acc += inv[c][i] * (g[c + 1][q] - g[0][q]);
            derivs[i][q] = acc * fi;
          }
        }
      }
    }
    const s0 = nodes[0];
    const out = new Float64Array(n);
    for (let q = 0; q < n; q++) {
      const d = q % D;
      let acc = E[0][d] * g[0][q] + C[d];
      for (let i = 0; i < derivs.length; i++) acc += E[i + 1][d] * derivs[i][q];
      out[q] = decay[d] * ((target.alpha / s0.alpha) * s0.x[q] - target.alpha * acc);
    }
    return out;
  }

  step(output: SampleLike, t: number, sample: SampleLike): StepOutput {
    if (this.timesteps.length === 0) throw new Error(`${NAME}: call setTimesteps before step`);
    checkSameLength(NAME, output, sample, 'model output');
    if (this.stepIdx === null) this.stepIdx = indexOfTimestep(NAME, this.timesteps, t);
    const i = this.stepIdx;
    const N = this.timesteps.length;
    const x = f64(sample);
    if (x.length % this.table.D !== 0)
      throw new Error(
        `${NAME}: sample has ${x.length} values, not a multiple of the EMS dim ${this.table.D}`,
      );
    const sv = this.sigmas[i];
    const here = vp(sv);
    const eps = toEpsilon(this.config.predictionType, f64(output), x, sv);
    this.nodes.push({ x, eps, sigmaVe: sv, ...here });
    const { solverOrder, useCorrector, correctorPseudo, predictorPseudo } = this.config;
    // corrector: redo the last step with the new model output as an extra node
    const cOrder = this.lastPredictorOrder + (correctorPseudo ? 1 : 0);
    if (useCorrector && cOrder > 1 && this.nodes.length >= cOrder) {
      const m = this.nodes.length;
      const ordered = [this.nodes[m - 2], this.nodes[m - 1]];
      for (let j = 3; j <= cOrder; j++) ordered.push(this.nodes[m - j]);
      const xNew = this.update(ordered, here, correctorPseudo);
      const cur = this.nodes[m - 1];
      const D = this.table.D;
      const { l } = this.table.at(here.lambda);
      const epsNew = new Float64Array(x.length);
      for (let q = 0; q < x.length; q++) {
        const nOld = cur.sigma * cur.eps[q] - l[q % D] * cur.x[q];
        epsNew[q] = (nOld + l[q % D] * xNew[q]) / cur.sigma;
      }
      this.nodes[m - 1] = { ...cur, x: xNew, eps: epsNew };
    }
    if (this.nodes.length > solverOrder + 1) this.nodes.splice(0, this.nodes.length - solverOrder - 1);
    const cur = this.nodes[this.nodes.length - 1];
    const x0 = cur.x.map((v, q) => (v - cur.sigma * cur.eps[q]) / cur.alpha);

    let pOrder = Math.min(i + 1, solverOrder);
    if (this.config.lowerOrderFinal) pOrder = Math.min(pOrder, N - i);
    this.lastPredictorOrder = pOrder;
    const next = this.sigmas[i + 1];
    let prev: Sample;
    if (next === 0) {
      prev = x0; // σ = 0 (λ = ∞): the data prediction
    } else {
      const m = this.nodes.length;
      const ordered: Node[] = [];
      for (let j = 1; j <= pOrder; j++) ordered.push(this.nodes[m - j]);
      prev = this.update(ordered, vp(next), predictorPseudo);
    }
    this.stepIdx = i + 1;
    return { prevSample: prev, predOriginalSample: x0 };
  }

  addNoise(original: SampleLike, noise: SampleLike, t: number): Sample {
    checkSameLength(NAME, noise, original, 'noise');
    const { alpha, sigma } = vp(this.sigmas[indexOfTimestep(NAME, this.timesteps, t)]);
    const nz = f64(noise);
    return f64(original).map((v, k) => alpha * v + sigma * nz[k]);
  }
}
