/**
 * @file A multi-branch n-gram drafter after Lookahead (Zhao et al., "Lookahead: An Inference
 * Acceleration Framework for Large Language Model with Lossless Generation Accuracy", arXiv
 * 2312.12728): a trie of the n-grams seen so far (the prompt, earlier outputs, earlier sequences),
 * each node counting how often its n-gram occurred. To draft, the longest suffix of the context
 * found in the trie (maxMatch down to minMatch tokens) selects a node, and the continuations below
 * it are taken best-first by frequency until the token budget k is spent: a tree (token-tree.ts
 * convention, siblings most frequent first) for treeVerify.
 *
 * Indexing: every window of maxMatch + maxDepth tokens starting at each position is a path from the
 * root (shorter at the end of the sequence, extended as tokens arrive), so a node's count is the
 * number of occurrences of its n-gram. The trie outlives a sequence (reset() keeps it); beyond
 * `capacity` nodes the least frequent are pruned (a child never counts more than its parent, so
 * dropping every node below a count threshold removes whole subtrees).
 * Not reproduced from the paper: its separate prompt/output tries and its decoding-length schedules.
 */
import { z } from 'zod';
import { inputError, parseOptions } from '../errors';
import type { Draft, Drafter } from './drafter';

export interface NgramTrieOptions {
  /** Longest context suffix looked up (default 6). */
  maxMatch?: number;
  /** Shortest context suffix looked up (default 1). */
  minMatch?: number;
  /** Deepest draft branch, in tokens (default 8). */
  maxDepth?: number;
  /** Most trie nodes kept before pruning the least frequent (default 65536). */
  capacity?: number;
}

const Options = z.strictObject({
  maxMatch: z.number().int().positive().default(6),
  minMatch: z.number().int().positive().default(1),
  maxDepth: z.number().int().positive().default(8),
  capacity: z.number().int().min(16).default(65536),
});

const WHERE = 'NgramTrieDrafter';

class TrieNode {
  count = 0;
  dead = false;
  readonly children = new Map<number, TrieNode>();
}

export class NgramTrieDrafter implements Drafter {
  readonly options: Required<NgramTrieOptions>;
  private readonly root = new TrieNode();
  private nodes = 0;
  /** The sequence indexed so far, and the windows still growing (their current node and length). */
  private seq: number[] = [];
  private open: { node: TrieNode; length: number }[] = [];

  constructor(options: NgramTrieOptions = {}) {
    this.options = parseOptions(Options, options, WHERE);
    if (this.options.minMatch > this.options.maxMatch) {
      throw inputError(
        WHERE,
        `minMatch ${this.options.minMatch} is larger than maxMatch ${this.options.maxMatch}`,
      );
    }
  }

  /** Number of trie nodes held. */
  get size(): number {
    return this.nodes;
  }

  /** How many times `ngram` occurred in what was indexed (n-grams up to maxMatch + maxDepth long). */
  count(ngram: readonly number[]): number {
    const node = this.walk(ngram, 0, ngram.length);
    return node ? node.count : 0;
  }

  /** Index `tokens` as a separate sequence (e.g. a document the output may quote), then keep going. */
  add(tokens: readonly number[]): void {
    const { seq, open } = this;
    this.seq = [];
    this.open = [];
    for (const t of tokens) this.push(t);
    this.seq = seq;
    this.open = open;
  }

  propose(context: readonly number[], k: number): Draft {
    if (!Number.isInteger(k) || k < 0) throw inputError(WHERE, `k must be an integer >= 0, got ${k}`);
    this.sync(context);
    const { maxMatch, minMatch, maxDepth } = this.options;
    let anchor: TrieNode | undefined;
    for (let m = Math.min(maxMatch, context.length); m >= minMatch && !anchor; m--) {
      const node = this.walk(context, context.length - m, context.length);
      if (node && node.children.size > 0) anchor = node;
    }
    const tokens: number[] = [];
    const parents: number[] = [];
    if (!anchor || k === 0) return { tokens, parents };
    // Best-first by count; the frontier holds children of chosen nodes (parent index, depth).
    const frontier: { node: TrieNode; token: number; parent: number; depth: number }[] = [];
    const expand = (node: TrieNode, parent: number, depth: number) => {
      if (depth > maxDepth) return;
      for (const [token, child] of node.children) frontier.push({ node: child, token, parent, depth });
    };
    expand(anchor, -1, 1);
    while (tokens.length < k && frontier.length > 0) {
      let best = 0;
      for (let i = 1; i < frontier.length; i++)
        if (frontier[i].node.count > frontier[best].node.count) best = i;
      const pick = frontier.splice(best, 1)[0];
      tokens.push(pick.token);
      parents.push(pick.parent);
      expand(pick.node, tokens.length - 1, pick.depth + 1);
    }
    return { tokens, parents };
  }

  /** Tokens committed by a verification step extend the indexed sequence. */
  update(committed: readonly number[]): void {
    for (const t of committed) this.push(t);
  }

  /** A new sequence: the trie is kept, the windows of the old sequence are closed. */
  reset(): void {
    this.seq = [];
    this.open = [];
  }

  /** Index whatever part of `context` is new; a context that does not extend seq starts a new sequence. */
  private sync(context: readonly number[]): void {
    let extends_ = context.length >= this.seq.length;
    for (let i = this.seq.length - 1; extends_ && i >= 0; i--) extends_ = context[i] === this.seq[i];
    if (!extends_) this.reset();
    for (let i = this.seq.length; i < context.length; i++) this.push(context[i]);
  }

  private walk(tokens: readonly number[], from: number, to: number): TrieNode | undefined {
    let node: TrieNode | undefined = this.root;
    for (let i = from; i < to && node; i++) node = node.children.get(tokens[i]);
    return node;
  }

  private push(token: number): void {
    if (!Number.isInteger(token) || token < 0) {
      throw inputError(WHERE, `token ids must be integers >= 0, got ${token}`);
    }
    const window = this.options.maxMatch + this.options.maxDepth;
    this.seq.push(token);
    this.open.push({ node: this.root, length: 0 });
    const still: { node: TrieNode; length: number }[] = [];
    for (const w of this.open) {
      if (w.node.dead) continue; // pruned under this window: it stops growing
      let child = w.node.children.get(token);
      if (!child) {
        child = new TrieNode();
        w.node.children.set(token, child);
        this.nodes++;
      }
      child.count++;
      if (w.length + 1 < window) still.push({ node: child, length: w.length + 1 });
    }
    this.open = still;
    if (this.nodes > this.options.capacity) this.prune();
  }

  /** Drop the least frequent nodes until at most half the capacity is left. */
  private prune(): void {
    const counts: number[] = [];
    const collect = (n: TrieNode) => {
      for (const c of n.children.values()) {
        counts.push(c.count);
        collect(c);
      }
    };
    collect(this.root);
    counts.sort((a, b) => a - b);
    // Remove every node with count <= threshold; children never count more than their parent.
    const threshold = counts[Math.max(0, counts.length - Math.floor(this.options.capacity / 2) - 1)];
    const kill = (n: TrieNode) => {
      n.dead = true;
      this.nodes--;
      for (const c of n.children.values()) kill(c);
    };
    const sweep = (n: TrieNode) => {
      for (const [t, c] of n.children) {
        if (c.count <= threshold) {
          kill(c);
          n.children.delete(t);
        } else sweep(c);
      }
    };
    sweep(this.root);
  }
}
