/**
 * @file Search over paths (Ma et al., "Inference-Time Scaling for Diffusion Models beyond Scaling
 * Denoising Steps", arXiv 2501.09732, §"Search over Paths"; the loop as the anchors recall it from the
 * paper, not re-verified against code): start N chains and denoise each `startSteps` steps; then,
 * until the chains are done, branch every chain M times by re-noising it `forward` steps up the noise
 * schedule (the forward process, no NFE) and denoising `backward` > `forward` steps (each step one
 * proposer call), score every branch (a reward on its x̂0), and keep the top N branches. Returns the
 * best final chain. Needs a proposer with `renoise(state, steps, ctx)`. Budget: NFE (proposer cost;
 * the search stops before an iteration it cannot pay for, keeping the best chain so far).
 */
import { z } from 'zod';
import { scorerOption } from '../common-options';
import { ScalingError } from '../errors';
import { rootCandidate } from '../lineage';
import { parseOptions, runOptionsShape, withMethods } from '../options';
import type { ProposeContext, Proposer, Scorer } from '../proposer';
import { rollout } from '../rollout';
import { defineStrategy, type Strategy } from '../strategy';
import type { Candidate } from '../trace';

/** A diffusion proposer that can also move a state back up the noise schedule. */
export interface PathProposer<S> extends Proposer<S> {
  /** x_{t+steps} ~ q(· | x_t): add noise for `steps` schedule steps (no model call). */
  renoise(state: S, steps: number, ctx: ProposeContext): S | Promise<S>;
}

const SearchOverPathsOptions = z.strictObject({
  proposer: withMethods<PathProposer<unknown>>('a path proposer', ['initial', 'propose', 'done', 'renoise']),
  scorer: scorerOption,
  budget: z.number().int().positive(),
  /** N, chains kept. */
  chains: z.number().int().positive().default(4),
  /** M, branches per chain per iteration. */
  branches: z.number().int().positive().default(2),
  startSteps: z.number().int().min(0).default(1),
  forward: z.number().int().positive().default(1),
  backward: z.number().int().positive().default(2),
  ...runOptionsShape,
});
export type SearchOverPathsOptions<S> = Omit<
  z.input<typeof SearchOverPathsOptions>,
  'proposer' | 'scorer'
> & {
  proposer: PathProposer<S>;
  scorer: Scorer<S>;
};

export function searchOverPaths<S>(options: SearchOverPathsOptions<S>): Strategy<S> {
  const o = parseOptions(SearchOverPathsOptions, options, 'searchOverPaths');
  if (o.backward <= o.forward) {
    throw new ScalingError(
      'options',
      `searchOverPaths: option 'backward' (${o.backward}) must exceed 'forward' (${o.forward}) so chains make progress`,
    );
  }
  const proposer = o.proposer as PathProposer<S>;
  const scorer = o.scorer as Scorer<S>;
  return defineStrategy<S>({
    name: 'search-over-paths',
    unit: 'nfe',
    budget: o.budget,
    defaults: o,
    async *body(ctx) {
      const root = await rootCandidate(ctx, proposer);
      const start = await Promise.all(
        Array.from({ length: o.chains }, () => ctx.rng()).map((stream) =>
          rollout(ctx, proposer, stream, o.startSteps, root.state),
        ),
      );
      let chains: Candidate<S>[] = [];
      for (const r of start) {
        ctx.spend(r.cost);
        const done = proposer.done(r.state);
        chains.push(
          ctx.add({
            parent: root.id,
            step: r.steps,
            state: r.state,
            status: done ? 'complete' : 'active',
            score: await ctx.score(scorer, r.state),
          }),
        );
      }
      for (let it = 1; chains.some((c) => c.status === 'active'); it++) {
        const open = chains.filter((c) => c.status === 'active');
        // Cost of the next iteration if every denoising step costs what the proposer says: checked after
        // the fact by spend; up front we assume 1 NFE per step (the default cost).
        if (ctx.remaining < open.length * o.branches * o.backward) {
          ctx.decide(it, 'stop', { reason: 'budget', remaining: ctx.remaining });
          break;
        }
        const jobs = open.flatMap((c) =>
          Array.from({ length: o.branches }, () => ({ parent: c, stream: ctx.rng() })),
        );
        const branches = await Promise.all(
          jobs.map(async ({ parent, stream }) => {
            const noisy = await ctx.call(() =>
              proposer.renoise(parent.state, o.forward, { rng: stream.fold(0xffffffff), signal: ctx.signal }),
            );
            const r = await rollout(ctx, proposer, stream, o.backward, noisy);
            return { parent, r, score: await ctx.score(scorer, r.state) };
          }),
        );
        const kids = branches.map(({ parent, r, score }) => {
          ctx.spend(r.cost);
          return ctx.add({
            parent: parent.id,
            step: parent.step - o.forward + r.steps,
            state: r.state,
            score,
            status: proposer.done(r.state) ? 'complete' : 'active',
          });
        });
        const pool = [...chains.filter((c) => c.status === 'complete'), ...kids];
        const order = pool
          .map((_, i) => i)
          .sort((a, b) => (pool[b].score as number) - (pool[a].score as number) || a - b);
        const kept = new Set(order.slice(0, o.chains));
        for (const [i, c] of pool.entries()) if (!kept.has(i)) c.status = 'pruned';
        for (const c of open) if (c.status === 'active') c.status = 'pruned';
        chains = order.slice(0, o.chains).map((i) => pool[i]);
        ctx.decide(it, 'select', { kept: chains.map((c) => c.id), branches: kids.length });
        yield {
          step: it,
          active: chains.filter((c) => c.status === 'active').length,
          bestScore: chains[0].score,
        };
      }
      const best = chains.reduce((a, b) => ((b.score as number) > (a.score as number) ? b : a));
      ctx.best = best.id;
      if (proposer.answer && proposer.done(best.state)) ctx.answer = proposer.answer(best.state);
    },
  });
}
