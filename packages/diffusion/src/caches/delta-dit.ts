/**
 * @file Δ-DiT, "Δ-DiT: A Training-Free Acceleration Method Tailored for Diffusion Transformers"
 * (Chen et al., arXiv 2406.01125). Δ-Cache stores the offset a span of blocks adds to the hidden
 * state rather than its output, Δ = h_out − h_in, and applies it to the current input:
 * h_out ≈ h_in + Δ. Which span is cached depends on the stage: the front blocks shape the outline
 * and the rear blocks the details, so early steps (k < b) skip the REAR `cachedBlocks` blocks and
 * late steps (k ≥ b) skip the FRONT `cachedBlocks` blocks; both Δs are refreshed at every full
 * step, every N steps:
 *
 *     k mod N = 0:  run all blocks; Δ_front = h_{Nc} − h_0, Δ_rear = h_L − h_{L−Nc}
 *     k < b:        run blocks 0..L−Nc−1, then h ← h + Δ_rear
 *     k ≥ b:        h ← h + Δ_front, then run blocks Nc..L−1
 *
 * The paper's switch point b is a step; its defaults are model-specific, so here b = round(steps/2)
 * and Nc = floor(L/2) unless given.
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

const NAME = 'deltaDiT';

export const DeltaDiTOptions = z.strictObject({
  /** N: full computation every N steps. */
  cacheInterval: z.number().int().positive().default(2),
  /** b: steps k < b cache the rear blocks, k ≥ b the front blocks (default round(steps / 2)). */
  gateStep: z.number().int().nonnegative().optional(),
  /** Nc: blocks in the cached span (default floor(numBlocks / 2)). */
  cachedBlocks: z.number().int().positive().optional(),
});
export type DeltaDiTOptions = z.input<typeof DeltaDiTOptions>;

interface State {
  gate: number;
  front?: Float32Array;
  rear?: Float32Array;
}

export function deltaDiT(options: DeltaDiTOptions = {}): CachePolicy<State> {
  const o = parseOptions(NAME, DeltaDiTOptions, options);
  const span = (L: number) => o.cachedBlocks ?? Math.floor(L / 2);
  return {
    name: NAME,
    validate(model: BlockDenoiser<unknown>) {
      requireArchitecture(NAME, model, 'dit');
      const Nc = span(model.numBlocks);
      if (Nc < 1 || Nc > model.numBlocks)
        throw new Error(`${NAME}: option 'cachedBlocks' (${Nc}) must be in [1, ${model.numBlocks}]`);
    },
    createState: (_model, steps) => ({ gate: o.gateStep ?? Math.round(steps / 2) }),
    forward(pass: DenoiserPass, ctx: CacheContext, s: State) {
      const L = ctx.model.numBlocks;
      const Nc = span(L);
      const early = ctx.step < s.gate;
      const [from, to] = early ? [L - Nc, L] : [0, Nc];
      const delta = early ? s.rear : s.front;
      let reuse = ctx.step % o.cacheInterval !== 0 && delta !== undefined;
      for (let i = from; i < to && reuse; i++) reuse = ctx.mayReuse(i);
      if (reuse && delta !== undefined) {
        for (let i = 0; i < L; i++) {
          if (i === from) {
            for (let j = from; j < to; j++) ctx.reuse(j);
            pass.hidden = addInto(pass.hidden, delta);
            i = to - 1;
          } else ctx.compute(pass, i);
        }
        return;
      }
      const frontIn = pass.hidden.slice();
      let rearIn = frontIn;
      for (let i = 0; i < L; i++) {
        if (i === L - Nc) rearIn = pass.hidden.slice();
        ctx.compute(pass, i);
        if (i === Nc - 1) s.front = difference(pass.hidden, frontIn);
      }
      s.rear = difference(pass.hidden, rearIn);
    },
  };
}
