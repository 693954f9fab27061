/**
 * @file First Block Cache (ParaAttention, chengzeyi/ParaAttention; diffusers
 * hooks/first_block_cache.py, docs optimization/cache.md): the first block always runs; its residual
 * r₀ = block₀(h) − h is compared with r₀ of the last step that ran the whole stack,
 *
 *     diff = mean|r₀ − r₀_prev| / mean|r₀_prev|
 *
 * and if diff ≤ threshold the remaining blocks are skipped and their cached tail residual is added:
 * h ← block₀(h) + (h_L − h_1)_cached. Otherwise blocks 1..L−1 run and r₀_prev and the tail residual
 * are refreshed (as diffusers, only on computed steps). Default threshold 0.05 (diffusers;
 * ParaAttention's `residual_diff_threshold` example is 0.08).
 */
import { z } from 'zod';
import type { BlockDenoiser, DenoiserPass } from '../block-denoiser';
import { parseOptions } from '../util';
import {
  addInto,
  type CacheContext,
  type CachePolicy,
  difference,
  relativeL1,
  requireArchitecture,
} from './cached-denoiser';

const NAME = 'firstBlockCache';

export const FirstBlockCacheOptions = z.strictObject({
  /** Skip blocks 1..L−1 while the relative L1 change of block 0's residual is ≤ threshold. */
  threshold: z.number().nonnegative().default(0.05),
});
export type FirstBlockCacheOptions = z.input<typeof FirstBlockCacheOptions>;

interface State {
  headResidual?: Float32Array;
  tailResidual?: Float32Array;
  /** diff of each pass (NaN where there was nothing to compare with), for inspection. */
  diffs: number[];
}

export function firstBlockCache(options: FirstBlockCacheOptions = {}): CachePolicy<State> {
  const o = parseOptions(NAME, FirstBlockCacheOptions, options);
  return {
    name: NAME,
    validate(model: BlockDenoiser<unknown>) {
      requireArchitecture(NAME, model, 'dit');
      if (model.numBlocks < 2)
        throw new Error(`${NAME}: needs at least 2 blocks, the model has ${model.numBlocks}`);
    },
    createState: () => ({ diffs: [] }),
    forward(pass: DenoiserPass, ctx: CacheContext, s: State) {
      const L = ctx.model.numBlocks;
      const input = pass.hidden.slice();
      ctx.compute(pass, 0);
      const r0 = difference(pass.hidden, input);
      const diff = s.headResidual === undefined ? Number.NaN : relativeL1(r0, s.headResidual);
      s.diffs.push(diff);
      let reuse = s.tailResidual !== undefined && diff <= o.threshold;
      for (let i = 1; i < L && reuse; i++) reuse = ctx.mayReuse(i);
      if (reuse && s.tailResidual !== undefined) {
        for (let i = 1; i < L; i++) ctx.reuse(i);
        pass.hidden = addInto(pass.hidden, s.tailResidual);
        return;
      }
      const head = pass.hidden.slice();
      for (let i = 1; i < L; i++) ctx.compute(pass, i);
      s.headResidual = r0;
      s.tailResidual = difference(pass.hidden, head);
    },
  };
}
