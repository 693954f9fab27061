/**
 * @file The sampling loop: a scheduler, a denoiser and a step count, with optional classifier-free
 * guidance (Ho & Salimans, arXiv 2207.12598): ε̂ = ε̂_u + w·(ε̂_c − ε̂_u) on the model output of
 * any prediction type, computed with the conditional and unconditional branches batched into one
 * denoiser call; guidance rescale (Lin et al., arXiv 2305.08891 §3.4): per item,
 * ε̂ ← φ·ε̂·std(ε̂_c)/std(ε̂) + (1 − φ)·ε̂; guidance interval (Kynkäänniemi et al., arXiv 2404.07724):
 * guidance only while the scheduler's σ lies in (lo, hi], elsewhere the conditional branch alone
 * (and no unconditional evaluation); residual CFG (RCFG, Kodaira et al., "StreamDiffusion: A
 * Pipeline-level Solution for Real-time Interactive Generation", arXiv 2312.12491 §3.3): the
 * unconditional noise is replaced by a virtual residual noise, so a guided step costs one branch.
 * In ε-space of the model input at step i, x_i = α_i·x0 + σ_i·ε (VP: α = 1/√(1+s²), σ = s·α of
 * the scheduler's s = sigmas[i]; flow_prediction: α = 1 − s, σ = s):
 *   ε̃_i = δ·ε'_i + γ·(ε_c,i − δ·ε'_i)                  (the paper's RCFG, δ the magnitude moderation)
 *   ε'_0 = the initial noise ('self-negative': the noise the first sample was made from, so the
 *          negative is the input itself) or the model's unconditional prediction at the first
 *          step, the only unconditional evaluation ('onetime-negative');
 *   x̂0⁻ = (x_i − σ_i·ε'_i)/α_i at i = 0, the negative's denoised image, fixed for the run;
 *   ε'_i = (x_i − α_i·x̂0⁻)/σ_i for i ≥ 1, the virtual residual noise.
 * RCFG equals CFG exactly when the unconditional prediction's x̂0 does not change over the steps.
 * ε̃ is converted back to the denoiser's prediction type before the scheduler step.
 */
import type { Philox } from '@hasten/core-tensor';
import { z } from 'zod';
import type { SamplingCache } from './caches/cached-denoiser';
import type { Denoiser, PredictionType, Sample, SampleLike, Scheduler } from './types';
import { f64, parseOptions } from './util';

const NAME = 'sample';

export const SampleOptions = z.strictObject({
  steps: z.number().int().positive().optional(),
  timesteps: z.array(z.number()).readonly().optional(),
  sigmas: z.array(z.number()).readonly().optional(),
  mu: z.number().optional(),
  /** Items in the batch and values per item. */
  batch: z.number().int().positive(),
  dim: z.number().int().positive(),
  /** Initial standard-normal noise (batch·dim values); drawn from `generator` when absent. */
  noise: z
    .custom<SampleLike>((v) => v instanceof Float64Array || v instanceof Float32Array || Array.isArray(v))
    .optional(),
  generator: z.custom<Philox>((v) => typeof v === 'object' && v !== null && 'normal' in v).optional(),
  /** Per-item conditioning (null = unconditional); absent = every item unconditional. */
  cond: z.array(z.unknown()).optional(),
  guidanceScale: z.number().default(1),
  guidanceRescale: z.number().min(0).max(1).default(0),
  /** [lo, hi]: guide only while lo < σ ≤ hi (σ = scheduler.sigmas at the step). */
  guidanceInterval: z.tuple([z.number(), z.number()]).optional(),
  /**
   * Residual CFG (StreamDiffusion §3.3): 'self-negative' never evaluates the unconditional branch;
   * 'onetime-negative' evaluates it once, at the first step. δ (default 1) scales the virtual
   * residual noise. Not combinable with `guidanceInterval`.
   */
  rcfg: z
    .strictObject({
      mode: z.enum(['self-negative', 'onetime-negative']),
      delta: z.number().min(0).default(1),
    })
    .optional(),
  /**
   * A feature cache (e.g. a `cachedDenoiser`): told the number of denoiser calls before the loop
   * (`beginGeneration`) and the index of each call (`beginStep`).
   */
  cache: z
    .custom<SamplingCache>(
      (v) =>
        (typeof v === 'object' || typeof v === 'function') &&
        v !== null &&
        typeof (v as SamplingCache).beginGeneration === 'function' &&
        typeof (v as SamplingCache).beginStep === 'function',
      { message: 'expected an object with beginGeneration(steps) and beginStep(index)' },
    )
    .optional(),
});
export type SampleOptions = z.input<typeof SampleOptions>;

