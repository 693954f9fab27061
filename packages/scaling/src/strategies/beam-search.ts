/**
 * @file Beam search with a process reward model (HF search-and-learn `src/sal/search/beam_search.py`;
 * Snell et al. arXiv 2408.03314). N beams, beam width M (N % M = 0). Each iteration:
 *  1. duplicate the active beams cyclically back up to N ((active × ⌈N/|active|⌉)[:N], sal's rule);
 *  2. propose one step per beam and score the new prefix with the PRM, aggregated over the lineage's
 *     step scores ('last' | 'min' | 'prod' | 'mean');
 *  3. beams that are done are completed; stop once N are complete;
 *  4. keep the top N/M unfinished beams by aggregated score (stable: earlier beam first on ties),
 *     prune the rest.
 * After maxSteps, unfinished beams are cut and completed. Selection: argmax aggregated score over the
 * completed beams. Budget: N (samples, sal's `n`); the trace also counts proposer calls.
 */
import { z } from 'zod';
import { aggregationOption, maxStepsOption, proposerOption, scorerOption } from '../common-options';
import { ScalingError } from '../errors';
import { duplicate, type Extended, extendAll, prune, rootCandidate } from '../lineage';
import { parseOptions, runOptionsShape } from '../options';
import type { Proposer, Scorer } from '../proposer';
import { defineStrategy, type Strategy } from '../strategy';
import type { Candidate } from '../trace';

const BeamSearchOptions = z.strictObject({
  proposer: proposerOption,
  scorer: scorerOption,
  /** N, the number of beams. */
  budget: z.number().int().positive(),
  /** M; N/M beams survive each step. */
  beamWidth: z.number().int().positive().default(4),
  aggregation: aggregationOption,
  maxSteps: maxStepsOption,
  ...runOptionsShape,
});
export type BeamSearchOptions<S> = Omit<z.input<typeof BeamSearchOptions>, 'proposer' | 'scorer'> & {
  proposer: Proposer<S>;
  scorer: Scorer<S>;
};

export function beamSearch<S>(options: BeamSearchOptions<S>): Strategy<S> {
  const o = parseOptions(BeamSearchOptions, options, 'beamSearch');
  if (o.budget % o.beamWidth !== 0) {
    throw new ScalingError(
      'options',
      `beamSearch: option 'budget' (${o.budget}) must be a multiple of 'beamWidth' (${o.beamWidth})`,
    );
  }
  const proposer = o.proposer as Proposer<S>;
  const scorer = o.scorer as Scorer<S>;
  const n = o.budget;
  const keep = n / o.beamWidth;
  return defineStrategy<S>({
    name: 'beam-search',
    unit: 'samples',
    budget: n,
    defaults: o,
    async *body(ctx) {
      ctx.spend(n);
      const root = await rootCandidate(ctx, proposer);
      let active: { candidate: Candidate<S>; value: number }[] = [{ candidate: root, value: 0 }];
      const completed: Extended<S>[] = [];
      for (let step = 1; step <= o.maxSteps && active.length > 0 && completed.length < n; step++) {
        const parents: { parent: Candidate<S>; state: S }[] = [];
        const reps = Math.ceil(n / active.length);
        const copies = active.map((a) => duplicate(proposer, a.candidate.state, reps));
        for (let r = 0; r < reps; r++)
          for (let i = 0; i < active.length; i++)
            parents.push({ parent: active[i].candidate, state: copies[i][r] });
        for (const extra of parents.splice(n)) proposer.release?.(extra.state);
        const children = await extendAll(ctx, proposer, scorer, parents, step, o.aggregation);
        const open: Extended<S>[] = [];
        for (const c of children) (c.candidate.status === 'complete' ? completed : open).push(c);
        const order = open.map((_, i) => i).sort((a, b) => open[b].value - open[a].value || a - b);
        const kept = completed.length >= n ? [] : order.slice(0, keep);
        for (const i of order.slice(kept.length)) prune(proposer, open[i].candidate);
        ctx.decide(step, 'select', {
          rule: `top ${keep} of ${open.length} by ${o.aggregation} score`,
          kept: kept.map((i) => open[i].candidate.id),
          completed: children.filter((c) => c.candidate.status === 'complete').map((c) => c.candidate.id),
        });
        active = kept.map((i) => ({ candidate: open[i].candidate, value: open[i].value }));
        const best = Math.max(...children.map((c) => c.value));
        yield { step, active: active.length, bestScore: best };
      }
      for (const a of active) {
        a.candidate.status = 'complete';
        completed.push({ candidate: a.candidate, value: a.value, cost: 0 });
        ctx.decide(a.candidate.step, 'cut', { candidate: a.candidate.id, reason: 'maxSteps' });
      }
      let best = completed[0];
      for (const c of completed) if (c.value > best.value) best = c;
      ctx.best = best.candidate.id;
      if (proposer.answer) ctx.answer = proposer.answer(best.candidate.state);
      ctx.decide(best.candidate.step, 'select', {
        rule: 'argmax aggregated score',
        candidate: best.candidate.id,
        value: best.value,
      });
    },
  });
}
