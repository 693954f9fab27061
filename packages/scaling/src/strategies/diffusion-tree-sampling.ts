/**
 * @file Diffusion tree sampling and its greedy variant DTS★ (Jain, Sareen, Pedramfar & Ravanbakhsh,
 * "Diffusion Tree Sampling: Scalable inference-time alignment of diffusion models", arXiv 2506.20701).
 * The denoising chain is a tree: a node holds a state x_t, a visit count and a soft value v̂. One
 * iteration, while the NFE budget lasts:
 *  - selection: from the root, while the node has its `maxChildren` children, go to a child drawn
 *    ∝ exp(λ v̂(child)) (Boltzmann; DTS★: the child of largest v̂);
 *  - expansion: a node with fewer children gets a new child x_{t−1} ~ p_θ(·|x_t) (one proposer step);
 *  - rollout: from the new child, propose until done; every state joins the tree;
 *  - backup: the leaf's value is r(x0); up the path, v̂(x_t) = (1/λ) log( (1/|C|) Σ_{c∈C} exp(λ v̂(c)) )
 *    over the valued children C (the soft Bellman backup V_t = (1/λ) log E_{p_θ}[exp(λ V_{t−1})]).
 * A rollout the budget cannot finish is abandoned (no backup), so spent ≤ budget. Result: DTS draws
 * one leaf by a Boltzmann descent (its samples target p_θ(x0)·exp(λ r(x0))); DTS★ returns the leaf of
 * largest reward. Each propose costs `proposer.cost` (default 1 NFE). Budget: NFE.
 */
import { z } from 'zod';
import { maxStepsOption, proposerOption, scorerOption } from '../common-options';
import { rootCandidate } from '../lineage';
import { parseOptions, runOptionsShape } from '../options';
import { logSumExp } from '../particles/log-weights';
import type { Proposer, Scorer } from '../proposer';
import type { RunContext } from '../run-context';
import { defineStrategy, type Strategy } from '../strategy';
import type { Candidate } from '../trace';

const DiffusionTreeSamplingOptions = z.strictObject({
  proposer: proposerOption,
  scorer: scorerOption,
  /** NFE. */
  budget: z.number().int().positive(),
  maxChildren: z.number().int().min(1).default(4),
  lambda: z.number().positive().finite().default(1),
  /** DTS★: greedy selection and the best leaf as result. */
  greedy: z.boolean().default(false),
  maxSteps: maxStepsOption,
  ...runOptionsShape,
});
export type DiffusionTreeSamplingOptions<S> = Omit<
  z.input<typeof DiffusionTreeSamplingOptions>,
  'proposer' | 'scorer'
> & { proposer: Proposer<S>; scorer: Scorer<S> };

interface TreeNode<S> {
  candidate: Candidate<S>;
  children: TreeNode<S>[];
  value?: number;
  visits: number;
  terminal: boolean;
  /** Terminal, or every allowed child exists and is closed: nothing left to expand below. */
  closed: boolean;
}