export interface SampleResult {
  sample: Sample;
  /** Denoiser calls (a batched CFG call counts once) and items evaluated in them. */
  nfe: number;
  itemEvaluations: number;
}

export function sample<C>(
  scheduler: Scheduler,
  denoiser: Denoiser<(C | null)[]>,
  options: SampleOptions,
): SampleResult {
  const o = parseOptions(NAME, SampleOptions, options);
  const { batch, dim } = o;
  const n = batch * dim;
  const cond = (o.cond ?? new Array(batch).fill(null)) as (C | null)[];
  if (cond.length !== batch)
    throw new Error(`${NAME}: option 'cond' has ${cond.length} entries, batch is ${batch}`);
  const guided = o.guidanceScale !== 1 && cond.some((c) => c !== null);
  if (o.rcfg !== undefined && o.guidanceInterval !== undefined)
    throw new Error(`${NAME}: options 'rcfg' and 'guidanceInterval' cannot be combined`);
  scheduler.setTimesteps({ steps: o.steps, timesteps: o.timesteps, sigmas: o.sigmas, mu: o.mu });
  let noise: Sample;
  if (o.noise !== undefined) {
    if (o.noise.length !== n)
      throw new Error(`${NAME}: option 'noise' has ${o.noise.length} values, expected batch·dim = ${n}`);
    noise = f64(o.noise);
  } else if (o.generator !== undefined) {
    noise = o.generator.normal(n);
  } else {
    throw new Error(`${NAME}: pass option 'noise' or 'generator'`);
  }
  let x: Float64Array = noise.map((v) => v * scheduler.initNoiseSigma);
  let nfe = 0;
  let items = 0;
  const uncond = new Array<C | null>(batch).fill(null);
  o.cache?.beginGeneration(scheduler.timesteps.length);
  let negX0: Float64Array | null = null;
  scheduler.timesteps.forEach((t, i) => {
    o.cache?.beginStep(i);
    const input = scheduler.scaleModelInput(x, t);
    const sigma = scheduler.sigmas[i];
    const inInterval =
      o.guidanceInterval === undefined || (sigma > o.guidanceInterval[0] && sigma <= o.guidanceInterval[1]);
    let out: Sample;
    nfe++;
    if (guided && o.rcfg !== undefined) {
      const r = o.rcfg;
      const [alpha, sg] = inputAlphaSigma(sigma, denoiser.predictionType);
      if (!(alpha > 0) || !(sg > 0))
        throw new Error(
          `${NAME}: rcfg needs 0 < σ and α > 0 at every step, got σ = ${sg}, α = ${alpha} at step ${i}`,
        );
      let c: Float64Array;
      let neg: Float64Array;
      if (i === 0 && r.mode === 'onetime-negative') {
        const both = new Float64Array(2 * n);
        both.set(input);
        both.set(input, n);
        const pred = denoiser(both, t, [...cond, ...uncond]);
        items += 2 * batch;
        c = pred.subarray(0, n);
        neg = toEps(pred.subarray(n), input, alpha, sg, denoiser.predictionType);
      } else {
        c = denoiser(input, t, cond);
        items += batch;
        neg = i === 0 ? noise : new Float64Array(n);
      }
      if (i === 0) {
        negX0 = new Float64Array(n);
        for (let k = 0; k < n; k++) negX0[k] = (input[k] - sg * neg[k]) / alpha;
      } else {
        const x0 = negX0 as Float64Array;
        for (let k = 0; k < n; k++) neg[k] = (input[k] - alpha * x0[k]) / sg;
      }
      const ec = toEps(c, input, alpha, sg, denoiser.predictionType);
      const w = o.guidanceScale;
      const eps = new Float64Array(n);
      for (let k = 0; k < n; k++) {
        const d = r.delta * neg[k];
        eps[k] = d + w * (ec[k] - d);
      }
      out = fromEps(eps, input, alpha, sg, denoiser.predictionType);
      if (o.guidanceRescale > 0) rescale(out, c, batch, dim, o.guidanceRescale);
    } else if (guided && inInterval) {
      const both = new Float64Array(2 * n);
      both.set(input);
      both.set(input, n);
      const pred = denoiser(both, t, [...cond, ...uncond]);
      items += 2 * batch;
      const c = pred.subarray(0, n);
      const u = pred.subarray(n);
      const w = o.guidanceScale;
      out = new Float64Array(n);
      for (let k = 0; k < n; k++) out[k] = u[k] + w * (c[k] - u[k]);
      if (o.guidanceRescale > 0) rescale(out, c, batch, dim, o.guidanceRescale);
    } else {
      out = denoiser(input, t, cond);
      items += batch;
    }
    x = scheduler.step(out, t, x, { generator: o.generator }).prevSample;
  });
  return { sample: x, nfe, itemEvaluations: items };
}

