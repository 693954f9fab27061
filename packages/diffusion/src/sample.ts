/**
 * @file The sampling loop: a scheduler, a denoiser and a step count, with optional classifier-free
 * guidance (Ho & Salimans, arXiv 2207.12598): ε̂ = ε̂_u + w·(ε̂_c − ε̂_u) on the model output of
 * any prediction type, computed with the conditional and unconditional branches batched into one
 * denoiser call; guidance rescale (Lin et al., arXiv 2305.08891 §3.4): per item,
 * ε̂ ← φ·ε̂·std(ε̂_c)/std(ε̂) + (1 − φ)·ε̂; guidance interval (Kynkäänniemi et al., arXiv 2404.07724):
 * guidance only while the scheduler's σ lies in (lo, hi], elsewhere the conditional branch alone
 * (and no unconditional evaluation).
 */
import type { Philox } from '@hasten/core-tensor';
import { z } from 'zod';
import type { SamplingCache } from './caches/cached-denoiser';
import type { Denoiser, Sample, SampleLike, Scheduler } from './types';
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
  scheduler.timesteps.forEach((t, i) => {
    o.cache?.beginStep(i);
    const input = scheduler.scaleModelInput(x, t);
    const sigma = scheduler.sigmas[i];
    const inInterval =
      o.guidanceInterval === undefined || (sigma > o.guidanceInterval[0] && sigma <= o.guidanceInterval[1]);
    let out: Sample;
    nfe++;
    if (guided && inInterval) {
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
