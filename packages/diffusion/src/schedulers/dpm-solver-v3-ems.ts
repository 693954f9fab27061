/**
 * @file Empirical model statistics (EMS) for DPM-Solver-v3 (Zheng, Lu, Chen & Zhu, "DPM-Solver-v3:
 * Improved Diffusion ODE Solver with Empirical Model Statistics", NeurIPS 2023, arXiv 2310.13268,
 * §3.2 and App. C.1.1; the official EMS script thu-ml/DPM-Solver-v3:codebases/score_sde, functions
 * compute_l / compute_l_d / compute_f / compute_sb). On a VP schedule with λ = log α − log σ the
 * diffusion ODE is dx/dλ = σ²x − σε_θ. DPM-Solver-v3 writes its nonlinear part as
 * N_θ = σε_θ − l_λ⊙x, f_θ = N_θ/α and g_θ = e^{−S_λ}f_θ − B_λ (S = ∫s, B = ∫e^{−S}b), with, per
 * dimension and per λ of a grid:
 *   l_λ = E[σ_λ·diag(∂ε_θ/∂x)]                      (minimises E‖∇_x N_θ‖²_F)
 *   s_λ = Cov(f, f′)/Var(f),  b_λ = E[f′] − s_λ·E[f]  (minimise E‖f′ − s f − b‖², f′ = df_θ/dλ on the ODE)
 * and f′ = e^{−λ}((l − 1)ε + ε′) − l′·x/α (ε′ = dε_θ/dλ along the ODE, l′ = dl/dλ), as in compute_f.
 * The expectations are over the model's marginal at λ; here over calibration trajectories of the
 * probability-flow ODE from standard-normal noise, integrated by DPM-Solver++ 2M on the λ grid
 * itself (the official score_sde script draws x_λ = αx0 + σz from training data instead, and uses
 * forward-mode JVPs). Without autodiff the Jacobian terms are estimated without JVPs:
 *   diag(∂ε/∂x) by Hutchinson's estimator E_v[v⊙Jv] with Rademacher v (one fixed v per item and
 *   probe for the whole trajectory, so that l is smooth in λ) and the central difference
 *   Jv ≈ (ε(x + δv) − ε(x − δv))/(2δ) (2 model calls per probe);
 *   ε′ by the central difference of ε along each trajectory on the (uniform) λ grid (no extra call);
 *   l′ by central differences of l, smoothed over ±5 grid points (compute_l_d).
 * The statistics are accumulated as eight moments per grid point and dimension, so l (which f
 * depends on) need not be known before the trajectories are run: one pass of (1 + 2·probes) model
 * calls per grid point. Where Var(f) vanishes (f does not depend on x, e.g. a Gaussian target),
 * s = 0 and b = E[f′].
 *
 * JSON shape (`kind: 'hasten.dpm-solver-v3-ems/1'`): `lambdas` (G + 1 ascending log-SNR/2 values,
 * noisy → clean), `dim` (values per item the statistics are given for; 1 = shared by every value),
 * `l`, `s`, `b` (G + 1 rows of `dim` numbers), optional `model` and `calibration` (what it was
 * computed from). The official l.npz / sb.npz arrays, flattened per row, fit this shape.
 */
import type { Philox } from '@hasten/core-tensor';
import { z } from 'zod';
import { alphasCumprodOf, vpConfigShape, vpSigmas } from '../schedules/betas';
import { sigmaToT } from '../schedules/sigmas';
import type { Denoiser, Sample, SampleLike } from '../types';
import { f64, parseOptions } from '../util';
import { DPMSolverMultistepScheduler } from './dpm-solver-multistep';

const NAME = 'computeDpmSolverV3Ems';
export const EMS_KIND = 'hasten.dpm-solver-v3-ems/1';

const finite = z.number().refine(Number.isFinite, 'must be finite');