export function diffusionTreeSampling<S>(options: DiffusionTreeSamplingOptions<S>): Strategy<S> {
  const o = parseOptions(DiffusionTreeSamplingOptions, options, 'diffusionTreeSampling');
  const proposer = o.proposer as Proposer<S>;
  const scorer = o.scorer as Scorer<S>;
  const lambda = o.lambda;
  /** Index of the child to descend to: argmax v̂ (DTS★) or a draw ∝ exp(λ v̂) among valued children. */
  const choose = (
    ctx: RunContext<S>,
    node: TreeNode<S>,
    greedy: boolean,
    openOnly: boolean,
  ): TreeNode<S> | undefined => {
    const valued = node.children.filter((c) => c.value !== undefined && !(openOnly && c.closed));
    if (valued.length === 0) return undefined;
    if (greedy) return valued.reduce((a, b) => ((b.value as number) > (a.value as number) ? b : a));
    const [i] = ctx.rng().categorical(valued.map((c) => lambda * (c.value as number)));
    return valued[i];
  };
  return defineStrategy<S>({
    name: o.greedy ? 'diffusion-tree-search' : 'diffusion-tree-sampling',
    unit: 'nfe',
    budget: o.budget,
    defaults: o,
    async *body(ctx) {
      const rootC = await rootCandidate(ctx, proposer);
      const rootTerminal = proposer.done(rootC.state);
      const root: TreeNode<S> = {
        candidate: rootC,
        children: [],
        visits: 0,
        terminal: rootTerminal,
        closed: rootTerminal,
      };
      const leaves: TreeNode<S>[] = [];
      const grow = async (parent: TreeNode<S>): Promise<TreeNode<S> | undefined> => {
        if (ctx.remaining <= 0 || parent.candidate.step >= o.maxSteps) return undefined;
        const r = await ctx.propose(proposer, parent.candidate.state);
        ctx.spend(r.cost);
        const terminal = proposer.done(r.state) || parent.candidate.step + 1 >= o.maxSteps;
        const candidate = ctx.add({
          parent: parent.candidate.id,
          step: parent.candidate.step + 1,
          state: r.state,
          status: terminal ? 'complete' : 'active',
          ...(terminal && proposer.answer ? { answer: proposer.answer(r.state) } : {}),
        });
        const child: TreeNode<S> = { candidate, children: [], visits: 0, terminal, closed: terminal };
        parent.children.push(child);
        return child;
      };
      // Selection descends through open subtrees only, so every iteration expands a node: the loop
      // ends when the budget is spent or the (finite) tree is complete.
      for (let it = 1; ctx.remaining > 0 && !root.closed; it++) {
        const path: TreeNode<S>[] = [root];
        let node = root;
        // Selection down fully expanded nodes; expansion of the first node with room.
        while (!node.terminal) {
          if (node.children.length < o.maxChildren) {
            const child = await grow(node);
            if (!child) break;
            node = child;
            path.push(node);
            break;
          }
          const next = choose(ctx, node, o.greedy, true);
          if (!next) break;
          node = next;
          path.push(node);
        }
        // Rollout to a leaf.
        while (!node.terminal) {
          const child = await grow(node);
          if (!child) break;
          node = child;
          path.push(node);
        }
        if (!node.terminal) break; // out of budget mid-rollout: abandoned
        if (node.value === undefined) {
          node.value = await ctx.score(scorer, node.candidate.state);
          node.candidate.score = node.value;
          leaves.push(node);
        }
        // Soft Bellman backup along the path.
        for (let k = path.length - 1; k >= 0; k--) {
          const n = path[k];
          n.visits++;
          if (!n.terminal) {
            const vs = n.children
              .filter((c) => c.value !== undefined)
              .map((c) => lambda * (c.value as number));
            n.value = (logSumExp(vs) - Math.log(vs.length)) / lambda;
          }
          n.candidate.logWeight = lambda * (n.value as number);
          n.closed = n.terminal || (n.children.length >= o.maxChildren && n.children.every((c) => c.closed));
        }
        ctx.decide(it, 'backup', { leaf: node.candidate.id, reward: node.value, rootValue: root.value });
        yield {
          step: it,
          active: leaves.length,
          bestScore: Math.max(...leaves.map((l) => l.value as number)),
        };
      }
      let pick: TreeNode<S> | undefined;
      if (o.greedy) {
        for (const l of leaves) if (!pick || (l.value as number) > (pick.value as number)) pick = l;
      } else {
        pick = root;
        while (pick && !pick.terminal) pick = choose(ctx, pick, false, false);
      }
      if (pick) {
        ctx.best = pick.candidate.id;
        if (pick.candidate.answer !== undefined) ctx.answer = pick.candidate.answer;
        ctx.decide(pick.candidate.step, 'select', {
          rule: o.greedy ? 'largest reward leaf' : 'Boltzmann descent ∝ exp(λ v̂)',
          candidate: pick.candidate.id,
          reward: pick.value,
        });
      }
    },
  });
}

/** DTS★: diffusion tree sampling with greedy selection, returning the best leaf. */
export function diffusionTreeSearch<S>(
  options: Omit<DiffusionTreeSamplingOptions<S>, 'greedy'>,
): Strategy<S> {
  return diffusionTreeSampling({ ...options, greedy: true });
}