/** α, σ of the model input x = α·x0 + σ·ε at the scheduler's σ (flow: 1 − σ, σ; VP otherwise). */
function inputAlphaSigma(s: number, type: PredictionType): [number, number] {
  if (type === 'flow_prediction') return [1 - s, s];
  const a = 1 / Math.sqrt(1 + s * s);
  return [a, s * a];
}

/** The ε a prediction of `type` implies at input x (α, σ of x). */
function toEps(m: Float64Array, x: Float64Array, a: number, s: number, type: PredictionType): Float64Array {
  if (type === 'epsilon') return m;
  const out = new Float64Array(m.length);
  for (let k = 0; k < m.length; k++) {
    const x0 = type === 'sample' ? m[k] : type === 'v_prediction' ? a * x[k] - s * m[k] : x[k] - s * m[k];
    out[k] = (x[k] - a * x0) / s;
  }
  return out;
}

/** The prediction of `type` for noise ε at input x (x0 = (x − σε)/α). */
function fromEps(
  eps: Float64Array,
  x: Float64Array,
  a: number,
  s: number,
  type: PredictionType,
): Float64Array {
  if (type === 'epsilon') return eps;
  const out = new Float64Array(eps.length);
  for (let k = 0; k < eps.length; k++) {
    const x0 = (x[k] - s * eps[k]) / a;
    out[k] = type === 'sample' ? x0 : type === 'v_prediction' ? a * eps[k] - s * x0 : eps[k] - x0;
  }
  return out;
}

/** In place: per item, out ← φ·out·std(cond)/std(out) + (1 − φ)·out (population std over the item's values). */
function rescale(out: Float64Array, c: Float64Array, batch: number, dim: number, phi: number): void {
  const std = (a: Float64Array, off: number) => {
    let m = 0;
    for (let i = 0; i < dim; i++) m += a[off + i];
    m /= dim;
    let v = 0;
    for (let i = 0; i < dim; i++) v += (a[off + i] - m) ** 2;
    return Math.sqrt(v / dim);
  };
  for (let b = 0; b < batch; b++) {
    const off = b * dim;
    const so = std(out, off);
    if (so === 0) continue;
    const f = phi * (std(c, off) / so) + (1 - phi);
    for (let i = 0; i < dim; i++) out[off + i] *= f;
  }
}
