/**
 * @file Verification of a token tree whose siblings are several drafts drawn from the draft model's
 * distribution at their parent (multi-draft speculative sampling over a tree: SpecInfer, Miao et al.,
 * arXiv 2305.09781, §4; the per-node rules are the single-position verifiers of this folder).
 *
 * From the root, at each node: its children are k drafts drawn from q (the draft distribution at
 * that node, shared by the siblings, in `probs` of each child) under `scheme`; the matching verifier
 * (recursive rejection for 'iid' and 'without-replacement', Hu et al.'s for 'greedy') emits a token
 * distributed exactly as the target's p at that node. If it equals a child, the walk continues
 * there; otherwise that token is the correction and the walk stops; a leaf emits a bonus token ~ p.
 * Each step is exact given the path so far, so the emitted sequence follows the target exactly.
 */
import type { Philox } from '@hasten/core-tensor';
import { type ProbRow, sampleWeights } from '../distributions';
import { inputError } from '../errors';
import { treeChildren } from '../token-tree';
import type { DraftScheme } from './draft-sampling';
import { verifyGreedyDrafts } from './greedy-draft';
import { verifyRecursiveRejection } from './recursive-rejection';

export interface MultiDraftTreeInput {
  tokens: readonly number[];
  parents: readonly number[];
  /** probs[i]: the draft distribution node i was drawn from (the same for all siblings). */
  draftProbs: readonly ProbRow[];
  /** S + 1 target rows: row 0 at the root, row i + 1 after node i (processed, normalised or not). */
  targetProbs: readonly ProbRow[];
  scheme: DraftScheme;
  rng: Philox;
}

export interface MultiDraftTreeResult {
  path: number[];
  accepted: number;
  tokens: number[];
}

const WHERE = 'verifyMultiDraftTree';

export function verifyMultiDraftTree(input: MultiDraftTreeInput): MultiDraftTreeResult {
  const { tokens, parents, draftProbs, targetProbs, scheme, rng } = input;
  const S = tokens.length;
  if (parents.length !== S || draftProbs.length !== S || targetProbs.length !== S + 1) {
    throw inputError(
      WHERE,
      `need S tokens, parents and draftProbs and S + 1 targetProbs; got ${S}, ${parents.length}, ${draftProbs.length}, ${targetProbs.length}`,
    );
  }
  const children = treeChildren(parents);
  const path: number[] = [];
  let node = -1;
  for (;;) {
    const kids = children[node + 1];
    const p = targetProbs[node + 1];
    if (kids.length === 0) {
      return { path, accepted: path.length, tokens: [...path.map((i) => tokens[i]), sampleWeights(rng, p)] };
    }
    const drafts = kids.map((c) => tokens[c]);
    const q = draftProbs[kids[0]];
    const r =
      scheme === 'greedy'
        ? verifyGreedyDrafts({ target: p, draft: q, drafts, rng })
        : verifyRecursiveRejection({ target: p, draft: q, drafts, rng, scheme });
    if (r.draftIndex < 0) {
      return { path, accepted: path.length, tokens: [...path.map((i) => tokens[i]), r.token] };
    }
    node = kids[r.draftIndex];
    path.push(node);
  }
}
