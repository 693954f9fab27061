/**
 * @file DeepCache, "DeepCache: Accelerating Diffusion Models for Free" (Ma, Fang & Wang, CVPR 2024,
 * arXiv 2312.00858; horseee/DeepCache; diffusers docs optimization/deepcache.md): a UNet's high-level
 * features change slowly between steps, so they are computed once every N steps and reused in
 * between, while the shallow branch `cacheBranchId` (B) is recomputed every step. With L blocks in
 * order down…, mid, …up, the skipped part is the balanced span [B + 1, L − 1 − B):
 *
 *     step k, k mod N = 0 (uniform 1:N schedule): run every block; cache F = the span's output
 *     otherwise: run blocks 0..B, replace the span by F, run blocks L − 1 − B..L − 1
 *
 * Defaults as the diffusers docs: cacheInterval = 3, cacheBranchId = 0. The non-uniform schedule
 * (DeepCache's `pow`/`center` options) is not implemented.
 */
import { z } from 'zod';
import type { BlockDenoiser, DenoiserPass } from '../block-denoiser';
import { parseOptions } from '../util';
import { type CacheContext, type CachePolicy, requireArchitecture } from './cached-denoiser';

const NAME = 'deepCache';

export const DeepCacheOptions = z.strictObject({
  /** N: full UNet every N steps. */
  cacheInterval: z.number().int().positive().default(3),
  /** B: blocks 0..B and L−1−B..L−1 (the shallow skip branch) are recomputed every step. */
  cacheBranchId: z.number().int().nonnegative().default(0),
});
export type DeepCacheOptions = z.input<typeof DeepCacheOptions>;

interface State {
  feature?: { hidden: Float32Array; shape: readonly number[] };
}

export function deepCache(options: DeepCacheOptions = {}): CachePolicy<State> {
  const o = parseOptions(NAME, DeepCacheOptions, options);
  const B = o.cacheBranchId;
  return {
    name: NAME,
    validate(model: BlockDenoiser<unknown>) {
      requireArchitecture(NAME, model, 'unet');
      const L = model.numBlocks;
      if (!(B + 1 < L - 1 - B))
        throw new Error(
          `${NAME}: option 'cacheBranchId' ${B} leaves no deep blocks to cache in a UNet of ${L} blocks (need cacheBranchId < ${Math.floor((L - 2) / 2)})`,
        );
      if (!model.balancedSpan(B + 1, L - 1 - B))
        throw new Error(
          `${NAME}: blocks [${B + 1}, ${L - 1 - B}) are not a balanced span of this UNet; cacheBranchId ${B} cannot be cached`,
        );
    },
    createState: () => ({}),
    forward(pass: DenoiserPass, ctx: CacheContext, s: State) {
      const L = ctx.model.numBlocks;
      const start = B + 1;
      const end = L - 1 - B;
      let reuse = ctx.step % o.cacheInterval !== 0 && s.feature !== undefined;
      for (let i = start; i < end && reuse; i++) reuse = ctx.mayReuse(i);
      for (let i = 0; i < start; i++) ctx.compute(pass, i);
      if (reuse && s.feature !== undefined) {
        for (let i = start; i < end; i++) ctx.reuse(i);
        pass.hidden = s.feature.hidden.slice();
        pass.shape = s.feature.shape;
      } else {
        for (let i = start; i < end; i++) ctx.compute(pass, i);
        s.feature = { hidden: pass.hidden.slice(), shape: [...pass.shape] };
      }
      for (let i = end; i < L; i++) ctx.compute(pass, i);
    },
  };
}
