/**
 * @file MagCache, "MagCache: Fast Video Generation with Magnitude-Aware Cache" (Ma et al., arXiv
 * 2506.09045; Zehong-Ma/MagCache; diffusers hooks/mag_cache.py): the magnitude ratio of successive
 * stack residuals, γ_k = mean_rows(‖r_k‖ / ‖r_{k−1}‖), follows a stable, model-specific curve, so
 * it is measured once (`calibrateMagCache`, one full run) and drives an error model at sampling time.
 * After the retention phase (k ≥ ⌊retention_ratio · steps⌋), per step:
 *
 *     ratio ← ratio · γ_k;  skips ← skips + 1;  err ← err + |1 − ratio|
 *     err ≤ threshold and skips ≤ max_skip_steps → skip every block: h ← h + r_cached
 *     otherwise → compute every block (refresh r_cached); ratio ← 1, err ← 0, skips ← 0
 *
 * r = h_L − h_0 (the stack residual); ‖·‖ is the norm over the last axis of `pass.shape` (a DiT
 * token's features), the mean over the other axes. Ratios calibrated for one step count are mapped
 * to another by nearest-neighbour interpolation (diffusers' `nearest_interp`: index round-half-even of
 * k·(n_src − 1)/(n − 1)). With CFG the ratios are kept per branch (MagCache's Wan ratios interleave
 * cond/uncond). Defaults as diffusers: threshold 0.24, max_skip_steps 5, retention_ratio 0.1.
 */
import { z } from 'zod';
import type { BlockDenoiser, DenoiserPass } from '../block-denoiser';
import { type SampleOptions, sample } from '../sample';
import { roundHalfEven } from '../schedules/spacing';
import type { Scheduler } from '../types';
import { parseOptions } from '../util';
import {
  addInto,
  type Branch,
  type CacheContext,
  type CachePolicy,
  cachedDenoiser,
  stackResidual,
} from './cached-denoiser';

const NAME = 'magCache';

const Ratios = z.array(z.number().positive()).min(1);
export const MagCacheOptions = z.strictObject({
  threshold: z.number().nonnegative().default(0.24),
  /** K: at most K consecutive skipped steps. */
  maxSkipSteps: z.number().int().nonnegative().default(5),
  /** Fraction of the steps at the start that are always computed. */
  retentionRatio: z.number().min(0).max(1).default(0.1),
  /** Calibrated γ per step (one list for both branches, or one per branch); see calibrateMagCache. */
  magRatios: z.union([Ratios, z.strictObject({ cond: Ratios, uncond: Ratios })]),
});
export type MagCacheOptions = z.input<typeof MagCacheOptions>;

export interface MagRatios {
  cond: number[];
  uncond: number[];
}

interface State {
  ratios: number[];
  ratio: number;
  err: number;
  skips: number;
  residual?: Float32Array;
}

/** diffusers' nearest_interp: src resampled to n entries by nearest index (half-to-even rounding). */
export function nearestInterp(src: readonly number[], n: number): number[] {
  if (n === 1) return [src[src.length - 1]];
  const scale = (src.length - 1) / (n - 1);
  return Array.from({ length: n }, (_, k) => src[roundHalfEven(k * scale)]);
}

export function magCache(options: MagCacheOptions): CachePolicy<State> {
  const o = parseOptions(NAME, MagCacheOptions, options);
  return {
    name: NAME,
    validate: () => {},
    createState(_model, steps, branch) {
      const src = Array.isArray(o.magRatios) ? o.magRatios : o.magRatios[branch];
      return {
        ratios: src.length === steps ? [...src] : nearestInterp(src, steps),
        ratio: 1,
        err: 0,
        skips: 0,
      };
    },
    forward(pass: DenoiserPass, ctx: CacheContext, s: State) {
      const L = ctx.model.numBlocks;
      let skip = false;
      if (
        !ctx.mustCompute &&
        s.residual !== undefined &&
        ctx.step >= Math.floor(o.retentionRatio * ctx.steps)
      ) {
        s.ratio *= s.ratios[ctx.step];
        s.skips++;
        s.err += Math.abs(1 - s.ratio);
        skip = s.err <= o.threshold && s.skips <= o.maxSkipSteps;
        for (let i = 0; i < L && skip; i++) skip = ctx.mayReuse(i);
      }
      if (skip && s.residual !== undefined) {
        for (let i = 0; i < L; i++) ctx.reuse(i);
        pass.hidden = addInto(pass.hidden, s.residual);
        return;
      }
      s.ratio = 1;
      s.err = 0;
      s.skips = 0;
      s.residual = stackResidual(pass, ctx, NAME);
    },
  };
}

/** γ = mean over rows of ‖a_row‖ / ‖b_row‖, rows along the last axis of `shape`. */
export function magnitudeRatio(a: Float32Array, b: Float32Array, shape: readonly number[]): number {
  const d = shape[shape.length - 1];
  const rows = a.length / d;
  let sum = 0;
  for (let r = 0; r < rows; r++) {
    let na = 0;
    let nb = 0;
    for (let k = r * d; k < (r + 1) * d; k++) {
      na += a[k] * a[k];
      nb += b[k] * b[k];
    }
    sum += nb === 0 ? 1 : Math.sqrt(na / nb);
  }
  return sum / rows;
}

interface CalibrationState {
  ratios: number[];
  previous?: Float32Array;
}

/**
 * A policy that computes every block and records γ_k per branch (1 at the first call of a branch and
 * at calls where the branch was not evaluated); read them with `ratios()` after the run.
 */
export function magCacheCalibration(): CachePolicy<CalibrationState> & { ratios(): MagRatios } {
  const seen: Partial<Record<Branch, CalibrationState>> = {};
  return {
    name: 'magCacheCalibration',
    validate: () => {},
    createState(_model, steps, branch) {
      const st: CalibrationState = { ratios: new Array(steps).fill(1) };
      seen[branch] = st;
      return st;
    },
    forward(pass, ctx, s) {
      const r = stackResidual(pass, ctx, NAME);
      if (s.previous !== undefined) s.ratios[ctx.step] = magnitudeRatio(r, s.previous, pass.shape);
      s.previous = r;
    },
    ratios() {
      const cond = seen.cond?.ratios ?? seen.uncond?.ratios;
      const uncond = seen.uncond?.ratios ?? cond;
      if (cond === undefined || uncond === undefined) throw new Error(`${NAME}: calibration has not run yet`);
      return { cond: [...cond], uncond: [...uncond] };
    },
  };
}

/** One full (uncached) `sample()` run of `model` that records the per-step magnitude ratios. */
export function calibrateMagCache<C>(
  model: BlockDenoiser<C>,
  scheduler: Scheduler,
  options: Omit<SampleOptions, 'cache'>,
): MagRatios {
  const policy = magCacheCalibration();
  const denoiser = cachedDenoiser(model, policy);
  sample(scheduler, denoiser, { ...options, cache: denoiser });
  return policy.ratios();
}
