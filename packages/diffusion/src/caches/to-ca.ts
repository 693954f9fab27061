/**
 * @file ToCa, "Accelerating Diffusion Transformers with Token-wise Feature Caching" (Zou et al., ICLR
 * 2025, arXiv 2410.05317; Shenyi-Z/ToCa): caching decided per token and per block. Every
 * `freshThreshold` (N) steps is a fresh step that computes every token of every block; on the other
 * steps each block computes only the top ⌈R·T⌉ tokens (R = `freshRatio`, the fraction recomputed)
 * by a cache score, and every other token reuses its cached residual:
 *
 *     out[tok] = block(h)[tok]          for the selected tokens (K, V from all rows)
 *     out[tok] = h[tok] + r_cached[tok] otherwise;   r_cached[tok] refreshed when tok is computed
 *
 * ToCa's score is a weighted sum of four scores (self-attention influence, cross-attention entropy,
 * cache frequency, spatial uniformity). The block contract exposes no attention maps, so here
 *
 *     score[tok] = ‖h[tok] − h_cached[tok]‖ / ‖h_cached[tok]‖ + softFreshWeight · (steps since tok was computed)
 *
 * (the relative change of the token's block input replaces the attention scores; the staleness term
 * is ToCa's cache-frequency score with its `soft-fresh-weight`), summed over the items of the pass: the
 * contract's `tokens` are one row set per pass. Defaults as ToCa's DiT command line: fresh threshold
 * 4, fresh ratio 0.07, soft fresh weight 0.25.
 */
import { z } from 'zod';
import type { BlockDenoiser, DenoiserPass } from '../block-denoiser';
import { parseOptions } from '../util';
import {
  type BlockCache,
  type CacheContext,
  type CachePolicy,
  ditDims,
  fullBlock,
  partialBlock,
  requireArchitecture,
  topTokens,
} from './cached-denoiser';

const NAME = 'toCa';

export const ToCaOptions = z.strictObject({
  /** N: every N-th step computes every token of every block. */
  freshThreshold: z.number().int().positive().default(4),
  /** R: fraction of the tokens recomputed per block on the other steps. */
  freshRatio: z.number().min(0).max(1).default(0.07),
  /** Weight of the staleness (cache frequency) score. */
  softFreshWeight: z.number().nonnegative().default(0.25),
});
export type ToCaOptions = z.input<typeof ToCaOptions>;

interface State {
  blocks: (BlockCache | undefined)[];
}

export function toCa(options: ToCaOptions = {}): CachePolicy<State> {
  const o = parseOptions(NAME, ToCaOptions, options);
  return {
    name: NAME,
    validate: (model: BlockDenoiser<unknown>) => requireArchitecture(NAME, model, 'dit'),
    createState: (model) => ({ blocks: new Array(model.numBlocks).fill(undefined) }),
    forward(pass: DenoiserPass, ctx: CacheContext, s: State) {
      const fresh = ctx.step % o.freshThreshold === 0;
      for (let i = 0; i < ctx.model.numBlocks; i++) {
        const [B, T, W] = ditDims(pass, NAME);
        const c = s.blocks[i];
        if (fresh || c === undefined || !ctx.mayReuse(i)) {
          s.blocks[i] = fullBlock(pass, ctx, i, T);
          continue;
        }
        const score = new Float64Array(T);
        for (let tok = 0; tok < T; tok++) {
          for (let b = 0; b < B; b++) {
            let num = 0;
            let den = 0;
            for (let w = (b * T + tok) * W, e = w + W; w < e; w++) {
              num += (pass.hidden[w] - c.input[w]) ** 2;
              den += c.input[w] ** 2;
            }
            score[tok] += den === 0 ? 0 : Math.sqrt(num / den);
          }
          score[tok] += o.softFreshWeight * c.stale[tok] * B;
        }
        partialBlock(pass, ctx, i, topTokens(score, Math.ceil(o.freshRatio * T)), c);
      }
    },
  };
}