export const DPMSolverV3Ems = z
  .strictObject({
    kind: z.literal(EMS_KIND),
    model: z.string().optional(),
    /** Grid of λ = log α − log σ, ascending (from the noisiest level to the cleanest). */
    lambdas: z.array(finite).min(2),
    /** Values per item the statistics hold (1: one value shared by all dimensions). */
    dim: z.number().int().positive(),
    l: z.array(z.array(finite)),
    s: z.array(z.array(finite)),
    b: z.array(z.array(finite)),
    calibration: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((e, ctx) => {
    for (let k = 1; k < e.lambdas.length; k++) {
      if (!(e.lambdas[k] > e.lambdas[k - 1])) {
        ctx.addIssue({
          code: 'custom',
          path: ['lambdas', k],
          message: `lambdas must be strictly ascending (${e.lambdas[k]} after ${e.lambdas[k - 1]})`,
        });
        return;
      }
    }
    for (const key of ['l', 's', 'b'] as const) {
      const rows = e[key];
      if (rows.length !== e.lambdas.length) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `${key} has ${rows.length} rows, lambdas has ${e.lambdas.length}`,
        });
        continue;
      }
      const bad = rows.findIndex((r) => r.length !== e.dim);
      if (bad >= 0)
        ctx.addIssue({
          code: 'custom',
          path: [key, bad],
          message: `row ${bad} has ${rows[bad].length} values, dim is ${e.dim}`,
        });
    }
  });
export type DPMSolverV3Ems = z.output<typeof DPMSolverV3Ems>;

/** Validate EMS given as an object or a JSON string (errors name the field). */
export function loadDpmSolverV3Ems(value: unknown): DPMSolverV3Ems {
  const v = typeof value === 'string' ? JSON.parse(value) : value;
  return parseOptions('DPMSolverV3Ems', DPMSolverV3Ems, v);
}

/** EMS as JSON; `digits` significant digits per number (default: full f64 precision). */
export function dpmSolverV3EmsToJson(ems: DPMSolverV3Ems, digits?: number): string {
  const r = (x: number) => (digits === undefined ? x : Number(x.toPrecision(digits)));
  const rows = (m: number[][]) => m.map((row) => row.map(r));
  return `${JSON.stringify(
    { ...ems, lambdas: ems.lambdas.map(r), l: rows(ems.l), s: rows(ems.s), b: rows(ems.b) },
    null,
    0,
  )}\n`;
}

/**
 * The statistics that turn DPM-Solver-v3 into DPM-Solver++ or DPM-Solver over [lambdaMin,
 * lambdaMax] (App. A.2; the official `degenerated` flag is the first). l = 1, s = b = 0: f = −x̂0,
 * so the data prediction is expanded in λ (DPM-Solver++). l = 0, s = −1, b = 0: g ∝ e^{λ}f = ε̂, so
 * the noise prediction is expanded in λ (DPM-Solver; l = s = b = 0 would expand e^{−λ}ε̂ instead).
 */
export function degeneratedDpmSolverV3Ems(
  lambdaMin: number,
  lambdaMax: number,
  variant: 'dpmsolver++' | 'dpmsolver' = 'dpmsolver++',
): DPMSolverV3Ems {
  const [l, s] = variant === 'dpmsolver++' ? [1, 0] : [0, -1];
  return loadDpmSolverV3Ems({
    kind: EMS_KIND,
    model: `degenerated: ${variant} (l = ${l}, s = ${s}, b = 0)`,
    lambdas: [lambdaMin, lambdaMax],
    dim: 1,
    l: [[l], [l]],
    s: [[s], [s]],
    b: [[0], [0]],
  });
}

const SampleArray = z.custom<SampleLike>(
  (v) => v instanceof Float64Array || v instanceof Float32Array || Array.isArray(v),
  { message: 'expected a Float64Array, Float32Array or number array' },
);

export interface EmsProgress {
  /** Grid points done (of `total` = gridSize + 1) and model calls so far. */
  done: number;
  total: number;
  modelCalls: number;
}

