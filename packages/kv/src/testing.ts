/**
 * @file Test helpers shared by the KV caches' tests (not exported): seeded random keys and values
 * with their expected contents as nested arrays, and reading a cache back against them.
 */
import { rng, type Tensor, tensor } from '@hasten/core-tensor';
import { expect } from 'vitest';
import type { KVCache } from './kv-cache';

// Seeded uniform values in [-1, 1) from the Philox stream, so failures reproduce.
export function uniforms(seed: number): () => number {
  const r = rng(seed);
  return () => Math.fround(r.uniform(1)[0] * 2 - 1);
}

/** Random [B, KV, S, D] values as a nested JS array (the expected contents) and a tensor. */
export function randomKV(
  rand: () => number,
  [B, KV, S, D]: readonly number[],
): { vals: number[][][][]; t: Tensor } {
  const vals = Array.from({ length: B }, () =>
    Array.from({ length: KV }, () => Array.from({ length: S }, () => Array.from({ length: D }, rand))),
  );
  return { vals, t: tensor(vals) };
}

/** Concatenate expected [B, KV, S, D] values along the position axis, flattened. */
export function cat(parts: number[][][][][]): number[] {
  const out: number[] = [];
  const [batch, heads] = [parts[0].length, parts[0][0].length];
  for (let b = 0; b < batch; b++)
    for (let h = 0; h < heads; h++) for (const p of parts) for (const row of p[b][h]) out.push(...row);
  return out;
}

/** Positions `idx` of expected [B, KV, S, D] values, in that order. */
export function pick(v: number[][][][], idx: readonly number[]): number[][][][] {
  return v.map((b) => b.map((h) => idx.map((i) => h[i])));
}

export async function expectClose(t: Tensor, want: number[], tol = 0): Promise<void> {
  const got = await t.array();
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(tol);
}

/** Every layer's keys and values are `want`. */
export async function expectEveryLayer(cache: KVCache, want: number[]): Promise<void> {
  for (let l = 0; l < cache.numLayers; l++) {
    await expectClose(cache.keys(l), want);
    await expectClose(cache.values(l), want);
  }
}

/**
 * A one-layer cache of head dim 2, written with k[..., 0:4:2] and v = k[..., 1:4:2] (a strided last
 * axis), holds the even and the odd elements of `want` (k's contents, flattened).
 */
export async function expectStridedLastAxis(c2: KVCache, k: Tensor, want: number[]): Promise<void> {
  c2.append(0, k.slice(3, 0, 4, 2), k.slice(3, 1, 4, 2));
  c2.commit();
  await expectClose(
    c2.keys(0),
    want.filter((_, i) => i % 2 === 0),
  );
  await expectClose(
    c2.values(0),
    want.filter((_, i) => i % 2 === 1),
  );
}

/** Append the same k and v to every layer, then commit. */
export function step(cache: KVCache, k: Tensor, v: Tensor): void {
  for (let l = 0; l < cache.numLayers; l++) cache.append(l, k, v);
  cache.commit();
}
