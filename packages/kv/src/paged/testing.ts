/**
 * @file Test helpers for the paged cache (not exported): keys and values that are a function of the
 * token prefix (as a real model's are), so a block found in the prefix cache must hold exactly what
 * the request would have computed; and the pool invariants, checked from the outside.
 */
import { type Tensor, tensor } from '@hasten/core-tensor';
import { expect } from 'vitest';
import type { PagedKVCache } from './paged-cache';
import type { PagedKVPool } from './pool';

/** Hash of a token prefix, extended one token at a time (any mixing will do; salt-dependent). */
export function extend(h: number, token: number): number {
  return Math.imul(h ^ (token + 0x9e37), 0x85ebca6b) ^ (h >>> 13);
}

export function saltHash(salt: string | undefined): number {
  let h = 0x1234567;
  for (const ch of salt ?? '') h = extend(h, ch.charCodeAt(0) + 1000);
  return h;
}

/** Prefix hashes of `tokens` (entry p covers tokens 0..p). */
export function prefixHashes(tokens: readonly number[], salt: string | undefined): number[] {
  const out: number[] = [];
  let h = saltHash(salt);
  for (const t of tokens) {
    h = extend(h, t);
    out.push(h);
  }
  return out;
}

/** The value a "model" stores at a position whose prefix hash is h: exact in f32. */
export function valueAt(h: number, layer: number, kind: number, head: number, d: number): number {
  const x = Math.imul(h, 1 + layer * 7 + kind * 3 + head * 11 + d * 13) >>> 16;
  return x / 4096 - 8;
}

/** K or V [B, KV, S, D] for positions start .. start + S - 1 of rows with these prefix hashes. */
export function kvTensor(
  hashes: readonly (readonly number[])[],
  start: number,
  S: number,
  layer: number,
  kind: 0 | 1,
  KV: number,
  D: number,
): Tensor {
  const B = hashes.length;
  const vals = new Float32Array(B * KV * S * D);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < KV; h++)
      for (let s = 0; s < S; s++)
        for (let d = 0; d < D; d++)
          vals[((b * KV + h) * S + s) * D + d] = valueAt(hashes[b][start + s], layer, kind, h, d);
  return tensor(vals, [B, KV, S, D]);
}

/**
 * Refcounts equal the number of block-table entries naming each block (over `live`, the caches the
 * test holds, which must be the pool's live caches); the free blocks are exactly the unreferenced
 * ones, once each, empty ones (lowest id first) before cached ones; the prefix map and the blocks'
 * keys agree.
 */
export function expectPoolInvariants(pool: PagedKVPool, live: readonly PagedKVCache[]): void {
  expect(new Set(pool.liveCaches())).toEqual(new Set(live));
  const snap = pool.snapshot();
  const counts = new Int32Array(pool.numBlocks);
  for (const c of live) for (let b = 0; b < c.batch; b++) for (const id of c.blockTable(b)) counts[id]++;
  for (let id = 0; id < pool.numBlocks; id++) {
    if (snap.refCounts[id] !== counts[id]) {
      expect.fail(`block ${id}: refcount ${snap.refCounts[id]} but ${counts[id]} table entries name it`);
    }
  }
  const free = snap.freeQueue;
  expect(new Set(free).size, 'a free block listed twice').toBe(free.length);
  const unreferenced = [...counts.keys()].filter((id) => counts[id] === 0);
  expect(
    [...free].sort((a, b) => a - b),
    'free blocks = unreferenced blocks (none leaked, none in use)',
  ).toEqual(unreferenced);
  // Allocation order: empty blocks (lowest id first), then cached ones.
  const firstCached = free.findIndex((id) => snap.keys[id] !== null);
  const empties = firstCached >= 0 ? free.slice(0, firstCached) : free;
  expect(empties, 'empty blocks in increasing id order').toEqual([...empties].sort((a, b) => a - b));
  expect(
    free.slice(empties.length).every((id) => snap.keys[id] !== null),
    'empty blocks come before cached ones',
  ).toBe(true);
  for (const [key, id] of snap.cached) expect(snap.keys[id]).toBe(key);
  snap.keys.forEach((key, id) => {
    if (key !== null) expect(snap.cached.get(key)).toBe(id);
  });
  const s = pool.stats();
  expect(s.freeBlocks + s.cachedBlocks + s.usedBlocks).toBe(pool.numBlocks);
}
