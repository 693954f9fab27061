/**
 * @file Verification of a token tree (token-tree.ts convention) against the target's distribution
 * at the root and after every node, as Medusa (arXiv 2401.10774), SpecInfer (arXiv 2305.09781) and
 * Lookahead (arXiv 2312.12728) drafts need:
 *
 * - 'greedy': from the root, follow the child whose token is argmax(target row of the current
 *   node) (the first such child if several are equal); where none is, emit that argmax and stop.
 *   At a leaf the argmax is the bonus token. Equals plain greedy decoding token for token.
 * - 'ngram' (deterministic children: n-gram, trie, top-k or Medusa guesses, no draft probabilities):
 *   SpecInfer's multi-step speculative sampling with one-hot draft distributions. At a node with
 *   target distribution p, try its children in order: child x is accepted with probability
 *   p(x) / (mass of p not yet zeroed); if rejected, zero p(x) and try the next child. The first
 *   accepted child becomes the current node; if none is accepted, emit a sample of the remaining
 *   (renormalised) p and stop; at a leaf that sample is the bonus token. By induction over the
 *   children the emitted token is distributed as p at every step, so the output is exactly the
 *   target's (a chain tree gives verify()'s 'ngram' rule, bit for bit at the same seed).
 *
 * Random stream ('ngram'): `rng.uniform(S)` first (node i is tested with element i, each node at most
 * once), then exactly one categorical sample. 'greedy' draws nothing.
 */
import type { Philox } from '@hasten/core-tensor';
import { z } from 'zod';
import {
  argmax,
  checkRows,
  checkTokens,
  type ProbRow,
  RngSchema,
  RowSchema,
  rowSum,
  sampleWeights,
  TokensSchema,
} from './distributions';
import { inputError, parseOptions } from './errors';
import { type TokenTree, treeChildren } from './token-tree';

export type TreeVerifyMode = 'greedy' | 'ngram';

export interface TreeVerifyInput {
  mode: TreeVerifyMode;
  tree: TokenTree;
  /** S + 1 target rows: row 0 at the root (after the context), row i + 1 after node i. */
  targetProbs: readonly ProbRow[];
  /** Required for 'ngram'. */
  rng?: Philox;
}

export interface TreeVerifyResult {
  /** The accepted nodes, root's child first (token-tree.ts pathIndices order). */
  path: number[];
  /** path.length: draft tokens accepted. */
  accepted: number;
  /** Tokens of the accepted nodes, then one recovered or bonus token. */
  tokens: number[];
  /** True when the last token was emitted at a leaf (every draft on the path accepted to its end). */
  bonus: boolean;
}

const TreeVerifyInputSchema = z.strictObject({
  mode: z.enum(['greedy', 'ngram']),
  tree: z.strictObject({ tokens: TokensSchema, parents: z.array(z.number()).readonly() }),
  targetProbs: z.array(RowSchema).readonly(),
  rng: RngSchema.optional(),
});

const WHERE = 'treeVerify';

export function treeVerify(input: TreeVerifyInput): TreeVerifyResult {
  const { mode, tree, targetProbs, rng } = parseOptions(TreeVerifyInputSchema, input, WHERE);
  const s = tree.tokens.length;
  if (tree.parents.length !== s) {
    throw inputError(WHERE, `tree has ${s} tokens but ${tree.parents.length} parents`);
  }
  if (targetProbs.length !== s + 1) {
    throw inputError(
      WHERE,
      `'targetProbs' has ${targetProbs.length} rows; expected S + 1 = ${s + 1} (the root, then one per node)`,
    );
  }
  const vocab = targetProbs[0].length;
  checkRows(WHERE, targetProbs, vocab, 'targetProbs');
  checkTokens(WHERE, tree.tokens, vocab, 'tree.tokens');
  const children = treeChildren(tree.parents);
  if (mode === 'ngram' && !rng) throw inputError(WHERE, `mode 'ngram' needs 'rng'`);
  return mode === 'greedy'
    ? greedyTree(tree.tokens, children, targetProbs)
    : deterministicTree(tree.tokens, children, targetProbs, rng as Philox);
}

function greedyTree(
  tokens: ArrayLike<number>,
  children: number[][],
  target: readonly ProbRow[],
): TreeVerifyResult {
  const path: number[] = [];
  let node = -1;
  for (;;) {
    const best = argmax(WHERE, target[node + 1], `targetProbs[${node + 1}]`);
    const next = children[node + 1].find((c) => tokens[c] === best);
    if (next === undefined) {
      const out = path.map((n) => tokens[n]);
      out.push(best);
      return { path, accepted: path.length, tokens: out, bonus: children[node + 1].length === 0 };
    }
    path.push(next);
    node = next;
  }
}

function deterministicTree(
  tokens: ArrayLike<number>,
  children: number[][],
  target: readonly ProbRow[],
  gen: Philox,
): TreeVerifyResult {
  const u = gen.uniform(tokens.length);
  const path: number[] = [];
  let node = -1;
  for (;;) {
    const row = target[node + 1];
    let remaining = rowSum(WHERE, row, `targetProbs[${node + 1}]`);
    let weights: Float64Array | null = null; // copied on the first rejection
    let next = -1;
    for (const c of children[node + 1]) {
      const x = tokens[c];
      const wx = weights ? weights[x] : row[x];
      if (wx > 0 && wx / remaining >= u[c]) {
        next = c;
        break;
      }
      weights ??= Float64Array.from(row);
      weights[x] = 0;
      // Summed afresh (not by subtraction) so a child holding all that is left has ratio exactly 1.
      remaining = 0;
      for (let j = 0; j < weights.length; j++) remaining += weights[j];
    }
    if (next >= 0) {
      path.push(next);
      node = next;
      continue;
    }
    const out = path.map((n) => tokens[n]);
    out.push(sampleWeights(gen, weights ?? row));
    return { path, accepted: path.length, tokens: out, bonus: children[node + 1].length === 0 };
  }
}
