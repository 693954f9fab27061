/**
 * @file TaylorSeer, "From Reusing to Forecasting: Accelerating Diffusion Models with TaylorSeers"
 * (Liu et al., arXiv 2503.06923; Shenyi-Z/TaylorSeer; diffusers TaylorSeerCache, PR #12648): features
 * are computed fully every N steps and FORECAST in between by a Taylor expansion whose derivatives are
 * finite differences of the last full computations. Per block i, with F the block's residual
 * (h_out − h_in, the sum of its attention and MLP outputs) and d the step distance:
 *
 *     full step k:  Δ⁰ ← F(k);  Δʲ⁺¹ ← (Δʲ(k) − Δʲ(k_prev)) / (k − k_prev)   for j < max_order
 *                   (as far as the previous full step had Δʲ)
 *     other step k: F̂(k) = Σ_{j ≤ order} Δʲ · (k − k_last)ʲ / j!,   h ← h + F̂(k)
 *
 * Full steps: k < disable_cache_before_step, or (k − disable_cache_before_step) mod N = 0. Defaults as
 * diffusers' FLUX example: cache_interval 5, max_order 1, disable_cache_before_step 10.
 */
import { z } from 'zod';
import type { BlockDenoiser, DenoiserPass } from '../block-denoiser';
import { parseOptions } from '../util';
import { type CacheContext, type CachePolicy, difference, requireArchitecture } from './cached-denoiser';

const NAME = 'taylorSeer';

export const TaylorSeerOptions = z.strictObject({
  /** N: full computation every N steps after the warm-up. */
  cacheInterval: z.number().int().positive().default(5),
  /** Highest derivative order of the forecast (0: plain reuse). */
  maxOrder: z.number().int().nonnegative().default(1),
  /** Steps 0..this−1 are all computed (warm-up). */
  disableCacheBeforeStep: z.number().int().nonnegative().default(10),
});
export type TaylorSeerOptions = z.input<typeof TaylorSeerOptions>;

interface BlockFactors {
  step: number;
  /** Δ⁰ … Δᵐ (as many as the history allowed), f64. */
  factors: Float64Array[];
}

interface State {
  blocks: (BlockFactors | undefined)[];
}

/** Σ_j Δʲ dʲ / j! (the forecast at distance d from the last full step). */
export function taylorForecast(factors: readonly Float64Array[], d: number): Float32Array {
  const out = new Float32Array(factors[0].length);
  for (let k = 0; k < out.length; k++) {
    let s = 0;
    let c = 1;
    for (let j = 0; j < factors.length; j++) {
      s += factors[j][k] * c;
      c *= d / (j + 1);
    }
    out[k] = s;
  }
  return out;
}

/** New Δ list from the feature at `step` and the previous list (finite differences over the step gap). */
export function updateFactors(
  previous: BlockFactors | undefined,
  feature: Float32Array,
  step: number,
  maxOrder: number,
): BlockFactors {
  const factors = [Float64Array.from(feature)];
  if (previous !== undefined && step > previous.step) {
    const d = step - previous.step;
    for (let j = 0; j < maxOrder && j < previous.factors.length; j++) {
      const next = new Float64Array(feature.length);
      for (let k = 0; k < next.length; k++) next[k] = (factors[j][k] - previous.factors[j][k]) / d;
      factors.push(next);
    }
  }
  return { step, factors };
}

export function taylorSeer(options: TaylorSeerOptions = {}): CachePolicy<State> {
  const o = parseOptions(NAME, TaylorSeerOptions, options);
  return {
    name: NAME,
    validate: (model: BlockDenoiser<unknown>) => requireArchitecture(NAME, model, 'dit'),
    createState: (model) => ({ blocks: new Array(model.numBlocks).fill(undefined) }),
    forward(pass: DenoiserPass, ctx: CacheContext, s: State) {
      const k = ctx.step;
      const full = k < o.disableCacheBeforeStep || (k - o.disableCacheBeforeStep) % o.cacheInterval === 0;
      for (let i = 0; i < ctx.model.numBlocks; i++) {
        const b = s.blocks[i];
        if (!full && b !== undefined && ctx.mayReuse(i)) {
          ctx.reuse(i);
          const f = taylorForecast(b.factors, k - b.step);
          const h = new Float32Array(pass.hidden.length);
          for (let j = 0; j < h.length; j++) h[j] = pass.hidden[j] + f[j];
          pass.hidden = h;
        } else {
          const input = pass.hidden.slice();
          ctx.compute(pass, i);
          s.blocks[i] = updateFactors(b, difference(pass.hidden, input), k, o.maxOrder);
        }
      }
    },
  };
}
