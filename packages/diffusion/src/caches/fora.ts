/**
 * @file FORA, "Fast-Forward Caching in Diffusion Transformer Acceleration" (Selvaraju et al., arXiv
 * 2407.01425): every layer's attention and MLP outputs are computed at steps k with k mod N = 0 and
 * reused for the N − 1 steps after. Here the granularity is a block: a DiT block adds its attention
 * and MLP branches to the hidden state, so reusing both outputs is reusing the block residual
 *
 *     compute (k mod N = 0):  r_i ← block_i(h) − h,   h ← block_i(h)
 *     reuse   (otherwise):    h ← h + r_i
 *
 * `cacheInterval` is FORA's N (the paper's runs use N = 3 on DiT and PixArt-α).
 */
import { z } from 'zod';
import type { BlockDenoiser, DenoiserPass } from '../block-denoiser';
import { parseOptions } from '../util';
import {
  addInto,
  type CacheContext,
  type CachePolicy,
  difference,
  requireArchitecture,
} from './cached-denoiser';

const NAME = 'fora';

export const ForaOptions = z.strictObject({
  /** N: full computation every N steps, the block residuals reused in between. */
  cacheInterval: z.number().int().positive().default(3),
});
export type ForaOptions = z.input<typeof ForaOptions>;

interface State {
  residuals: (Float32Array | undefined)[];
}

export function fora(options: ForaOptions = {}): CachePolicy<State> {
  const o = parseOptions(NAME, ForaOptions, options);
  return {
    name: NAME,
    validate: (model: BlockDenoiser<unknown>) => requireArchitecture(NAME, model, 'dit'),
    createState: (model) => ({ residuals: new Array(model.numBlocks).fill(undefined) }),
    forward(pass: DenoiserPass, ctx: CacheContext, s: State) {
      const fresh = ctx.step % o.cacheInterval === 0;
      for (let i = 0; i < ctx.model.numBlocks; i++) {
        const r = s.residuals[i];
        if (!fresh && r !== undefined && ctx.mayReuse(i)) {
          ctx.reuse(i);
          pass.hidden = addInto(pass.hidden, r);
        } else {
          const input = pass.hidden.slice();
          ctx.compute(pass, i);
          s.residuals[i] = difference(pass.hidden, input);
        }
      }
    },
  };
}
