/**
 * Paged attention equals contiguous attention: a PagedKVCache and a ContiguousKVCache twin receive
 * the same keys and values through random requests (batches of 1 and 2), decode steps, forks,
 * truncations, accepted tree paths and disposals, on a pool small enough that prefix hits and
 * evictions happen (a request that starts from cached blocks is compared with a twin that prefilled
 * everything). After every operation, for every layer, core-tensor's pagedSdpa over the paged
 * cache's attentionView must give what sdpa gives over the twin's keys and values, for decode and
 * chunk queries, causal and masked.
 *
 * The same run on quantized pools (KIVI blocks, 8, 4 and 2 bits) against a QuantizedKVCache twin of
 * the same bits, group (= blockSize) and residual (= residualBlocks · blockSize): the paged cache's
 * `attend` (it has no attentionView) must give the twin's `attend` within 1e-5. A prefix hit on quantized blocks hands the
 * twin what the paged cache holds there (its dequantized keys and values, checked against the
 * definition within the quantization error), since a released cached block is kept quantized only.
 */
import { fromStorageArray, pagedSdpa, readF64, rng, sdpa, type Tensor, tensor } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { ContiguousKVCache } from '../contiguous';
import type { KVCache } from '../kv-cache';
import type { KiviBits } from '../quantized/kivi';
import { QuantizedKVCache } from '../quantized/quantized-cache';
import type { PagedKVCache } from './paged-cache';
import { PagedKVPool } from './pool';
import { expectPoolInvariants, extend, kvTensor, prefixHashes } from './testing';

const L = 2;
const KV = 2;
const HQ = 4;
const D = 8;
const MAX = 44;

interface Pair {
  paged: PagedKVCache;
  dense: ContiguousKVCache | QuantizedKVCache;
  salt: string | undefined;
  hashes: number[][];
}

/** A quantized cache's `attend`. */
function attend(c: KVCache, l: number, q: Tensor, opts: { causal?: boolean; mask?: Tensor }): Tensor {
  if (!c.attend) throw new Error('the cache has no attend');
  return c.attend(l, q, opts);
}

const variants: { name: string; quant?: { bits: KiviBits; residualBlocks: number } }[] = [
  { name: 'f32 blocks = ContiguousKVCache' },
  { name: 'KIVI 8-bit blocks, 2 in f32 = QuantizedKVCache', quant: { bits: 8, residualBlocks: 2 } },
  { name: 'KIVI 4-bit blocks, 1 in f32 = QuantizedKVCache', quant: { bits: 4, residualBlocks: 1 } },
  { name: 'KIVI 2-bit blocks, none in f32 = QuantizedKVCache', quant: { bits: 2, residualBlocks: 0 } },
];

