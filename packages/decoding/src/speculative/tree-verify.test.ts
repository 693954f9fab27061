/**
 * treeVerify() and the token-tree helpers: the attention mask against a hand-written one, greedy
 * tree verification against plain greedy decoding, and the deterministic-children rule against the
 * target's exact joint distribution (chi-square at ALPHA = 1e-3) over whole generations of a toy
 * order-2 Markov model, with trees that repeat tokens among siblings and forbid some drafts.
 */
import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import {
  ALPHA,
  binomialZ,
  counts,
  fitPValue,
  Markov2,
  randomDist,
  sequenceIndex,
  topK,
  Z_ALPHA,
} from './testing';
import { pathIndices, treeAttention, treeChildren, treeDepths, treePaths } from './token-tree';
import { treeVerify } from './tree-verify';
import { verify } from './verify';

describe('token tree helpers', () => {
  it('treeAttention: prefix, ancestors and self; positions by depth', () => {
    // Node 0 = a; 1 = b and 2 = c children of a; 3 = d child of c. Prefix of 2 positions.
    const { mask, positions, depths } = treeAttention([-1, 0, 0, 2], 2);
    // prettier-ignore
    const expected = [1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1, 0, 1, 1, 1, 0, 1, 1];
    expect(Array.from(mask)).toEqual(expected);
    expect(Array.from(positions)).toEqual([2, 3, 3, 4]);
    expect(Array.from(depths)).toEqual([0, 1, 1, 2]);
  });

  it('a forest (several children of the root), paths and children', () => {
    const parents = [-1, -1, 0, 1, 1, 3];
    expect(Array.from(treeDepths(parents))).toEqual([0, 0, 1, 1, 1, 2]);
    expect(treeChildren(parents)).toEqual([[0, 1], [2], [3, 4], [], [5], [], []]);
    expect(pathIndices(parents, 5)).toEqual([1, 3, 5]);
    expect(treePaths(parents)).toEqual([
      [0, 2],
      [1, 4],
      [1, 3, 5],
    ]);
    const { mask } = treeAttention(parents, 0);
    expect(Array.from(mask.subarray(5 * 6, 6 * 6))).toEqual([0, 1, 0, 1, 0, 1]);
  });

  it('rejects parents that are not earlier nodes', () => {
    expect(() => treeAttention([-1, 1], 0)).toThrow(/parents\[1\] = 1/);
    expect(() => treeAttention([0], 0)).toThrow(/parents\[0\] = 0/);
    expect(() => pathIndices([-1], 3)).toThrow(/not in the tree/);
    expect(() => treeAttention([-1], -1)).toThrow(/prefixLength/);
  });
});

/** Target rows for a tree after `ctx`: row 0 at the root, row i + 1 after node i's path. */
function treeRows(
  model: Markov2,
  ctx: readonly number[],
  tokens: readonly number[],
  parents: readonly number[],
) {
  const rows = [model.next(ctx)];
  for (let i = 0; i < tokens.length; i++) {
    rows.push(model.next([...ctx, ...pathIndices(parents, i).map((n) => tokens[n])]));
  }
  return rows;
}

/** A deterministic tree guessed from the context: repeated sibling tokens on purpose. */
function guessTree(ctx: readonly number[], V: number) {
  const a = ctx[ctx.length - 1];
  const b = ctx[ctx.length - 2];
  const tokens = [a, (a + 1) % V, b, a, (b + 2) % V, a, 0];
  const parents = [-1, -1, 0, 0, 1, 2, -1];
  return { tokens, parents };
}

describe('treeVerify: greedy', () => {
  it('follows the argmax child; equals plain greedy decoding token for token', () => {
    const g = rng(11);
    const V = 5;
    const model = new Markov2(V, () => randomDist(g, V));
    const prompt = [3, 1];
    const ctx = [...prompt];
    const out: number[] = [];
    let accepted = 0;
    while (out.length < 40) {
      // Include the true greedy continuation as one branch, so long paths get accepted.
      const [x0, x1] = model.greedy(ctx, 2);
      const tokens = [(x0 + 1) % V, x0, x1, (x1 + 2) % V];
      const parents = [-1, -1, 1, 1];
      const r = treeVerify({
        mode: 'greedy',
        tree: { tokens, parents },
        targetProbs: treeRows(model, ctx, tokens, parents),
      });
      expect(r.tokens.slice(0, r.accepted)).toEqual(r.path.map((n) => tokens[n]));
      accepted += r.accepted;
      out.push(...r.tokens);
      ctx.push(...r.tokens);
    }
    expect(out.slice(0, 40)).toEqual(model.greedy(prompt, 40));
    expect(accepted).toBeGreaterThan(20);
  });

  it('bonus at a leaf, correction inside the tree', () => {
    const rows = [
      [0, 1, 0],
      [0, 0, 1],
      [1, 0, 0],
      [0, 1, 0],
    ];
    const tree = { tokens: [1, 2, 0], parents: [-1, 0, -1] };
    expect(treeVerify({ mode: 'greedy', tree, targetProbs: rows })).toEqual({
      path: [0, 1],
      accepted: 2,
      tokens: [1, 2, 0],
      bonus: true,
    });
    const miss = { tokens: [0, 2, 2], parents: [-1, -1, 1] };
    expect(treeVerify({ mode: 'greedy', tree: miss, targetProbs: rows }).tokens).toEqual([1]);
  });
});

