/**
 * A randomised stress test of the block pool: 3000 operations (requests that start from the prefix
 * cache, decode steps, failed steps rolled back, truncations, forks, disposals, accepted tree paths,
 * token recording) on a pool small enough to run out, with three tenants. After every operation:
 * the pool's invariants (refcounts = table entries naming each block, free blocks = exactly the
 * unreferenced blocks, prefix map consistent) and every live sequence's keys and values, against
 * the values its own tokens define. Keys and values depend on the tenant salt too, so a block that
 * crossed tenants, or that one sequence wrote while another could read it, shows as wrong data.
 *
 * Again on a quantized pool (KIVI 8-bit blocks, one block of f32 window, f32 storage for 16 of the
 * 26 blocks, so f32 storage runs out too): its own invariants as well, and every value within two
 * quantization steps of its definition (a truncation can send a block back to f32 as dequantized
 * values, quantized again later).
 */
import { cpuStorage, rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import type { KiviBits } from '../quantized/kivi';
import type { PagedKVCache } from './paged-cache';
import { PagedKVPool } from './pool';
import { expectPoolInvariants, extend, kvTensor, prefixHashes, saltHash, valueAt } from './testing';

const L = 2;
const KV = 1;
const D = 2;
const BS = 4;
const MAX = 40;

interface Seq {
  cache: PagedKVCache;
  salt: string | undefined;
  /** Per row: the tokens whose keys and values the cache holds (length = cache.length). */
  tokens: number[][];
  hashes: number[][];
  /** Per row: how many of them were recorded with recordTokens. */
  recorded: number[];
}

const variants: {
  name: string;
  quant?: { bits: KiviBits; residualBlocks: number; f32Blocks: number };
}[] = [
  { name: 'f32 blocks' },
  { name: 'KIVI 8-bit blocks', quant: { bits: 8, residualBlocks: 1, f32Blocks: 16 } },
];

describe.each(variants)('PagedKVPool allocator stress, $name', ({ quant }) => {
  it('keeps its invariants and every sequence intact through 3000 random operations', () => {
    const r = rng(20261201);
    // Values lie in [-8, 8): a quantization step is at most 16 / (2^bits − 1).
    const tol = quant ? (2 * 16) / ((1 << quant.bits) - 1) : 0;
    let quantizedSeen = 0;
    const uni = () => r.uniform(1)[0];
    const int = (n: number) => Math.floor(uni() * n);
    const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
    const pool = new PagedKVPool({
      numLayers: L,
      numKvHeads: KV,
      headDim: D,
      numBlocks: 26,
      blockSize: BS,
      maxLength: MAX,
      ...(quant && { quantization: quant }),
    });
    const bases = Array.from({ length: 3 }, () => Array.from({ length: 16 }, () => int(6)));
    const live: Seq[] = [];
    const seen = { hits: 0, exhausted: 0, f32Exhausted: 0, forks: 0, trees: 0 };

    /** Appends `rows` (new tokens per row, same count) to every layer and commits; the shadow follows. */
    const step = (s: Seq, rows: number[][]) => {
      const start = s.cache.length;
      const hashes = rows.map((t, b) => [
        ...s.hashes[b],
        ...prefixHashes([...s.tokens[b], ...t], s.salt).slice(start),
      ]);
      for (let l = 0; l < L; l++) {
        const k = kvTensor(hashes, start, rows[0].length, l, 0, KV, D);
        const v = kvTensor(hashes, start, rows[0].length, l, 1, KV, D);
        s.cache.append(l, k, v);
        k.dispose();
        v.dispose();
      }
      s.cache.commit();
      rows.forEach((t, b) => {
        s.tokens[b].push(...t);
        s.hashes[b] = hashes[b];
      });
    };
    /** `fn` may fail only because the pool is exhausted; then the cache rolls back. */
    const tryStep = (s: Seq, fn: () => void) => {
      try {
        fn();
      } catch (e) {
        expect((e as Error).message).toMatch(/the block pool is exhausted/);
        seen.exhausted++;
        if (/new blocks in f32/.test((e as Error).message)) seen.f32Exhausted++;
        s.cache.rollback();
      }
    };
    const record = (s: Seq) => {
      s.cache.recordTokens(s.tokens.map((t, b) => t.slice(s.recorded[b])));
      s.recorded = s.tokens.map((t) => t.length);
    };
    const newSeq = (cache: PagedKVCache, salt: string | undefined): Seq => ({
      cache,
      salt,
      tokens: Array.from({ length: cache.batch }, () => []),
      hashes: Array.from({ length: cache.batch }, () => []),
      recorded: new Array(cache.batch).fill(0),
    });

    const ops: Record<string, () => void> = {
      start() {
        if (live.length >= 7) return;
        const batch = uni() < 0.8 ? 1 : 2;
        const salt = pick([undefined, 'tenant-a', 'tenant-b']);
        const len = 4 + int(13);
        const prompts = Array.from({ length: batch }, () => {
          const p = pick(bases).slice(0, len);
          for (let i = int(3); i > 0; i--) p[len - i] = int(6);
          return p;
        });
        const s = newSeq(pool.createCache({ batch, salt }), salt);
        live.push(s);
        if (uni() < 0.85) {
          const m = s.cache.matchPrefix(prompts);
          expect(m % BS === 0 && m <= len - 1).toBe(true);
          seen.hits += m;
          prompts.forEach((p, b) => {
            s.tokens[b] = p.slice(0, m);
            s.hashes[b] = prefixHashes(s.tokens[b], salt);
          });
          s.recorded = new Array(batch).fill(m);
        }
        tryStep(s, () =>
          step(
            s,
            prompts.map((p) => p.slice(s.cache.length)),
          ),
        );
        if (uni() < 0.8) record(s);
      },
      decode() {
        const s = pick(live);
        const n = 1 + int(3);
        if (!s || s.cache.length + n > MAX) return;
        tryStep(s, () =>
          step(
            s,
            s.tokens.map(() => Array.from({ length: n }, () => int(6))),
          ),
        );
        if (uni() < 0.7) record(s);
      },
      failedStep() {
        const s = pick(live);
        if (!s || s.cache.length + 2 > MAX) return;
        // A forward that throws after writing some layers: the model calls rollback().
        tryStep(s, () => {
          const hashes = s.hashes.map((h) => [...h, 1, 2]);
          const k = kvTensor(hashes, s.cache.length, 2, 0, 0, KV, D);
          s.cache.append(0, k, k);
          k.dispose();
        });
        s.cache.rollback();
      },
      truncate() {
        const s = pick(live);
        if (!s) return;
        const n = int(s.cache.length + 1);
        s.cache.truncate(n);
        s.tokens = s.tokens.map((t) => t.slice(0, n));
        s.hashes = s.hashes.map((h) => h.slice(0, n));
        s.recorded = s.recorded.map((x) => Math.min(x, n));
      },
      fork() {
        const s = pick(live);
        if (!s || live.length >= 7) return;
        live.push({
          cache: s.cache.fork(),
          salt: s.salt,
          tokens: s.tokens.map((t) => [...t]),
          hashes: s.hashes.map((h) => [...h]),
          recorded: [...s.recorded],
        });
        seen.forks++;
      },
      dispose() {
        if (live.length === 0) return;
        const [s] = live.splice(int(live.length), 1);
        s.cache.dispose();
      },
      tree() {
        // Speculative tree: nodes after the context, each a child of the context end or of an
        // earlier node; one root-to-node path is accepted (keepPositions) as a tree verifier does.
        const s = pick(live);
        const n = 2 + int(4);
        if (!s || s.cache.length === 0 || s.cache.length + n > MAX) return;
        const len0 = s.cache.length;
        const parent = Array.from({ length: n }, (_, i) => (i === 0 ? -1 : int(i + 1) - 1));
        const toks = s.tokens.map(() => Array.from({ length: n }, () => int(6)));
        const nodeHash = toks.map((t, b) => {
          const h: number[] = [];
          for (let i = 0; i < n; i++)
            h.push(extend(parent[i] < 0 ? s.hashes[b][len0 - 1] : h[parent[i]], t[i]));
          return h;
        });
        let ok = true;
        tryStep(s, () => {
          const all = nodeHash.map((h, b) => [...s.hashes[b], ...h]);
          for (let l = 0; l < L; l++) {
            const k = kvTensor(all, len0, n, l, 0, KV, D);
            const v = kvTensor(all, len0, n, l, 1, KV, D);
            s.cache.append(l, k, v);
            k.dispose();
            v.dispose();
          }
          s.cache.commit();
        });
        if (s.cache.length === len0) ok = false;
        if (!ok) return;
        const path: number[] = [];
        for (let i = int(n); i >= 0; i = parent[i]) path.unshift(i);
        tryStep(s, () => {
          s.cache.keepPositions(
            len0,
            path.map((i) => len0 + i),
          );
          s.tokens = s.tokens.map((t, b) => [...t, ...path.map((i) => toks[b][i])]);
          s.hashes = s.hashes.map((h, b) => [...h, ...path.map((i) => nodeHash[b][i])]);
          seen.trees++;
        });
        if (s.cache.length !== s.tokens[0].length) {
          // keepPositions failed for want of a block: drop the tree positions.
          s.cache.truncate(len0);
        }
      },
      record() {
        const s = pick(live);
        if (s) record(s);
      },
    };
    // Each operation's share of the run.
    const weights: [string, number][] = [
      ['start', 4],
      ['decode', 6],
      ['failedStep', 1],
      ['truncate', 2],
      ['fork', 2],
      ['dispose', 3],
      ['tree', 2],
      ['record', 1],
    ];
    const deck = weights.flatMap(([name, w]) => new Array<string>(w).fill(name));

    for (let it = 0; it < 3000; it++) {
      const name = pick(deck);
      ops[name]();
      expectPoolInvariants(
        pool,
        live.map((s) => s.cache),
      );
      for (const s of live) {
        quantizedSeen = Math.max(quantizedSeen, s.cache.quantizedBlocks);
        expect(s.cache.length).toBe(s.tokens[0].length);
        for (let b = 0; b < s.cache.batch; b++) {
          expect(s.cache.tokenIds(b)).toEqual(s.tokens[b].slice(0, s.recorded[b]));
        }
        for (let l = 0; l < L; l++) {
          for (const kind of [0, 1] as const) {
            const t = kind === 0 ? s.cache.keys(l) : s.cache.values(l);
            const got = cpuStorage(t) as Float32Array;
            const T = s.cache.length;
            for (let b = 0; b < s.cache.batch; b++)
              for (let h = 0; h < KV; h++)
                for (let p = 0; p < T; p++)
                  for (let d = 0; d < D; d++) {
                    const want = valueAt(s.hashes[b][p], l, kind, h, d);
                    const at = ((b * KV + h) * T + p) * D + d;
                    if (!(Math.abs(got[t.offset + at] - want) <= tol)) {
                      expect.fail(
                        `op ${it} (${name}): salt ${s.salt} row ${b} layer ${l} ${kind ? 'value' : 'key'} position ${p} is ${got[t.offset + at]}, want ${want}`,
                      );
                    }
                  }
            t.dispose();
          }
        }
      }
    }
    const stats = pool.stats();
    // The run reached every path it is meant to test.
    expect(seen.hits).toBeGreaterThan(0);
    expect(seen.exhausted).toBeGreaterThan(0);
    expect(seen.forks).toBeGreaterThan(0);
    expect(seen.trees).toBeGreaterThan(0);
    expect(stats.prefixCache.evictions).toBeGreaterThan(0);
    expect(stats.copyOnWriteCopies).toBeGreaterThan(0);
    if (quant) {
      expect(quantizedSeen).toBeGreaterThan(3);
      expect(seen.f32Exhausted).toBeGreaterThan(0);
    }
    expect(saltHash('tenant-a')).not.toBe(saltHash('tenant-b'));
    for (const s of live) s.cache.dispose();
    expectPoolInvariants(pool, []);
    expect(pool.stats().usedBlocks).toBe(0);
  });
});
