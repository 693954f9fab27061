// Cross-package: the native Llama model on @hasten/kv's paged cache. LlamaModel reads a paged cache
// through attentionView() and core-tensor's pagedSdpa; everything must match the contiguous cache:
// greedy tokens identical and logits within 1e-5 at every step, through prefix hits, evictions and
// forks, and @hasten/decoding's generate / beam search run unchanged on withPagedCaches(model, pool).
import { tensor } from '@hasten/core-tensor';
import { beamSearch, generate } from '@hasten/decoding';
import { type KVCache, PagedKVCache, PagedKVPool, withPagedCaches } from '@hasten/kv';
import type { CausalLM } from '@hasten/models';
import { loadCausalLM } from '@hasten/models/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { argmaxRow, fixtureDir, readReference } from '../packages/models/src/testing';

let model: CausalLM;
let prompt: number[];

beforeAll(async () => {
  const dir = fixtureDir('code-target');
  model = await loadCausalLM(dir);
  const ref = await readReference(dir);
  prompt = Array.from(await ref.input_ids.slice(0, 0, 1).data());
});

/**
 * Feeds `input` (after the `skip` positions the cache already holds), then `steps` greedy tokens
 * (or `forced` first); returns the tokens and the last-position logits of every forward. A paged
 * cache is told the ids it holds, so its full blocks enter the prefix cache.
 */
async function run(cache: KVCache, input: number[], steps: number, forced?: number) {
  const V = model.config.vocabSize;
  const tokens: number[] = [];
  const logits: Float32Array[] = [];
  let feed = input;
  for (let i = 0; i <= steps; i++) {
    const ids = tensor(Int32Array.from(feed), [1, feed.length], { dtype: 'i32' });
    const out = await model.forward({ tokens: ids, cache, logitsToKeep: 1 });
    const row = (await out.logits.data()) as Float32Array;
    out.logits.dispose();
    ids.dispose();
    if (cache instanceof PagedKVCache) cache.recordTokens(feed);
    logits.push(row);
    if (i === steps) break;
    const next = i === 0 && forced !== undefined ? forced : argmaxRow(row, 0, V);
    tokens.push(next);
    feed = [next];
  }
  return { tokens, logits };
}

function maxDiff(a: Float32Array[], b: Float32Array[]): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++)
    for (let j = 0; j < a[i].length; j++) m = Math.max(m, Math.abs(a[i][j] - b[i][j]));
  return m;
}

describe('native model on a paged KV cache', () => {
  it('greedy decode of 64 tokens equals the contiguous cache token for token, logits within 1e-5', async () => {
    const pool = PagedKVPool.forModel(model.config, { numBlocks: 16, blockSize: 16 });
    const paged = await run(pool.createCache(), prompt, 64);
    const dense = await run(model.createCache(), prompt, 64);
    expect(paged.tokens).toEqual(dense.tokens);
    expect(maxDiff(paged.logits, dense.logits)).toBeLessThanOrEqual(1e-5);
  });

  it('requests that start from cached prefixes (with evictions) and forked samples match contiguous ones', async () => {
    // 8 blocks of 16: two 60-position requests do not fit at once, so the second evicts the first.
    const pool = PagedKVPool.forModel(model.config, { numBlocks: 8, blockSize: 16 });
    const other = [...prompt].reverse();
    const dense = await run(model.createCache(), prompt, 12);

    const a = pool.createCache();
    expect(a.matchPrefix(prompt)).toBe(0);
    await run(a, prompt, 12);
    a.dispose();

    const b = pool.createCache();
    const hit = b.matchPrefix(prompt);
    expect(hit).toBe(Math.floor((prompt.length - 1) / 16) * 16);
    const fromCache = await run(b, prompt.slice(hit), 12);
    expect(fromCache.tokens).toEqual(dense.tokens);
    expect(maxDiff(fromCache.logits, dense.logits)).toBeLessThanOrEqual(1e-5);

    // best-of-4 from the prompt minus its last token: each sample forced to its own first token,
    // then greedy. Forks share b's blocks and copy the partial last one when they write.
    const denseRoot = model.createCache();
    await run(denseRoot, prompt.slice(0, -1), 0);
    b.truncate(prompt.length - 1);
    for (let i = 0; i < 4; i++) {
      const forced = 97 + i;
      const fork = b.fork();
      const s = await run(fork, [prompt[prompt.length - 1]], 8, forced);
      const d = await run(denseRoot.fork(), [prompt[prompt.length - 1]], 8, forced);
      expect(s.tokens).toEqual(d.tokens);
      expect(maxDiff(s.logits, d.logits)).toBeLessThanOrEqual(1e-5);
      fork.dispose();
    }
    expect(pool.stats().copyOnWriteCopies).toBeGreaterThan(0);
    for (const c of pool.liveCaches()) c.dispose();

    // Another prompt takes the blocks; the first one's are evicted least recently used first.
    const c = pool.createCache();
    await run(c, other, 60); // 104 positions: 7 of the 8 blocks
    expect(pool.stats().prefixCache.evictions).toBeGreaterThan(0);
    c.dispose();
    const d = pool.createCache();
    const hit2 = d.matchPrefix(prompt);
    expect(hit2).toBeLessThan(hit);
    const again = await run(d, prompt.slice(hit2), 12);
    expect(again.tokens).toEqual(dense.tokens);
    expect(maxDiff(again.logits, dense.logits)).toBeLessThanOrEqual(1e-5);
  });

  it('generate (padded batch, greedy and sampled) and beam search run unchanged on paged caches', async () => {
    const pool = PagedKVPool.forModel(model.config, { numBlocks: 64, blockSize: 16 });
    const paged = withPagedCaches(model, pool);
    expect(paged.createCache()).toBeInstanceOf(PagedKVCache);
    const prompts = [prompt, prompt.slice(5, 30)];
    for (const opts of [
      { prompt: prompts, maxNewTokens: 24, stopTokens: [] },
      { prompt: prompts, maxNewTokens: 24, stopTokens: [], doSample: true, seed: 7, temperature: 0.8 },
    ]) {
      const want = await generate(model, opts);
      const got = await generate(paged, opts);
      expect(got.rows.map((r) => r.tokens)).toEqual(want.rows.map((r) => r.tokens));
    }
    const beams = { prompt: prompt.slice(0, 20), numBeams: 3, maxNewTokens: 10, stopTokens: [] };
    const want = await beamSearch(model, beams);
    const got = await beamSearch(paged, beams);
    expect(got.rows[0].sequences.map((s) => s.tokens)).toEqual(want.rows[0].sequences.map((s) => s.tokens));
    expect(pool.stats().usedBlocks).toBe(0); // every cache was disposed
  });
});
