import { parseTreeSearchOptions, type TreeSearchOptions } from '../common-options';
import { duplicate, type Extended, extendAll, prune, rootCandidate } from '../lineage';
import type { Proposer, Scorer } from '../proposer';
import { defineStrategy, type Strategy } from '../strategy';

export type DvtsOptions<S> = TreeSearchOptions<S>;

export function dvts<S>(options: DvtsOptions<S>): Strategy<S> {
  const o = parseTreeSearchOptions(options, 'dvts');
  const proposer = o.proposer as Proposer<S>;
  const scorer = o.scorer as Scorer<S>;
  const m = o.beamWidth;
  const trees = o.budget / m;
  return defineStrategy<S>({
    name: 'dvts',
    unit: 'samples',
    budget: o.budget,
    defaults: o,
    async *body(ctx) {
      ctx.spend(o.budget);
      const root = await rootCandidate(ctx, proposer);
      const rootCopies = duplicate(proposer, root.state, trees);
      // Per subtree: its current candidate and state, and the M candidates of its last expansion.
      const tree = rootCopies.map((state) => ({
        current: root,
        state,
        last: [] as Extended<S>[],
        open: true,
      }));
      for (let step = 1; step <= o.maxSteps && tree.some((t) => t.open); step++) {
        const open = tree.filter((t) => t.open);
        const parents = open.flatMap((t) =>
          duplicate(proposer, t.state, m).map((state) => ({ parent: t.current, state })),
        );
        const children = await extendAll(ctx, proposer, scorer, parents, step, o.aggregation);
        open.forEach((t, k) => {
          const mine = children.slice(k * m, (k + 1) * m);
          let bestIdx = 0;
          for (let i = 1; i < m; i++) if (mine[i].value > mine[bestIdx].value) bestIdx = i;
          for (const prev of t.last) if (prev.candidate.status === 'active') prune(proposer, prev.candidate);
          t.last = mine;
          const chosen = mine[bestIdx].candidate;
          t.current = chosen;
          t.state = chosen.state;
          if (chosen.status === 'complete') t.open = false;
          ctx.decide(step, 'select', {
            subtree: tree.indexOf(t),
            chosen: chosen.id,
            of: mine.map((c) => c.candidate.id),
          });
        });
        yield {
          step,
          active: tree.filter((t) => t.open).length,
          bestScore: Math.max(...children.map((c) => c.value)),
        };
      }
      const kept = tree.flatMap((t) => t.last);
      const done = kept.filter((c) => c.candidate.status === 'complete');
      const pool = done.length > 0 ? done : kept;
      let best = pool[0];
      for (const c of pool) if (c.value > best.value) best = c;
      ctx.best = best.candidate.id;
      if (best.candidate.answer !== undefined) ctx.answer = best.candidate.answer;
      ctx.decide(best.candidate.step, 'select', {
        rule: 'argmax aggregated score',
        candidate: best.candidate.id,
        value: best.value,
      });
    },
  });
}