export const ComputeDpmSolverV3EmsOptions = z.strictObject({
  ...vpConfigShape,
  /** Calibration items and values per item. */
  batch: z.number().int().positive(),
  dim: z.number().int().positive(),
  /** Initial standard-normal noise (batch·dim values), or a generator to draw it from. */
  noise: SampleArray.optional(),
  generator: z.custom<Philox>((v) => typeof v === 'object' && v !== null && 'normal' in v).optional(),
  /** Per-item conditioning passed to the denoiser (absent: every item unconditional). */
  cond: z.array(z.unknown()).optional(),
  /** Intervals of the uniform λ grid (the official script: 1200). */
  gridSize: z.number().int().min(4).default(1200),
  /** λ range; default: the training schedule's first and last training step. */
  lambdaMin: z.number().optional(),
  lambdaMax: z.number().optional(),
  /** Rademacher probes per grid point for diag(∂ε/∂x) (2 model calls each). */
  probes: z.number().int().positive().default(1),
  /** Finite-difference step δ for the Jacobian-vector products. */
  fdStep: z.number().positive().default(1e-3),
  /** Half-width of the moving average over dl/dλ (compute_l_d: 5). */
  smoothWindow: z.number().int().min(0).default(5),
  /** Statistics per dimension (the paper's, `dim` values) or pooled into one (`dim` 1). */
  perDimension: z.boolean().default(true),
  /** Items per denoiser call (memory bound for large models). */
  maxBatch: z.number().int().positive().optional(),
  /** Generator for the Rademacher probes; default: the same as `generator`, else a fixed seed. */
  probeGenerator: z.custom<Philox>((v) => typeof v === 'object' && v !== null && 'uniform' in v).optional(),
  model: z.string().optional(),
  onProgress: z.custom<(p: EmsProgress) => void>((v) => typeof v === 'function').optional(),
});
export type ComputeDpmSolverV3EmsOptions = z.input<typeof ComputeDpmSolverV3EmsOptions>;

/**
 * Compute the EMS of `denoiser` (any prediction type, read as ε) on calibration trajectories; see
 * the file comment. Costs (gridSize + 1)·(1 + 2·probes) denoiser calls of `batch` items (split
 * into `maxBatch` chunks).
 */
