/**
 * @file Mid-generation pruning by self-evaluation (Manvi, Singh & Ermon, "Adaptive Inference-Time
 * Compute: LLMs Can Predict if They Can Do Better, Even Mid-Generation", arXiv 2410.02725): N samples
 * are generated step by step in parallel; at each checkpoint step the scorer (the model's
 * self-evaluation: the probability that this sample ends well, i.e. 1 − P(restarting does better))
 * scores the unfinished samples and only the top ⌈keep·m⌉ of the m unfinished ones continue (at least
 * one); the others are pruned, saving their remaining tokens. Finished samples are scored and the best
 * is returned. Budget: N samples; the trace's last decision reports the tokens (proposer cost) spent.
 */
import { z } from 'zod';
import { maxStepsOption, proposerOption, scorerOption } from '../common-options';
import { duplicate, prune, rootCandidate } from '../lineage';
import { parseOptions, runOptionsShape } from '../options';
import type { Proposer, Scorer } from '../proposer';
import { defineStrategy, type Strategy } from '../strategy';
import type { Candidate } from '../trace';

const SelfEvalPruningOptions = z.strictObject({
  proposer: proposerOption,
  scorer: scorerOption,
  budget: z.number().int().positive(),
  /** Steps after which the unfinished samples are self-evaluated and pruned. */
  checkpoints: z.array(z.number().int().positive()).min(1),
  /** Fraction of the unfinished samples kept at a checkpoint. */
  keep: z.number().gt(0).max(1).default(0.25),
  maxSteps: maxStepsOption,
  ...runOptionsShape,
});
export type SelfEvalPruningOptions<S> = Omit<
  z.input<typeof SelfEvalPruningOptions>,
  'proposer' | 'scorer'
> & {
  proposer: Proposer<S>;
  scorer: Scorer<S>;
};

export function selfEvalPruning<S>(options: SelfEvalPruningOptions<S>): Strategy<S> {
  const o = parseOptions(SelfEvalPruningOptions, options, 'selfEvalPruning');
  const proposer = o.proposer as Proposer<S>;
  const scorer = o.scorer as Scorer<S>;
  const checkpoints = new Set(o.checkpoints);
  return defineStrategy<S>({
    name: 'self-eval-pruning',
    unit: 'samples',
    budget: o.budget,
    defaults: o,
    async *body(ctx) {
      ctx.spend(o.budget);
      let tokens = 0;
      const root = await rootCandidate(ctx, proposer);
      let active: Candidate<S>[] = duplicate(proposer, root.state, o.budget).map((state) =>
        ctx.add({ parent: root.id, step: 0, state, status: 'active' }),
      );
      const finished: Candidate<S>[] = [];
      for (let step = 1; step <= o.maxSteps && active.length > 0; step++) {
        const next = await Promise.all(active.map((c) => ctx.propose(proposer, c.state)));
        active = active.map((c, i) => {
          tokens += next[i].cost;
          c.status = 'pruned'; // superseded by its child (the lineage continues)
          const done = proposer.done(next[i].state);
          return ctx.add({
            parent: c.id,
            step,
            state: next[i].state,
            status: done ? 'complete' : 'active',
            ...(done && proposer.answer ? { answer: proposer.answer(next[i].state) } : {}),
          });
        });
        finished.push(...active.filter((c) => c.status === 'complete'));
        active = active.filter((c) => c.status === 'active');
        if (checkpoints.has(step) && active.length > 1) {
          const scores = await Promise.all(active.map((c) => ctx.score(scorer, c.state)));
          active.forEach((c, i) => {
            c.score = scores[i];
          });
          const order = active.map((_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
          const kept = Math.max(1, Math.ceil(o.keep * active.length));
          for (const i of order.slice(kept)) prune(proposer, active[i]);
          ctx.decide(step, 'prune', {
            kept: order.slice(0, kept).map((i) => active[i].id),
            pruned: order.slice(kept).map((i) => active[i].id),
          });
          active = order
            .slice(0, kept)
            .sort((a, b) => a - b)
            .map((i) => active[i]);
        }
        yield { step, active: active.length };
      }
      for (const c of active) c.status = 'complete';
      finished.push(...active);
      const scores = await Promise.all(finished.map((c) => ctx.score(scorer, c.state)));
      finished.forEach((c, i) => {
        c.score = scores[i];
      });
      let best = 0;
      for (let i = 1; i < finished.length; i++) if (scores[i] > scores[best]) best = i;
      ctx.best = finished[best].id;
      if (finished[best].answer !== undefined) ctx.answer = finished[best].answer;
      ctx.decide(finished[best].step, 'select', {
        rule: 'argmax self-evaluation',
        candidate: ctx.best,
        tokens,
      });
    },
  });
}
