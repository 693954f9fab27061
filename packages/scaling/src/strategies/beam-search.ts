import { parseTreeSearchOptions, type TreeSearchOptions } from '../common-options';
import { duplicate, type Extended, extendAll, prune, rootCandidate } from '../lineage';
import type { Proposer, Scorer } from '../proposer';
import { defineStrategy, type Strategy } from '../strategy';
import type { Candidate } from '../trace';

export type BeamSearchOptions<S> = TreeSearchOptions<S>;

export function beamSearch<S>(options: BeamSearchOptions<S>): Strategy<S> {
  const o = parseTreeSearchOptions(options, 'beamSearch');
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