export function computeDpmSolverV3Ems<C>(
  denoiser: Denoiser<C>,
  options: ComputeDpmSolverV3EmsOptions,
): DPMSolverV3Ems {
  const o = parseOptions(NAME, ComputeDpmSolverV3EmsOptions, options);
  const { batch, dim, gridSize: G } = o;
  const n = batch * dim;
  if (o.cond !== undefined && o.cond.length !== batch)
    throw new Error(`${NAME}: cond has ${o.cond.length} entries, batch is ${batch}`);
  let z0: Sample;
  if (o.noise !== undefined) {
    if (o.generator !== undefined) throw new Error(`${NAME}: pass either noise or generator, not both`);
    if (o.noise.length !== n) throw new Error(`${NAME}: noise has ${o.noise.length} values, expected ${n}`);
    z0 = f64(o.noise);
  } else if (o.generator !== undefined) {
    z0 = o.generator.normal(n);
  } else {
    throw new Error(`${NAME}: pass noise or generator for the calibration trajectories`);
  }
  const probeGen = o.probeGenerator ?? o.generator;
  if (probeGen === undefined) throw new Error(`${NAME}: pass probeGenerator when noise is given`);

  const ac = alphasCumprodOf(o, true);
  const train = vpSigmas(ac);
  const logSigmas = train.map(Math.log);
  const lamMin = o.lambdaMin ?? -Math.log(train[train.length - 1]);
  const lamMax = o.lambdaMax ?? -Math.log(train[0]);
  if (!(lamMax > lamMin)) throw new Error(`${NAME}: lambdaMax (${lamMax}) must exceed lambdaMin (${lamMin})`);
  const gap = (lamMax - lamMin) / G;
  const lambdas = Float64Array.from({ length: G + 1 }, (_, k) => (k === G ? lamMax : lamMin + k * gap));
  const veSigmas = lambdas.map((l) => Math.exp(-l));

  let modelCalls = 0;
  const chunk = o.maxBatch ?? batch;
  const cond = o.cond ?? new Array(batch).fill(null);
  const predict = (x: Sample, t: number, sigmaVe: number): Sample => {
    const out = new Float64Array(n);
    for (let b0 = 0; b0 < batch; b0 += chunk) {
      const b1 = Math.min(batch, b0 + chunk);
      const y = f64(denoiser(x.subarray(b0 * dim, b1 * dim), t, cond.slice(b0, b1) as C));
      modelCalls++;
      if (y.length !== (b1 - b0) * dim)
        throw new Error(`${NAME}: denoiser returned ${y.length} values for ${(b1 - b0) * dim}`);
      out.set(y, b0 * dim);
    }
    return toEpsilon(denoiser.predictionType, out, x, sigmaVe);
  };

  // Eight moments per grid point and dimension (see momentsToStats), and l's Hutchinson sums.
  const M = 8;
  const mom = new Float64Array((G + 1) * M * dim);
  const lSum = new Float64Array((G + 1) * dim);

  const sched = new DPMSolverMultistepScheduler({ ...vpOnly(o), lowerOrderFinal: false });
  sched.setTimesteps({ sigmas: [...veSigmas] });
  const xs: Sample[] = [];
  const eps: Sample[] = [];
  let x: Sample = Float64Array.from(z0);
  const delta = o.fdStep;
  // The same Rademacher vectors at every grid point (common random numbers): l stays a smooth
  // function of λ. Fresh probes per grid point add grid-scale jitter to l (hence to f and g),
  // which the solver's polynomial extrapolation of g cannot follow once steps near the grid size.
  const probes = Array.from({ length: o.probes }, () => probeGen.uniform(n).map((r) => (r < 0.5 ? -1 : 1)));
  const accumulate = (k: number) => {
    // central difference of ε along the trajectories (one-sided at the ends)
    const kp = Math.min(k + 1, G);
    const km = Math.max(k - 1, 0);
    const epsD = eps[kp].map((v, i) => (v - eps[km][i]) / (lambdas[kp] - lambdas[km]));
    const { alpha } = vpOf(veSigmas[k]);
    const el = Math.exp(-lambdas[k]);
    const xk = xs[k];
    const ek = eps[k];
    const base = k * M * dim;
    for (let i = 0; i < n; i++) {
      const d = i % dim;
      const a = el * ek[i];
      const c = xk[i] / alpha;
      const e = el * (epsD[i] - ek[i]);
      mom[base + d] += a;
      mom[base + dim + d] += c;
      mom[base + 2 * dim + d] += e;
      mom[base + 3 * dim + d] += a * a;
      mom[base + 4 * dim + d] += a * c;
      mom[base + 5 * dim + d] += c * c;
      mom[base + 6 * dim + d] += a * e;
      mom[base + 7 * dim + d] += c * e;
    }
  };
  for (let k = 0; k <= G; k++) {
    const t = k < G ? sched.timesteps[k] : sigmaToT(veSigmas[G], logSigmas);
    const e = predict(x, t, veSigmas[k]);
    xs[k] = x;
    eps[k] = e;
    const { sigma } = vpOf(veSigmas[k]);
    for (let p = 0; p < o.probes; p++) {
      const v = probes[p];
      const up = predict(
        x.map((xv, i) => xv + delta * v[i]),
        t,
        veSigmas[k],
      );
      const dn = predict(
        x.map((xv, i) => xv - delta * v[i]),
        t,
        veSigmas[k],
      );
      for (let i = 0; i < n; i++) lSum[k * dim + (i % dim)] += (sigma * v[i] * (up[i] - dn[i])) / (2 * delta);
    }
    if (k >= 1) accumulate(k - 1);
    if (k === G) accumulate(G);
    // keep only the last three trajectory states
    if (k >= 2) {
      xs[k - 2] = new Float64Array(0);
      eps[k - 2] = new Float64Array(0);
    }
    if (k < G) x = sched.step(e, t, x).prevSample;
    o.onProgress?.({ done: k + 1, total: G + 1, modelCalls });
  }

  // l per grid point (mean over items and probes), then pooled if asked.
  const D = o.perDimension ? dim : 1;
  const l = new Float64Array((G + 1) * D);
  for (let k = 0; k <= G; k++)
    for (let d = 0; d < dim; d++)
      l[k * D + (o.perDimension ? d : 0)] += lSum[k * dim + d] / (batch * o.probes);
  if (!o.perDimension) for (let k = 0; k <= G; k++) l[k] /= dim;
  const count = o.perDimension ? batch : batch * dim;
  const m = new Float64Array((G + 1) * M * D);
  for (let k = 0; k <= G; k++)
    for (let j = 0; j < M; j++)
      for (let d = 0; d < dim; d++)
        m[(k * M + j) * D + (o.perDimension ? d : 0)] += mom[(k * M + j) * dim + d] / count;

  const lD = smoothedDerivative(l, lambdas, D, o.smoothWindow);
  const s = new Float64Array((G + 1) * D);
  const b = new Float64Array((G + 1) * D);
  for (let k = 0; k <= G; k++) {
    for (let d = 0; d < D; d++) {
      const at = (j: number) => m[(k * M + j) * D + d];
      const [Ea, Ec, Ee, Eaa, Eac, Ecc, Eae, Ece] = [0, 1, 2, 3, 4, 5, 6, 7].map(at);
      const lv = l[k * D + d];
      const ld = lD[k * D + d];
      const Ef = Ea - lv * Ec;
      const Efd = Ee + lv * Ea - ld * Ec;
      const Eff = Eaa - 2 * lv * Eac + lv * lv * Ecc;
      const Effd = Eae + lv * Eaa - ld * Eac - lv * Ece - lv * lv * Eac + lv * ld * Ecc;
      const varF = Eff - Ef * Ef;
      const sv = varF > 1e-12 * Math.max(Eff, 1e-300) ? (Effd - Ef * Efd) / varF : 0;
      s[k * D + d] = sv;
      b[k * D + d] = Efd - sv * Ef;
    }
  }
  const rows = (a: Float64Array) =>
    Array.from({ length: G + 1 }, (_, k) => Array.from(a.subarray(k * D, (k + 1) * D)));
  return loadDpmSolverV3Ems({
    kind: EMS_KIND,
    ...(o.model !== undefined ? { model: o.model } : {}),
    lambdas: [...lambdas],
    dim: D,
    l: rows(l),
    s: rows(s),
    b: rows(b),
    calibration: {
      items: batch,
      gridSize: G,
      probes: o.probes,
      fdStep: o.fdStep,
      smoothWindow: o.smoothWindow,
      perDimension: o.perDimension,
      baseSampler: 'DPM-Solver++ 2M on the λ grid',
      modelCalls,
    },
  });
}

