/**
 * @file Token trees for tree-based speculation (SpecInfer, arXiv 2305.09781; Medusa, arXiv
 * 2401.10774; Lookahead, arXiv 2312.12728): the parent-index form every drafter here returns, the
 * attention mask and positions that score the whole tree in one forward, and the paths through it.
 *
 * Convention: node i has token tokens[i] and parent parents[i] in [-1, i): -1 means the node follows
 * the context directly, so nodes come in topological order (BFS or DFS, as the drafters emit them)
 * and a chain of K drafts is parents = [-1, 0, 1, ..., K-2].
 *
 * A forward over the tree sees P positions already (the prefix: cached context plus any tokens fed
 * with the tree) and S new ones. Row i of the mask [S, P + S] (true = attend) covers the whole
 * prefix, node i's ancestors and node i itself; node i sits at position P + depth(i), so siblings
 * share a position, as in a sequential decode of their own branch (@hasten/models' CausalLM takes
 * this mask as a bool tensor [1, 1, S, P + S] with these positions).
 */
import { inputError } from './errors';

export interface TokenTree {
  tokens: readonly number[];
  /** parents[i] in [-1, i); -1: a child of the root (the last context token). */
  parents: readonly number[];
}

/** Throws unless `parents` is a valid parent array (every parents[i] an integer in [-1, i)). */
export function checkParents(where: string, parents: ArrayLike<number>): void {
  for (let i = 0; i < parents.length; i++) {
    const p = parents[i];
    if (!(Number.isInteger(p) && p >= -1 && p < i)) {
      throw inputError(
        where,
        `parents[${i}] = ${p}; each parent must be -1 (the root) or an earlier node in [0, ${i})`,
      );
    }
  }
}

/** Depth of every node: 0 for children of the root. */
export function treeDepths(parents: ArrayLike<number>): Int32Array {
  checkParents('treeDepths', parents);
  const depth = new Int32Array(parents.length);
  for (let i = 0; i < parents.length; i++) depth[i] = parents[i] < 0 ? 0 : depth[parents[i]] + 1;
  return depth;
}

/** children[i + 1] lists node i's children in index order; children[0] lists the root's. */
export function treeChildren(parents: ArrayLike<number>): number[][] {
  checkParents('treeChildren', parents);
  const children: number[][] = Array.from({ length: parents.length + 1 }, () => []);
  for (let i = 0; i < parents.length; i++) children[parents[i] + 1].push(i);
  return children;
}

export interface TreeAttention {
  /** Row-major bool mask [S, prefixLength + S], 1 = attend. */
  mask: Uint8Array;
  /** Absolute position of each node: prefixLength + depth. */
  positions: Int32Array;
  /** Depth of each node (0 for children of the root). */
  depths: Int32Array;
}

/** The attention mask and positions that score all S tree nodes after a prefix in one forward. */
export function treeAttention(parents: ArrayLike<number>, prefixLength: number): TreeAttention {
  if (!Number.isSafeInteger(prefixLength) || prefixLength < 0) {
    throw inputError('treeAttention', `prefixLength must be an integer >= 0, got ${prefixLength}`);
  }
  const depths = treeDepths(parents);
  const s = parents.length;
  const width = prefixLength + s;
  const mask = new Uint8Array(s * width);
  const positions = new Int32Array(s);
  for (let i = 0; i < s; i++) {
    mask.fill(1, i * width, i * width + prefixLength);
    for (let n = i; n >= 0; n = parents[n]) mask[i * width + prefixLength + n] = 1;
    positions[i] = prefixLength + depths[i];
  }
  return { mask, positions, depths };
}

/** The nodes from the root's child down to `node` (inclusive): the path a verifier accepted. */
export function pathIndices(parents: ArrayLike<number>, node: number): number[] {
  checkParents('pathIndices', parents);
  if (!(Number.isInteger(node) && node >= 0 && node < parents.length)) {
    throw inputError('pathIndices', `node ${node} is not in the tree [0, ${parents.length})`);
  }
  const path: number[] = [];
  for (let n = node; n >= 0; n = parents[n]) path.push(n);
  return path.reverse();
}

/** Every root-to-leaf path (Medusa's retrieve indices, unpadded), leaves in index order. */
export function treePaths(parents: ArrayLike<number>): number[][] {
  const children = treeChildren(parents);
  const paths: number[][] = [];
  for (let i = 0; i < parents.length; i++)
    if (children[i + 1].length === 0) paths.push(pathIndices(parents, i));
  return paths;
}
