/**
 * @file A static per-step × per-block compute/reuse table, the form in which offline searches hand
 * over a cache schedule (ECAD, "Evolutionary Caching to Accelerate Your Off-the-Shelf Diffusion
 * Model", Aggarwal et al., ICLR 2026, aniaggarwal.github.io/ecad: a binary S ∈ {0,1}^{steps×blocks}; ERTACache, arXiv
 * 2508.21091, likewise produces a static reuse schedule). `schedule[k][i] = 1`: block i is computed
 * at call k; `0`: it is reused:
 *
 *     DiT  (residual reuse, as FORA):  h ← h + r_i, r_i = the block's residual when last computed
 *     UNet (skip-branch reuse, as DeepCache): each maximal run [s, e) of reused blocks must be a
 *          balanced span; its output is the output of block e − 1 when that block was last computed
 *
 * A block with nothing cached yet, or one a guard forbids to reuse, is computed. The table is plain
 * JSON (arrays of 0/1), one row per denoiser call of the generation.
 */
import { z } from 'zod';
import type { BlockDenoiser, DenoiserPass } from '../block-denoiser';
import { parseOptions } from '../util';
import { addInto, type CacheContext, type CachePolicy, difference } from './cached-denoiser';

const NAME = 'staticSchedule';

export const StaticScheduleOptions = z.strictObject({
  /** One row per denoiser call, one 0/1 entry per block (1: compute, 0: reuse). */
  schedule: z.array(z.array(z.union([z.literal(0), z.literal(1)])).min(1)).min(1),
});
export type StaticScheduleOptions = z.input<typeof StaticScheduleOptions>;

interface State {
  /** DiT: residual of each block; UNet: output (and shape) of each block when last computed. */
  residuals: (Float32Array | undefined)[];
  outputs: ({ hidden: Float32Array; shape: readonly number[] } | undefined)[];
}

export function staticSchedule(options: StaticScheduleOptions): CachePolicy<State> {
  const o = parseOptions(NAME, StaticScheduleOptions, options);
  const { schedule } = o;
  return {
    name: NAME,
    validate(model: BlockDenoiser<unknown>) {
      schedule.forEach((row, k) => {
        if (row.length !== model.numBlocks)
          throw new Error(
            `${NAME}: option 'schedule' row ${k} has ${row.length} entries, the model has ${model.numBlocks} blocks`,
          );
        if (model.architecture === 'unet')
          for (const [s, e] of reuseRuns(row))
            if (!model.balancedSpan(s, e))
              throw new Error(
                `${NAME}: option 'schedule' row ${k} reuses blocks [${s}, ${e}), which is not a balanced span of this UNet (its skip pushes and pops must pair up inside)`,
              );
      });
    },
    createState(model, steps) {
      if (schedule.length !== steps)
        throw new Error(
          `${NAME}: option 'schedule' has ${schedule.length} rows, the generation has ${steps} denoiser calls`,
        );
      return {
        residuals: new Array(model.numBlocks).fill(undefined),
        outputs: new Array(model.numBlocks).fill(undefined),
      };
    },
    forward(pass: DenoiserPass, ctx: CacheContext, s: State) {
      const row = schedule[ctx.step];
      const L = ctx.model.numBlocks;
      if (ctx.model.architecture === 'dit') {
        for (let i = 0; i < L; i++) {
          const r = s.residuals[i];
          if (row[i] === 0 && r !== undefined && ctx.mayReuse(i)) {
            ctx.reuse(i);
            pass.hidden = addInto(pass.hidden, r);
          } else {
            const input = pass.hidden.slice();
            ctx.compute(pass, i);
            s.residuals[i] = difference(pass.hidden, input);
          }
        }
        return;
      }
      let i = 0;
      while (i < L) {
        let e = i;
        while (e < L && row[e] === 0) e++;
        const cached = e > i ? s.outputs[e - 1] : undefined;
        let reusable = cached !== undefined;
        for (let j = i; j < e && reusable; j++) reusable = ctx.mayReuse(j);
        if (e > i && reusable && cached !== undefined) {
          for (let j = i; j < e; j++) ctx.reuse(j);
          pass.hidden = cached.hidden.slice();
          pass.shape = cached.shape;
          i = e;
          continue;
        }
        const stop = Math.max(e, i + 1);
        for (; i < stop; i++) {
          ctx.compute(pass, i);
          s.outputs[i] = { hidden: pass.hidden.slice(), shape: [...pass.shape] };
        }
      }
    },
  };
}

/** Maximal runs [s, e) of zeros in a schedule row. */
function reuseRuns(row: readonly number[]): [number, number][] {
  const runs: [number, number][] = [];
  for (let i = 0; i < row.length; i++) {
    if (row[i] !== 0) continue;
    let e = i;
    while (e < row.length && row[e] === 0) e++;
    runs.push([i, e]);
    i = e;
  }
  return runs;
}