function vpOnly(o: z.output<typeof ComputeDpmSolverV3EmsOptions>) {
  return {
    numTrainTimesteps: o.numTrainTimesteps,
    betaStart: o.betaStart,
    betaEnd: o.betaEnd,
    betaSchedule: o.betaSchedule,
    rescaleBetasZeroSnr: o.rescaleBetasZeroSnr,
    ...(o.trainedBetas !== undefined ? { trainedBetas: o.trainedBetas } : {}),
  };
}

function vpOf(sigmaVe: number): { alpha: number; sigma: number } {
  const alpha = 1 / Math.sqrt(1 + sigmaVe * sigmaVe);
  return { alpha, sigma: sigmaVe * alpha };
}

/** A model output of any VP prediction type as ε, at the VE-view σ of the step. */
export function toEpsilon(type: string, out: Sample, x: Sample, sigmaVe: number): Sample {
  const { alpha, sigma } = vpOf(sigmaVe);
  switch (type) {
    case 'epsilon':
      return out;
    case 'v_prediction':
      return out.map((v, i) => alpha * v + sigma * x[i]);
    case 'sample':
      return out.map((x0, i) => (x[i] - alpha * x0) / sigma);
    default:
      throw new Error(`DPM-Solver-v3: prediction type '${type}' is not supported on a VP schedule`);
  }
}

/** dl/dλ by central differences (one-sided at the ends), then a ±w moving average (compute_l_d). */
function smoothedDerivative(l: Float64Array, lambdas: Float64Array, D: number, w: number): Float64Array {
  const K = lambdas.length;
  const d1 = new Float64Array(K * D);
  for (let k = 0; k < K; k++) {
    const kp = Math.min(k + 1, K - 1);
    const km = Math.max(k - 1, 0);
    for (let d = 0; d < D; d++) d1[k * D + d] = (l[kp * D + d] - l[km * D + d]) / (lambdas[kp] - lambdas[km]);
  }
  const out = new Float64Array(K * D);
  for (let k = 0; k < K; k++) {
    const lo = Math.max(0, k - w);
    const hi = Math.min(K - 1, k + w);
    for (let d = 0; d < D; d++) {
      let acc = 0;
      for (let j = lo; j <= hi; j++) acc += d1[j * D + d];
      out[k * D + d] = acc / (hi - lo + 1);
    }
  }
  return out;
}
