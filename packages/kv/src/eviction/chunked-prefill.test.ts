import { readF64, type Tensor, tensor } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { ContiguousKVCache } from '../contiguous';
import { QuantizedKVCache } from '../quantized/quantized-cache';
import { uniforms } from '../testing';
import { chunkedPrefill } from './chunked-prefill';
import { h2o } from './h2o';
import { linearHead } from './learned-scorer';
import { randomScores } from './random';
import type { ScorePolicy } from './scorer';
import { snapKV } from './snapkv';
import { streamingLLM } from './streaming-llm';
import { toyLM } from './toy-lm';

const model = toyLM({ seed: 5 });
const { numLayers, numKvHeads, headDim, vocab } = model.config;
const perPosition = numKvHeads * headDim * 4 * 2 * numLayers; // bytes of one position, keys + values, all layers

function prompt(seed: number, n: number): number[] {
  const r = uniforms(seed);
  return Array.from({ length: n }, () => Math.floor(((r() + 1) / 2) * vocab));
}

const cacheFor = (maxLength: number, capacity?: number) =>
  new ContiguousKVCache({ numLayers, batch: 1, numKvHeads, headDim, maxLength, capacity });

async function plainPrefill(
  ids: number[],
  logitsToKeep: number,
): Promise<{ logits: Tensor; cache: ContiguousKVCache }> {
  const cache = cacheFor(256);
  const t = tensor(Int32Array.from(ids), [1, ids.length], { dtype: 'i32' });
  const { logits } = await model.forward({ tokens: t, cache, logitsToKeep });
  t.dispose();
  return { logits, cache };
}

const policies: ScorePolicy[] = [
  streamingLLM({ sinks: 2 }),
  h2o(),
  snapKV({ kernelSize: 3 }),
  linearHead({ weights: [0.1, -0.2, 1], window: 2 }),
];

