/**
 * The n-gram trie drafter: counts, best-first multi-branch trees within the budget, the sequence
 * kept in sync with the context, pruning, and a lossless greedy loop with treeVerify.
 */
import { describe, expect, it } from 'vitest';
import { checkParents, pathIndices, treeDepths } from '../token-tree';
import { treeVerify } from '../tree-verify';
import { NgramTrieDrafter } from './ngram-trie';

describe('NgramTrieDrafter', () => {
  it('counts n-gram occurrences in what it indexed', () => {
    const d = new NgramTrieDrafter({ maxMatch: 2, maxDepth: 2 });
    d.propose([1, 2, 3, 1, 2, 4, 1, 2, 3], 0);
    expect(d.count([1, 2])).toBe(3);
    expect(d.count([1, 2, 3])).toBe(2);
    expect(d.count([2, 4, 1])).toBe(1);
    expect(d.count([3, 1, 2, 4])).toBe(1); // window = maxMatch + maxDepth = 4
    expect(d.count([9])).toBe(0);
  });

  it('proposes the continuations of the longest matched suffix, most frequent first, within k', () => {
    const d = new NgramTrieDrafter({ maxMatch: 2, minMatch: 1, maxDepth: 3 });
    // After [1, 2]: "3 5" twice, "4" once.
    const ctx = [1, 2, 3, 5, 0, 1, 2, 4, 0, 1, 2, 3, 5, 0, 1, 2];
    const draft = d.propose(ctx, 4);
    expect(draft.tokens[0]).toBe(3);
    expect(draft.parents?.[0]).toBe(-1);
    expect(draft.tokens.length).toBe(4);
    const parents = draft.parents as number[];
    checkParents('test', parents);
    // The most frequent branch is 3 -> 5 -> 0; 4 is a second child of the root.
    const paths = draft.tokens.map((_, i) => pathIndices(parents, i).map((n) => draft.tokens[n]));
    expect(paths).toContainEqual([3, 5, 0]);
    expect(paths).toContainEqual([4]);
    expect(Math.max(...treeDepths(parents))).toBeLessThanOrEqual(2);
  });

  it('respects maxDepth and the budget; nothing to propose without a match', () => {
    const d = new NgramTrieDrafter({ maxMatch: 3, maxDepth: 2 });
    const draft = d.propose([7, 8, 9, 1, 2, 3, 7, 8, 9], 10);
    expect(draft.tokens).toEqual([1, 2]);
    expect(draft.parents).toEqual([-1, 0]);
    expect(new NgramTrieDrafter().propose([1, 2, 3], 5).tokens).toEqual([]);
  });

  it('update() and propose(context) index the same sequence; a different context starts a new one', () => {
    const a = new NgramTrieDrafter({ maxMatch: 2, maxDepth: 2 });
    const b = new NgramTrieDrafter({ maxMatch: 2, maxDepth: 2 });
    a.propose([1, 2, 3], 0);
    a.update([1, 2, 5]);
    b.propose([1, 2, 3, 1, 2, 5], 0);
    expect(a.count([1, 2])).toBe(2);
    expect(a.size).toBe(b.size);
    a.propose([1, 2, 3, 1, 2, 5], 0); // already indexed: nothing changes
    expect(a.count([1, 2])).toBe(2);
    a.propose([6, 1, 2], 0); // not an extension: a new sequence, the trie is kept
    expect(a.count([1, 2])).toBe(3);
    expect(a.count([5, 6])).toBe(0);
  });

  it('add() indexes a document; pruning keeps the size within capacity', () => {
    const d = new NgramTrieDrafter({ maxMatch: 2, maxDepth: 2, capacity: 64 });
    d.add([4, 5, 6, 7]);
    expect(d.propose([9, 4, 5], 2).tokens).toEqual([6, 7]);
    const noise = Array.from({ length: 500 }, (_, i) => (i * 7919) % 97);
    d.add(noise);
    expect(d.size).toBeLessThanOrEqual(64);
    d.add([1, 1, 1, 1, 1, 1, 1, 1]);
    expect(d.propose([3, 1, 1], 2).tokens).toEqual([1, 1]);
  });

  it('drafts verified greedily reproduce greedy decoding of a repetitive target', () => {
    // Target: a deterministic "language" that cycles through a phrase with a twist every 3rd cycle.
    const phrase = [10, 11, 12, 13, 14, 15];
    const next = (ctx: readonly number[]) => {
      const n = ctx.length;
      const t = phrase[(n + 1) % phrase.length];
      return n % 17 === 0 ? 16 : t;
    };
    const oneHot = (t: number) => Float64Array.from({ length: 20 }, (_, j) => (j === t ? 1 : 0));
    const d = new NgramTrieDrafter();
    const ctx = [10, 11, 12, 13, 14, 15, 10, 11];
    const reference = [...ctx];
    for (let i = 0; i < 60; i++) reference.push(next(reference));
    let steps = 0;
    while (ctx.length < reference.length) {
      const { tokens, parents = [] } = d.propose(ctx, 8);
      const rows = [oneHot(next(ctx))];
      for (let i = 0; i < tokens.length; i++) {
        rows.push(oneHot(next([...ctx, ...pathIndices(parents, i).map((n) => tokens[n])])));
      }
      const r = treeVerify({ mode: 'greedy', tree: { tokens, parents }, targetProbs: rows });
      d.update(r.tokens);
      ctx.push(...r.tokens);
      steps++;
    }
    expect(ctx.slice(0, reference.length)).toEqual(reference);
    expect(steps).toBeLessThan(30); // 60 tokens in far fewer than 60 target steps
  });
});
