/**
 * @file TeaCache, "Timestep Embedding Tells: It's Time to Cache for Video Diffusion Model" (Liu et
 * al., arXiv 2411.19108; ali-vilab/TeaCache; diffusers PR #12652): the timestep-modulated input of
 * the first block is a cheap proxy of how much the model output will change. Per step k:
 *
 *     k first or last (or another guard): compute; acc ← 0
 *     otherwise: acc ← acc + poly(mean|m_k − m_{k−1}| / mean|m_{k−1}|)
 *                acc < rel_l1_thresh → skip every block: h ← h + (h_L − h_0)_cached
 *                else                → compute every block, refresh the cached residual; acc ← 0
 *
 * with m_k = `pass.modulatedInput()` (refreshed every step, skipped or not) and poly the model's
 * rescaling polynomial (numpy.poly1d order: highest power first). The published coefficients are
 * fitted per model (FLUX, Mochi, …); the default here is the identity polynomial [0, 0, 0, 1, 0] for
 * models without fitted ones. Default rel_l1_thresh 0.2 (diffusers' default; 0.25 ≈ 1.5×,
 * 0.4 ≈ 1.8×, 0.6 ≈ 2.0× on FLUX per the TeaCache README).
 */
import { z } from 'zod';
import type { DenoiserPass } from '../block-denoiser';
import { parseOptions } from '../util';
import { addInto, type CacheContext, type CachePolicy, relativeL1, stackResidual } from './cached-denoiser';

const NAME = 'teaCache';

export const TeaCacheOptions = z.strictObject({
  /** δ: recompute once the accumulated rescaled relative L1 reaches it. */
  relL1Thresh: z.number().nonnegative().default(0.2),
  /** Rescaling polynomial, highest power first (numpy.poly1d). */
  coefficients: z.array(z.number()).min(1).default([0, 0, 0, 1, 0]),
});
export type TeaCacheOptions = z.input<typeof TeaCacheOptions>;

interface State {
  acc: number;
  previous?: Float32Array;
  residual?: Float32Array;
  /** Accumulated value after each pass (0 after a recompute), for inspection. */
  accumulated: number[];
}

/** numpy.poly1d(c)(x) by Horner's rule. */
export function polyval(c: readonly number[], x: number): number {
  let y = 0;
  for (const a of c) y = y * x + a;
  return y;
}

export function teaCache(options: TeaCacheOptions = {}): CachePolicy<State> {
  const o = parseOptions(NAME, TeaCacheOptions, options);
  return {
    name: NAME,
    validate: () => {},
    createState: () => ({ acc: 0, accumulated: [] }),
    forward(pass: DenoiserPass, ctx: CacheContext, s: State) {
      const L = ctx.model.numBlocks;
      const m = pass.modulatedInput();
      let compute = true;
      if (!ctx.mustCompute && s.previous !== undefined && s.residual !== undefined) {
        s.acc += polyval(o.coefficients, relativeL1(m, s.previous));
        compute = s.acc >= o.relL1Thresh;
        for (let i = 0; i < L && !compute; i++) compute = !ctx.mayReuse(i);
      }
      s.previous = m;
      if (!compute && s.residual !== undefined) {
        for (let i = 0; i < L; i++) ctx.reuse(i);
        pass.hidden = addInto(pass.hidden, s.residual);
      } else {
        s.acc = 0;
        s.residual = stackResidual(pass, ctx, NAME);
      }
      s.accumulated.push(s.acc);
    },
  };
}