describe.each(variants)('paged attention: $name', ({ quant }) => {
  it('through 400 random operations with forks, prefix hits and evictions', async () => {
    const r = rng(7_2026 + (quant?.bits ?? 0));
    const uni = () => r.uniform(1)[0];
    const int = (n: number) => Math.floor(uni() * n);
    const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
    const pool = new PagedKVPool({
      numLayers: L,
      numKvHeads: KV,
      headDim: D,
      numBlocks: 34,
      blockSize: 4,
      maxLength: MAX,
      ...(quant && { quantization: quant }),
    });
    let quantizedSeen = 0;
    const bases = Array.from({ length: 3 }, () => Array.from({ length: 20 }, () => int(5)));
    const live: Pair[] = [];
    let compared = 0;

    const write = (p: Pair, hashes: number[][], n: number) => {
      const start = p.paged.length;
      try {
        for (let l = 0; l < L; l++) {
          const k = kvTensor(hashes, start, n, l, 0, KV, D);
          const v = kvTensor(hashes, start, n, l, 1, KV, D);
          p.paged.append(l, k, v);
          k.dispose();
          v.dispose();
        }
        p.paged.commit();
      } catch (e) {
        expect((e as Error).message).toMatch(/exhausted/);
        p.paged.rollback();
        return false;
      }
      for (let l = 0; l < L; l++) {
        const k = kvTensor(hashes, start, n, l, 0, KV, D);
        const v = kvTensor(hashes, start, n, l, 1, KV, D);
        p.dense.append(l, k, v);
      }
      p.dense.commit();
      p.hashes = hashes;
      return true;
    };
    const twin = (batch: number) => {
      const o = { numLayers: L, batch, numKvHeads: KV, headDim: D, maxLength: MAX };
      return quant
        ? new QuantizedKVCache({ ...o, bits: quant.bits, groupSize: 4, residual: 4 * quant.residualBlocks })
        : new ContiguousKVCache(o);
    };

    const ops: Record<string, () => void> = {
      start() {
        if (live.length >= 6) return;
        const batch = uni() < 0.7 ? 1 : 2;
        const salt = pick([undefined, 'x']);
        const len = 3 + int(18);
        const prompts = Array.from({ length: batch }, () => {
          const q = pick(bases).slice(0, len);
          if (uni() < 0.5) q[len - 1 - int(3)] = int(5);
          return q;
        });
        const paged = pool.createCache({ batch, salt });
        const dense = twin(batch);
        const p: Pair = { paged, dense, salt, hashes: prompts.map(() => []) };
        live.push(p);
        const m = paged.matchPrefix(prompts);
        const all = prompts.map((q) => prefixHashes(q, salt));
        if (m > 0) {
          // The twin computes the matched part itself (f32), or takes what the paged cache holds
          // there, within the quantization error of it (KIVI).
          for (let l = 0; l < L; l++) {
            const k = kvTensor(all, 0, m, l, 0, KV, D);
            const v = kvTensor(all, 0, m, l, 1, KV, D);
            if (quant) {
              const [pk, pv] = [paged.keys(l), paged.values(l)];
              // Values lie in [-8, 8): a step is at most 16 / (2^bits − 1), the error half of it.
              const tol = 8 / ((1 << quant.bits) - 1) + 1e-6;
              for (const [a, want] of [
                [pk, k],
                [pv, v],
              ]) {
                const x = readF64(a);
                const y = readF64(want);
                for (let i = 0; i < y.length; i++) expect(Math.abs(x[i] - y[i])).toBeLessThanOrEqual(tol);
              }
              dense.append(l, pk, pv);
            } else dense.append(l, k, v);
          }
          dense.commit();
          p.hashes = all.map((h) => h.slice(0, m));
        }
        if (write(p, all, len - m)) paged.recordTokens(prompts.map((q) => q.slice(m)));
        else {
          paged.truncate(m);
          dense.truncate(m);
        }
      },
      decode() {
        const p = pick(live);
        if (!p || p.paged.length === 0 || p.paged.length + 2 > MAX) return;
        const n = 1 + int(2);
        const toks = p.hashes.map(() => Array.from({ length: n }, () => int(5)));
        const hashes = p.hashes.map((h, b) => {
          const out = [...h];
          for (const t of toks[b]) out.push(extend(out[out.length - 1], t));
          return out;
        });
        if (write(p, hashes, n) && p.paged.tokenIds(0).length === p.paged.length - n)
          p.paged.recordTokens(toks);
      },
      fork() {
        const p = pick(live);
        if (!p || live.length >= 6) return;
        live.push({
          paged: p.paged.fork(),
          dense: p.dense.fork(),
          salt: p.salt,
          hashes: p.hashes.map((h) => [...h]),
        });
      },
      truncate() {
        const p = pick(live);
        if (!p) return;
        const n = Math.max(1, p.paged.length - int(6));
        if (n > p.paged.length) return;
        p.paged.truncate(n);
        p.dense.truncate(n);
        p.hashes = p.hashes.map((h) => h.slice(0, n));
      },
      tree() {
        const p = pick(live);
        if (!p || p.paged.length === 0 || p.paged.length + 4 > MAX) return;
        const len0 = p.paged.length;
        const hashes = p.hashes.map((h) => [...h, ...Array.from({ length: 4 }, () => int(1 << 30))]);
        if (!write(p, hashes, 4)) return;
        const kept = [len0, len0 + 1, len0 + 2, len0 + 3].filter(() => uni() < 0.5);
        try {
          p.paged.keepPositions(len0, kept);
        } catch (e) {
          expect((e as Error).message).toMatch(/exhausted/);
          p.paged.truncate(len0);
          p.dense.truncate(len0);
          p.hashes = p.hashes.map((h) => h.slice(0, len0));
          return;
        }
        p.dense.keepPositions(len0, kept);
        p.hashes = hashes.map((h) => [...h.slice(0, len0), ...kept.map((i) => h[i])]);
      },
      dispose() {
        if (live.length < 2) return;
        const [p] = live.splice(int(live.length), 1);
        p.paged.dispose();
        p.dense.dispose();
      },
    };
    const names = [
      'start',
      'start',
      'decode',
      'decode',
      'decode',
      'fork',
      'truncate',
      'tree',
      'dispose',
      'dispose',
    ];

    for (let it = 0; it < 400; it++) {
      const name = pick(names);
      ops[name]();
      expectPoolInvariants(
        pool,
        live.map((p) => p.paged),
      );
      for (const p of live) {
        quantizedSeen = Math.max(quantizedSeen, p.paged.quantizedBlocks);
        const T = p.paged.length;
        expect(p.dense.length).toBe(T);
        if (T === 0) continue;
        const B = p.paged.batch;
        const S = Math.min(T, pick([1, 1, 3]));
        const q = tensor(
          Float32Array.from({ length: B * HQ * S * D }, () => uni() * 4 - 2),
          [B, HQ, S, D],
        );
        let mask: Tensor | undefined;
        if (uni() < 0.3) {
          const m = Uint8Array.from({ length: B * S * T }, () => (uni() < 0.7 ? 1 : 0));
          mask = fromStorageArray(m, [B, 1, S, T], 'bool');
        }
        const opts = mask ? { mask } : { causal: true };
        for (let l = 0; l < L; l++) {
          const view = p.paged.attentionView;
          const got = await (view ? pagedSdpa(q, view(l), opts) : attend(p.paged, l, q, opts)).data();
          const want = await (p.dense instanceof QuantizedKVCache
            ? attend(p.dense, l, q, opts)
            : sdpa(q, p.dense.keys(l), p.dense.values(l), opts)
          ).data();
          const tol = (x: number) => (quant ? 1e-5 : 2 ** -22 * (Math.abs(x) + 8));
          for (let i = 0; i < want.length; i++) {
            if (!(Math.abs(got[i] - want[i]) <= tol(want[i]))) {
              expect.fail(
                `op ${it} (${name}) layer ${l}: element ${i} is ${got[i]} paged, ${want[i]} contiguous`,
              );
            }
          }
          compared++;
        }
      }
    }
    const s = pool.stats();
    expect(compared).toBeGreaterThan(1000);
    expect(s.prefixCache.hitTokens).toBeGreaterThan(0);
    expect(s.prefixCache.evictions).toBeGreaterThan(0);
    expect(s.copyOnWriteCopies).toBeGreaterThan(0);
    if (quant) expect(quantizedSeen).toBeGreaterThan(2);
  });
});
