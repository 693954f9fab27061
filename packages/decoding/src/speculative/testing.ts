/**
 * @file Test helpers for the speculative tests (not exported): goodness-of-fit against an exact
 * distribution, random and filtered distributions, and a toy order-2 Markov "language model" whose
 * exact joint distribution over a few tokens is known, so a whole speculative loop can be checked.
 * Every expected value here is computed independently of the code under test.
 */
import type { Philox } from '@hasten/core-tensor';
// The core-tensor RNG tests' chi-square (not part of core-tensor's public API).
import { chiSquareTest } from '../../../core-tensor/src/rng/testing/stats';

/** Significance level of every statistical assertion in these tests. */
export const ALPHA = 1e-3;
/** Two-sided normal critical value at ALPHA. */
export const Z_ALPHA = 3.2905;

/**
 * Pearson chi-square p-value of `counts` against `probs` (n = sum of counts). Cells expected below
 * 5 are pooled; a count in a cell of probability 0 returns p = 0 (an impossible outcome happened).
 */
export function fitPValue(counts: ArrayLike<number>, probs: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < counts.length; i++) n += counts[i];
  const obs: number[] = [];
  const exp: number[] = [];
  let poolObs = 0;
  let poolExp = 0;
  for (let i = 0; i < counts.length; i++) {
    const e = probs[i] * n;
    if (probs[i] === 0) {
      if (counts[i] > 0) return 0;
      continue;
    }
    if (e < 5) {
      poolObs += counts[i];
      poolExp += e;
    } else {
      obs.push(counts[i]);
      exp.push(e);
    }
  }
  if (poolExp > 0) {
    if (poolExp >= 5 || obs.length === 0) {
      obs.push(poolObs);
      exp.push(poolExp);
    } else {
      // Fold a too-small pool into the smallest regular cell.
      let m = 0;
      for (let i = 1; i < exp.length; i++) if (exp[i] < exp[m]) m = i;
      obs[m] += poolObs;
      exp[m] += poolExp;
    }
  }
  if (obs.length < 2) return 1;
  return chiSquareTest(obs, exp).p;
}

/** |successes - n prob| in standard deviations of a Binomial(n, prob). */
export function binomialZ(successes: number, n: number, prob: number): number {
  const sd = Math.sqrt(n * prob * (1 - prob));
  return sd > 0 ? Math.abs(successes - n * prob) / sd : successes === n * prob ? 0 : Number.POSITIVE_INFINITY;
}

/** A random distribution over `vocab` tokens (flat Dirichlet), with the listed tokens set to 0. */
export function randomDist(gen: Philox, vocab: number, zeros: readonly number[] = []): Float64Array {
  const u = gen.uniform(vocab);
  const w = Float64Array.from(u, (x) => -Math.log(1 - x));
  for (const z of zeros) w[z] = 0;
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / s);
}

/** Keep the k most likely tokens (ties: lower id), renormalised. */
export function topK(p: ArrayLike<number>, k: number): Float64Array {
  const order = Array.from({ length: p.length }, (_, j) => j).sort((a, b) => p[b] - p[a] || a - b);
  const out = new Float64Array(p.length);
  for (const j of order.slice(0, k)) out[j] = p[j];
  const s = out.reduce((a, b) => a + b, 0);
  return out.map((x) => x / s);
}

/** Nucleus filter: the smallest most-likely set whose mass reaches `top`, renormalised. */
export function topP(p: ArrayLike<number>, top: number): Float64Array {
  const order = Array.from({ length: p.length }, (_, j) => j).sort((a, b) => p[b] - p[a] || a - b);
  const out = new Float64Array(p.length);
  let mass = 0;
  for (const j of order) {
    if (mass >= top) break;
    out[j] = p[j];
    mass += p[j];
  }
  const s = out.reduce((a, b) => a + b, 0);
  return out.map((x) => x / s);
}

export function counts(samples: Iterable<number>, size: number): number[] {
  const c = new Array<number>(size).fill(0);
  for (const s of samples) c[s]++;
  return c;
}

/** An order-2 Markov model: the next-token distribution depends on the last two tokens. */
export class Markov2 {
  readonly table: Float64Array[];

  constructor(
    readonly vocab: number,
    make: (a: number, b: number) => Float64Array,
  ) {
    this.table = [];
    for (let a = 0; a < vocab; a++) for (let b = 0; b < vocab; b++) this.table.push(make(a, b));
  }

  /** Next-token distribution after `context` (at least two tokens). */
  next(context: readonly number[]): Float64Array {
    const n = context.length;
    return this.table[context[n - 2] * this.vocab + context[n - 1]];
  }

  /** Exact probability of every continuation of `m` tokens, indexed in base vocab (first token most significant). */
  joint(context: readonly number[], m: number): Float64Array {
    const v = this.vocab;
    const out = new Float64Array(v ** m);
    const walk = (ctx: number[], depth: number, index: number, prob: number) => {
      if (depth === m) {
        out[index] = prob;
        return;
      }
      const p = this.next(ctx);
      for (let x = 0; x < v; x++) if (p[x] > 0) walk([...ctx, x], depth + 1, index * v + x, prob * p[x]);
    };
    walk([...context], 0, 0, 1);
    return out;
  }

  /** Greedy decoding (first index on ties). */
  greedy(context: readonly number[], m: number): number[] {
    const ctx = [...context];
    for (let i = 0; i < m; i++) {
      const p = this.next(ctx);
      let best = 0;
      for (let j = 1; j < p.length; j++) if (p[j] > p[best]) best = j;
      ctx.push(best);
    }
    return ctx.slice(context.length);
  }
}

/** Index of a token sequence in Markov2.joint's layout. */
export const sequenceIndex = (tokens: readonly number[], vocab: number) =>
  tokens.reduce((acc, t) => acc * vocab + t, 0);
