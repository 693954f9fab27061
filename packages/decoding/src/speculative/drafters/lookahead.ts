/**
 * @file Jacobi Lookahead decoding (Fu et al., "Break the Sequential Dependency of LLM Inference
 * Using Lookahead Decoding", arXiv 2402.02057; hao-ai-lab/LookaheadDecoding; the layout of
 * llama.cpp's examples/lookahead): no draft model, no trained heads.
 *
 * One target forward carries two branches after the current token t:
 * - the lookahead branch, a 2-D window of N − 1 levels × W columns of guesses. Column c is one
 *   Jacobi trajectory: level 0 holds t (column 0) or an old guess at relative position c, level j ≥ 1
 *   the guess at position j + c. Level-0 token c attends to t and level-0 tokens 1..c; level-j token
 *   of column c to t, level-0 tokens 1..c and levels 1..j of column c. The outputs of the last level
 *   are the next guesses: each column then yields the n-gram (level 0, ..., level N − 2, new guess)
 *   of N consecutive tokens for the pool, keyed by its first token, and the levels shift down one;
 * - the verification branch, up to G pooled n-grams starting with t, merged into a token tree
 *   (shared prefixes once) and verified like any tree draft (exact: greedy or the n-gram rule).
 * Both branches are scored in one forward: the loop appends this drafter's `extra` tokens (the
 * window) after the tree with the masks above and hands their logits back (observeExtra).
 *
 * Defaults W = 7, N = 5, G = 7 follow lade.config_lade (WINDOW_SIZE 7, LEVEL 5, GUESS_SET_SIZE 7).
 */
import { z } from 'zod';
import { parseOptions } from '../errors';
import type { Draft, Drafter } from './drafter';

const LookaheadOptions = z.strictObject({
  /** W: columns of the lookahead window (default 7). */
  window: z.number().int().min(1).max(64).default(7),
  /** N: n-gram size, so the window keeps N − 1 levels (default 5; at least 3). */
  ngram: z.number().int().min(3).max(16).default(5),
  /** G: most n-grams verified per step (default 7). */
  guesses: z.number().int().min(1).max(64).default(7),
});
export type LookaheadOptions = z.input<typeof LookaheadOptions>;

export class LookaheadDrafter implements Drafter {
  readonly options: z.output<typeof LookaheadOptions>;
  /** levels[j][c]: the guess of level j, column c (levels[0][0] stands for t and is not fed). */
  private levels: number[][] = [];
  /** The n-gram pool: first token -> continuations of N − 1 tokens, newest last (at most G). */
  private pool = new Map<number, number[][]>();
  private current = -1;

  constructor(options: LookaheadOptions = {}) {
    this.options = parseOptions(LookaheadOptions, options, 'LookaheadDrafter');
  }

  reset(): void {
    this.levels = [];
    this.pool.clear();
  }

  propose(context: readonly number[], k: number): Draft {
    const { window: W, ngram: N, guesses: G } = this.options;
    const t = context[context.length - 1];
    this.current = t;
    if (this.levels.length === 0) {
      // Start the trajectories from the context's own tokens (any guess is valid, good ones converge sooner).
      this.levels = Array.from({ length: N - 1 }, (_, j) =>
        Array.from({ length: W }, (_, c) => context[(c * 7 + j * 3) % context.length]),
      );
    }
    // Verification branch: the pooled n-grams of t as a tree, at most k nodes.
    const tokens: number[] = [];
    const parents: number[] = [];
    const node = new Map<string, number>();
    for (const gram of (this.pool.get(t) ?? []).slice(-G).reverse()) {
      let parent = -1;
      for (let d = 0; d < gram.length; d++) {
        const key = gram.slice(0, d + 1).join();
        let at = node.get(key);
        if (at === undefined) {
          if (tokens.length >= k) break;
          at = tokens.length;
          tokens.push(gram[d]);
          parents.push(parent);
          node.set(key, at);
        }
        parent = at;
      }
    }
    // Lookahead branch: level 0 columns 1..W-1, then levels 1..N-2 columns 0..W-1.
    const extra: number[] = [];
    const positions: number[] = [];
    const attends: number[][] = [];
    const level0 = (c: number) => c - 1; // extra index of level-0 column c >= 1
    for (let c = 1; c < W; c++) {
      extra.push(this.levels[0][c]);
      positions.push(c);
      attends.push(Array.from({ length: c }, (_, i) => level0(i + 1)));
    }
    const levelAt: number[][] = [];
    for (let j = 1; j < N - 1; j++) {
      levelAt[j] = [];
      for (let c = 0; c < W; c++) {
        const own = extra.length;
        levelAt[j][c] = own;
        extra.push(this.levels[j][c]);
        positions.push(j + c);
        const seen = Array.from({ length: c }, (_, i) => level0(i + 1));
        for (let jj = 1; jj < j; jj++) seen.push(levelAt[jj][c]);
        seen.push(own);
        attends.push(seen);
      }
    }
    return { tokens, parents, extra: { tokens: extra, positions, attends } };
  }

  /** The window's logits (one row per extra token, in order): next guesses, n-grams, shift. */
  observeExtra(rows: readonly ArrayLike<number>[]): void {
    const { window: W, ngram: N, guesses: G } = this.options;
    const lastStart = W - 1 + (N - 3) * W; // first row of the last level
    const next = Array.from({ length: W }, (_, c) => argmax(rows[lastStart + c]));
    for (let c = 0; c < W; c++) {
      const first = c === 0 ? this.current : this.levels[0][c];
      const gram = [...this.levels.slice(1).map((l) => l[c]), next[c]];
      const list = this.pool.get(first) ?? [];
      if (!list.some((g) => g.every((x, i) => x === gram[i]))) {
        list.push(gram);
        if (list.length > G) list.shift();
        this.pool.set(first, list);
      }
    }
    this.levels = [...this.levels.slice(1), next];
  }
}

function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let j = 1; j < row.length; j++) if (row[j] > row[best]) best = j;
  return best;
}