describe("treeVerify: 'ngram' (SpecInfer multi-step sampling, deterministic children)", () => {
  it('the first emitted token ~ p and P(some child accepted) = p(children) at one node', () => {
    const g = rng(12);
    const p = topK(randomDist(g, 8), 6);
    const tokens = [3, 3, 5, 0, 7]; // a repeated sibling, and tokens the top-k removed
    const parents = [-1, -1, -1, -1, -1];
    const distinct = [...new Set(tokens)];
    const pChildren = distinct.reduce((s, t) => s + p[t], 0);
    const n = 30_000;
    const first: number[] = [];
    let hit = 0;
    for (let t = 0; t < n; t++) {
      const r = treeVerify({
        mode: 'ngram',
        tree: { tokens, parents },
        targetProbs: Array(6).fill(p),
        rng: g,
      });
      first.push(r.tokens[0]);
      hit += r.accepted > 0 ? 1 : 0;
    }
    expect(fitPValue(counts(first, 8), p)).toBeGreaterThan(ALPHA);
    expect(binomialZ(hit, n, pChildren)).toBeLessThan(Z_ALPHA);
  });

  it('whole generations with guessed trees have the target joint over 3 tokens', () => {
    const g = rng(13);
    const V = 5;
    const target = new Markov2(V, () => topK(randomDist(g, V), 3));
    const prompt = [4, 2];
    const trials = 25_000;
    const seen = new Array<number>(V ** 3).fill(0);
    let steps = 0;
    for (let t = 0; t < trials; t++) {
      const ctx = [...prompt];
      const out: number[] = [];
      while (out.length < 3) {
        const tree = guessTree(ctx, V);
        const r = treeVerify({
          mode: 'ngram',
          tree,
          targetProbs: treeRows(target, ctx, tree.tokens, tree.parents),
          rng: g,
        });
        out.push(...r.tokens);
        ctx.push(...r.tokens);
        steps++;
      }
      seen[sequenceIndex(out.slice(0, 3), V)]++;
    }
    expect(fitPValue(seen, target.joint(prompt, 3))).toBeGreaterThan(ALPHA);
    expect(steps).toBeLessThan(trials * 3);
  });

  it("a chain tree gives verify()'s 'ngram' result bit for bit at the same seed", () => {
    const g = rng(14);
    for (let t = 0; t < 200; t++) {
      const rows = Array.from({ length: 4 }, () => randomDist(g, 6, [t % 6]));
      const drafts = [t % 6, (t * 7) % 6, 2];
      const seed = 1000 + t;
      const chain = verify({ mode: 'ngram', draftTokens: drafts, targetProbs: rows, rng: rng(seed) });
      const tree = treeVerify({
        mode: 'ngram',
        tree: { tokens: drafts, parents: [-1, 0, 1] },
        targetProbs: rows,
        rng: rng(seed),
      });
      expect(tree.tokens).toEqual(chain.tokens);
      expect(tree.accepted).toBe(chain.accepted);
      expect(tree.bonus).toBe(chain.bonus);
    }
  });

  it('rejects bad input', () => {
    const p = [0.5, 0.5];
    const tree = { tokens: [0], parents: [-1] };
    expect(() => treeVerify({ mode: 'ngram', tree, targetProbs: [p, p] })).toThrow(/needs 'rng'/);
    expect(() => treeVerify({ mode: 'greedy', tree, targetProbs: [p] })).toThrow(/S \+ 1 = 2/);
    expect(() =>
      treeVerify({ mode: 'greedy', tree: { tokens: [0, 1], parents: [-1] }, targetProbs: [p, p, p] }),
    ).toThrow(/2 tokens but 1 parents/);
    expect(() =>
      treeVerify({ mode: 'greedy', tree: { tokens: [0, 1], parents: [-1, 2] }, targetProbs: [p, p, p] }),
    ).toThrow(/parents\[1\] = 2/);
  });
});
