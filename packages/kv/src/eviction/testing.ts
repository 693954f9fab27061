/**
 * @file The hand-made example the eviction tests share (not exported): one batch row, 2 kv heads,
 * 6 positions, head dim 2, and two queries per head (positions 4 and 5), with the dot products q·k
 * worked out by hand; plus a naive softmax and a score comparison.
 */
import { type Tensor, tensor } from '@hasten/core-tensor';
import { ContiguousKVCache } from '../contiguous';
import { step } from '../testing';

/** Keys [1, 2, 6, 2]. */
export const K = [
  [
    [
      [1, 0],
      [0, 1],
      [3, 4],
      [0, 0],
      [1, 1],
      [2, 0],
    ],
    [
      [0, 2],
      [1, 0],
      [0, 0],
      [6, 8],
      [1, 0],
      [0, 1],
    ],
  ],
];
/** Values [1, 2, 6, 2]: distinct from the keys so a test can tell them apart. */
export const V = K.map((b) => b.map((h, j) => h.map((row, p) => [10 * j + p, -row[0] - 0.5])));

/** Queries [1, 2, 2, 2]: head 0 asks [1, 0] then [0, 1], head 1 [0, 1] then [1, 1]. */
export const Q = new Float32Array([1, 0, 0, 1, 0, 1, 1, 1]);

/**
 * q·k by hand, per (query head, query): query 0 sits at position 4 and sees positions 0..4, query 1
 * at position 5 sees 0..5.
 */
export const DOTS = [
  [
    [1, 0, 3, 0, 1],
    [0, 1, 4, 0, 1, 0],
  ],
  [
    [2, 0, 0, 8, 0],
    [2, 1, 0, 14, 1, 1],
  ],
];

/** softmax(dots / √2), padded with zeros to 6 positions (the masked ones). */
export function softmax6(dots: number[]): number[] {
  const e = dots.map((d) => Math.exp(d / Math.SQRT2));
  const z = e.reduce((a, b) => a + b, 0);
  return [...e.map((x) => x / z), 0, 0, 0, 0, 0, 0].slice(0, 6);
}

/** The example's attention weights A[head][query][position]. */
export const A = DOTS.map((h) => h.map(softmax6));

export const keysT = (): Tensor => tensor(K);
export const valuesT = (): Tensor => tensor(V);

/** A one-layer contiguous cache holding the example. */
export function exampleCache(numLayers = 1): ContiguousKVCache {
  const cache = new ContiguousKVCache({ numLayers, batch: 1, numKvHeads: 2, headDim: 2, maxLength: 16 });
  step(cache, keysT(), valuesT());
  return cache;
}

/** Scores equal `want` to 1e-12 (+Infinity exactly). */
export function scoreMismatch(got: ArrayLike<number>, want: readonly number[]): string | null {
  if (got.length !== want.length) return `${got.length} scores, expected ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    const ok = want[i] === Infinity ? got[i] === Infinity : Math.abs(got[i] - want[i]) < 1e-12;
    if (!ok) return `score ${i}: ${got[i]} vs ${want[i]}`;
  }
  return null;
}
