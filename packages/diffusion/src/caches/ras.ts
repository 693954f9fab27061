/**
 * @file RAS, "Region-Adaptive Sampling for Diffusion Transformers" (Liu et al., arXiv 2502.10389;
 * microsoft/RAS): the regions a DiT focuses on stay in focus over consecutive steps, so each step
 * updates only the focused tokens, chosen from the previous step's output, and the others reuse
 * their cached values. Per RAS step k (schedulerStartStep ≤ k < schedulerEndStep, k not an error
 * reset step):
 *
 *     score[tok] = ‖o_{k−1}[tok] − o_{k−2}[tok]‖ · (1 + starvationScale · stale[tok])
 *     focus = the ⌈sampleRatio · T⌉ highest scores (one row set per pass, scores summed over items)
 *     every block: the focus rows are computed (K, V from all rows), the others get h + r_cached
 *
 * where o is the final hidden state (the features the head turns into each token's output patch)
 * and stale counts the steps since a token was last computed. Other steps compute everything. RAS's
 * own metric is the per-patch standard deviation of the predicted noise; the contract does not map
 * output values to tokens, so the change of the token's final features stands in for it, and the
 * dropped tokens reuse their cached block residuals (the current input still flows through them)
 * rather than last step's noise. Defaults as microsoft/RAS's scripts: sample_ratio 0.5,
 * scheduler_start_step 4, starvation_scale 1, error_reset_steps [12, 20]; scheduler_end_step = steps.
 */
import { z } from 'zod';
import type { BlockDenoiser, DenoiserPass } from '../block-denoiser';
import { parseOptions } from '../util';
import {
  type CacheContext,
  type CachePolicy,
  ditDims,
  fullBlock,
  partialBlock,
  requireArchitecture,
  topTokens,
} from './cached-denoiser';

const NAME = 'ras';

export const RasOptions = z.strictObject({
  /** Fraction of the tokens updated on a RAS step. */
  sampleRatio: z.number().min(0).max(1).default(0.5),
  /** Steps before this one compute everything. */
  schedulerStartStep: z.number().int().nonnegative().default(4),
  /** Steps from this one on compute everything (default: none). */
  schedulerEndStep: z.number().int().nonnegative().optional(),
  /** Boost of tokens not updated for a while. */
  starvationScale: z.number().nonnegative().default(1),
  /** Steps that compute everything to reset the accumulated error. */
  errorResetSteps: z.array(z.number().int().nonnegative()).default([12, 20]),
});
export type RasOptions = z.input<typeof RasOptions>;

interface State {
  blocks: (ReturnType<typeof fullBlock> | undefined)[];
  outputs: Float32Array[];
  stale?: Int32Array;
}

export function ras(options: RasOptions = {}): CachePolicy<State> {
  const o = parseOptions(NAME, RasOptions, options);
  return {
    name: NAME,
    validate: (model: BlockDenoiser<unknown>) => requireArchitecture(NAME, model, 'dit'),
    createState: (model) => ({ blocks: new Array(model.numBlocks).fill(undefined), outputs: [] }),
    forward(pass: DenoiserPass, ctx: CacheContext, s: State) {
      const L = ctx.model.numBlocks;
      const [B, T, W] = ditDims(pass, NAME);
      const k = ctx.step;
      let rasStep =
        k >= o.schedulerStartStep &&
        k < (o.schedulerEndStep ?? ctx.steps) &&
        !o.errorResetSteps.includes(k) &&
        s.outputs.length === 2 &&
        s.stale !== undefined &&
        s.blocks.every((b) => b !== undefined);
      for (let i = 0; i < L && rasStep; i++) rasStep = ctx.mayReuse(i);
      const stale = s.stale ?? new Int32Array(T);
      if (rasStep) {
        const [older, last] = s.outputs;
        const score = new Float64Array(T);
        for (let tok = 0; tok < T; tok++) {
          for (let b = 0; b < B; b++) {
            let d = 0;
            for (let w = (b * T + tok) * W, e = w + W; w < e; w++) d += (last[w] - older[w]) ** 2;
            score[tok] += Math.sqrt(d);
          }
          score[tok] *= 1 + o.starvationScale * stale[tok];
        }
        const focus = topTokens(score, Math.ceil(o.sampleRatio * T));
        for (let i = 0; i < L; i++)
          partialBlock(pass, ctx, i, focus, s.blocks[i] as NonNullable<State['blocks'][number]>);
        const chosen = new Uint8Array(T);
        for (const tok of focus) chosen[tok] = 1;
        for (let tok = 0; tok < T; tok++) stale[tok] = chosen[tok] ? 0 : stale[tok] + 1;
      } else {
        for (let i = 0; i < L; i++) s.blocks[i] = fullBlock(pass, ctx, i, T);
        stale.fill(0);
      }
      s.stale = stale;
      s.outputs = [...s.outputs, pass.hidden.slice()].slice(-2);
    },
  };
}
