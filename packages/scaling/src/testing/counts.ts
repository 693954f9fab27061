/**
 * @file Small helpers of the resampler tests: copies per particle, pooled counts over repeated draws.
 */
import { rng } from '@hasten/core-tensor';
import type { Resampler } from '../particles/resampler';

export function countsOf(ancestors: ArrayLike<number>, particles: number): number[] {
  const c = new Array(particles).fill(0);
  for (let i = 0; i < ancestors.length; i++) c[ancestors[i]]++;
  return c;
}

/** Copies per particle of `repeats` draws of `n` ancestors from one seeded stream. */
export function repeatedCounts(
  resample: Resampler,
  w: number[],
  n: number,
  repeats: number,
  seed: number,
): number[][] {
  const r = rng(seed);
  return Array.from({ length: repeats }, () => countsOf(resample(w, n, r), w.length));
}

export const sumColumns = (rows: number[][]) => rows[0].map((_, i) => rows.reduce((s, r) => s + r[i], 0));