describe('chunkedPrefill (Locret: eviction between prefill chunks)', () => {
  it('with budget >= prompt length equals a plain prefill exactly (logits and cache)', async () => {
    const ids = prompt(1, 53);
    const plain = await plainPrefill(ids, 3);
    const want = readF64(plain.logits);
    for (const policy of policies)
      for (const chunkSize of [1, 7, 16, 53, 80]) {
        const cache = cacheFor(256);
        const res = await chunkedPrefill({
          model,
          cache,
          tokens: ids,
          chunkSize,
          budget: 53,
          policy,
          logitsToKeep: chunkSize === 1 ? 1 : 3,
        });
        expect(res.chunks).toBe(Math.ceil(53 / chunkSize));
        expect(res.evicted).toBe(0);
        expect(cache.length).toBe(53);
        const got = readF64(res.logits);
        // logits of the last positions are bit-identical to the plain forward's
        expect(Array.from(got)).toEqual(Array.from(want.subarray(want.length - got.length)));
        for (let l = 0; l < numLayers; l++) {
          const [a, b] = [cache.keys(l), plain.cache.keys(l)];
          expect(Array.from(readF64(a))).toEqual(Array.from(readF64(b)));
          a.dispose();
          b.dispose();
        }
        res.logits.dispose();
        cache.dispose();
      }
    plain.logits.dispose();
    plain.cache.dispose();
  });

  it('with a budget, the cache never holds more than budget + C positions', async () => {
    const ids = prompt(2, 120);
    for (const policy of policies)
      for (const [budget, C] of [
        [16, 8],
        [10, 25],
        [40, 1],
      ]) {
        // Capacity exactly budget + C: a ContiguousKVCache doubles its buffer when it overflows, so an
        // unchanged allocation shows the bound physically.
        const cache = cacheFor(256, budget + C);
        const allocated = cache.memory().allocatedBytes;
        expect(allocated).toBe((budget + C) * perPosition);
        const res = await chunkedPrefill({ model, cache, tokens: ids, chunkSize: C, budget, policy });
        expect(res.peakPositions).toBeLessThanOrEqual(budget + C);
        expect(res.peakPositions).toBeGreaterThan(budget); // it did overflow the budget between compressions
        expect(res.peakUsedBytes).toBeLessThanOrEqual((budget + C) * perPosition);
        expect(cache.memory().allocatedBytes).toBe(allocated);
        expect(cache.length).toBe(budget);
        expect(res.evicted).toBe(120 - budget);
        expect(cache.positionOffset).toBe(120 - budget);
        expect(res.logits.shape).toEqual([1, 1, vocab]);
        expect(readF64(res.logits).every(Number.isFinite)).toBe(true);
        res.logits.dispose();
        cache.dispose();
      }
  });

  it("keeps StreamingLLM positions at their true positions (layer-0 keys equal the full prefill's)", async () => {
    // Layer-0 keys depend only on their own token and true position, so the kept ones must equal the
    // full prefill's keys at the sinks and the last positions.
    const ids = prompt(3, 60);
    const plain = await plainPrefill(ids, 1);
    const cache = cacheFor(256);
    const res = await chunkedPrefill({
      model,
      cache,
      tokens: ids,
      chunkSize: 9,
      budget: 20,
      policy: streamingLLM({ sinks: 4 }),
    });
    const kept = [0, 1, 2, 3, ...Array.from({ length: 16 }, (_, i) => 44 + i)];
    const a = readF64(cache.keys(0));
    const full = readF64(plain.cache.keys(0));
    for (let h = 0; h < numKvHeads; h++)
      kept.forEach((p, i) => {
        for (let d = 0; d < headDim; d++)
          expect(a[(h * 20 + i) * headDim + d]).toBe(full[(h * 60 + p) * headDim + d]);
      });
    res.logits.dispose();
    plain.logits.dispose();
  });

  it("Locret's stabilizer keeps the last n positions whatever the policy scores", async () => {
    const ids = prompt(6, 75);
    const plain = await plainPrefill(ids, 1);
    const full = readF64(plain.cache.keys(0));
    const n = 6;
    const cache = cacheFor(256);
    const res = await chunkedPrefill({
      model,
      cache,
      tokens: ids,
      chunkSize: 10,
      budget: 12,
      stabilizer: n,
      policy: randomScores({ seed: 3 }),
    });
    expect(cache.length).toBe(12);
    const a = readF64(cache.keys(0));
    // the last n cached slots hold the prompt's last n positions (layer-0 keys match)
    for (let h = 0; h < numKvHeads; h++)
      for (let i = 0; i < n; i++)
        for (let d = 0; d < headDim; d++)
          expect(a[(h * 12 + 12 - n + i) * headDim + d]).toBe(full[(h * 75 + 75 - n + i) * headDim + d]);
    // without the stabilizer, random scores keep the last positions only by chance
    const c2 = cacheFor(256);
    await chunkedPrefill({
      model,
      cache: c2,
      tokens: ids,
      chunkSize: 10,
      budget: 12,
      policy: randomScores({ seed: 3 }),
    });
    const b = readF64(c2.keys(0));
    let same = 0;
    for (let i = 0; i < n; i++) if (b[(12 - n + i) * headDim] === full[(75 - n + i) * headDim]) same++;
    expect(same).toBeLessThan(n);
    await expect(
      chunkedPrefill({
        model,
        cache: cacheFor(64),
        tokens: ids,
        chunkSize: 10,
        budget: 4,
        stabilizer: 5,
        policy: h2o(),
      }),
    ).rejects.toThrow(/stabilizer 5 exceeds the budget 4/);
    res.logits.dispose();
    plain.logits.dispose();
  });

  it('runs through a QuantizedKVCache (fused attention) close to the f32 cache at 8 bits', async () => {
    const ids = prompt(4, 70);
    const plain = await plainPrefill(ids, 1);
    const cache = new QuantizedKVCache({
      numLayers,
      batch: 1,
      numKvHeads,
      headDim,
      maxLength: 256,
      bits: 8,
      groupSize: 8,
      residual: 8,
    });
    const res = await chunkedPrefill({ model, cache, tokens: ids, chunkSize: 16, budget: 70, policy: h2o() });
    const got = readF64(res.logits);
    const want = readF64(plain.logits);
    for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(0.05);
    expect(cache.layerView(0).qlen).toBeGreaterThan(0);
    res.logits.dispose();
    plain.logits.dispose();
  });

  it('rejects bad options with clear errors', async () => {
    const cache = cacheFor(64);
    const base = { model, cache, tokens: [1, 2, 3], chunkSize: 2, budget: 8, policy: h2o() };
    await expect(chunkedPrefill({ ...base, chunk: 2 } as never)).rejects.toThrow(/"chunk"/);
    await expect(chunkedPrefill({ ...base, tokens: [[1, 2], [3]] })).rejects.toThrow(/rows/);
    await expect(chunkedPrefill({ ...base, logitsToKeep: 2 })).rejects.toThrow(/last chunk's 1 tokens/);
    await expect(chunkedPrefill({ ...base, budget: 0 })).rejects.toThrow(/budget/);
  });
});
