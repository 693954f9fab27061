/**
 * The phase-2 contract of CausalLM, on every implementation: the native model (cpu backend), ONNX
 * Runtime on our graph (4-D additive mask) and on the Optimum graph (2-D mask). Each test compares
 * a new capability against plain forwards of the same model, never against itself:
 * - left-padded batches of different lengths give each row the logits of the prompt alone;
 * - keepPositions after a tree forward leaves the cache a plain sequential decode would have;
 * - writeCache: false scores without touching the cache;
 * - lmHead / embed reproduce the forward's own logits and first layer input;
 * - a chunked prefill that throws leaves the cache as it was;
 * - misspelt ForwardInput fields are named.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Tensor, tensor } from '@hasten/core-tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CausalLM } from './causal-lm';
import { loadCausalLM } from './load';
import { OrtCausalLM } from './ort/model';
import { argmaxRow, FIXTURES, fixtureDir } from './testing';

/** Byte ids of held-out CPython source: real code prompts the fixtures were not trained on. */
const corpus = Array.from(readFileSync(join(FIXTURES, 'corpus/heldout/shutil.py')));
const prompt = (len: number, from: number) => corpus.slice(from, from + len);

const ids = (rows: number[][]) => tensor(Int32Array.from(rows.flat()), [rows.length, rows[0].length]);

/** max |a - b| over two equally long arrays. */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return Number.isNaN(m) ? Number.POSITIVE_INFINITY : m;
}

async function lastLogits(model: CausalLM, tokens: number[]): Promise<Float32Array> {
  const cache = model.createCache();
  const { logits } = await model.forward({ tokens: ids([tokens]), cache, logitsToKeep: 1 });
  return (await logits.data()) as Float32Array;
}

const TOL = 2e-4;
const LOADERS: [string, () => Promise<CausalLM>][] = [
  ['native', () => loadCausalLM(fixtureDir('code-target'))],
  ['ort (our graph)', () => OrtCausalLM.load(fixtureDir('code-target'), { intraOpNumThreads: 1 })],
  [
    'ort (optimum graph)',
    () => OrtCausalLM.load(join(FIXTURES, 'code-target/onnx-optimum'), { intraOpNumThreads: 1 }),
  ],
];

describe.each(LOADERS)('CausalLM contract: %s', (name, load) => {
  let model: CausalLM;
  beforeAll(async () => {
    model = await load();
  });
  afterAll(() => model?.dispose());
  const V = () => model.config.vocabSize;

  it('a left-padded batch of 8 prompts of lengths 1..300 gives each row the logits of the prompt alone', async () => {
    const lengths = [1, 2, 17, 64, 100, 173, 256, 300];
    const prompts = lengths.map((len, r) => prompt(len, 97 * r));
    const S = Math.max(...lengths);
    const pad = model.config.padTokenId ?? 0;
    const padding = lengths.map((len) => S - len);
    const rows = prompts.map((p, r) => [...new Array(padding[r]).fill(pad), ...p]);
    const cache = model.createCache({ batch: rows.length });
    const out = await model.forward({ tokens: ids(rows), cache, padding, logitsToKeep: 1 });
    const batched = (await out.logits.data()) as Float32Array;
    expect(cache.padding).toEqual(padding);
    // Two decode steps with no extra input: the cache's padding places and masks every row.
    const next = prompts.map((_, r) => argmaxRow(batched, r, V()));
    const step = await model.forward({ tokens: ids(next.map((t) => [t])), cache });
    const stepped = (await step.logits.data()) as Float32Array;
    for (let r = 0; r < rows.length; r++) {
      const alone = await lastLogits(model, prompts[r]);
      const row = batched.subarray(r * V(), (r + 1) * V());
      expect(maxDiff(row, alone), `row ${r} (length ${lengths[r]})`).toBeLessThan(TOL);
      const aloneNext = await lastLogits(model, [...prompts[r], next[r]]);
      const rowNext = stepped.subarray(r * V(), (r + 1) * V());
      expect(maxDiff(rowNext, aloneNext), `row ${r} after one step`).toBeLessThan(TOL);
    }
  });

  it('keepPositions after a tree forward leaves the cache of the accepted path', async () => {
    if (name === 'ort (optimum graph)') return; // no tree masks on a 2-D mask graph (tested below)
    const ctx = prompt(40, 500);
    const cache = model.createCache();
    await model.forward({ tokens: ids([ctx]), cache, logitsToKeep: 1 });
    // Tree: node 0 = a; children 1 = b, 2 = c of node 0; node 3 = d child of node 2. Path: a c d.
    const [a, b, c, d] = [101, 32, 40, 41];
    const parents = [-1, 0, 0, 2];
    const P = ctx.length;
    const T = P + parents.length;
    const mask = new Uint8Array(parents.length * T);
    const depth: number[] = [];
    parents.forEach((par, i) => {
      mask.fill(1, i * T, i * T + P);
      for (let n = i; n >= 0; n = parents[n]) mask[i * T + P + n] = 1;
      depth.push(par < 0 ? 0 : depth[par] + 1);
    });
    await model.forward({
      tokens: ids([[a, b, c, d]]),
      cache,
      attention: tensor(mask, [1, 1, parents.length, T], { dtype: 'bool' }),
      positions: ids([depth.map((x) => P + x)]),
    });
    cache.keepPositions(P, [P, P + 2, P + 3]);
    expect(cache.length).toBe(P + 3);
    const next = 58;
    const { logits } = await model.forward({ tokens: ids([[next]]), cache });
    const sequential = await lastLogits(model, [...ctx, a, c, d, next]);
    expect(maxDiff((await logits.data()) as Float32Array, sequential)).toBeLessThan(TOL);
  });

  it('writeCache: false scores a continuation and leaves the cache as it was', async () => {
    const ctx = prompt(30, 1000);
    const cache = model.createCache();
    await model.forward({ tokens: ids([ctx]), cache, logitsToKeep: 1 });
    const cont = prompt(5, 2000);
    const scored = await model.forward({ tokens: ids([cont]), cache, writeCache: false });
    expect(cache.length).toBe(ctx.length);
    const full = await model.forward({ tokens: ids([[...ctx, ...cont]]) });
    const fullData = (await full.logits.data()) as Float32Array;
    const tail = fullData.subarray(ctx.length * V());
    expect(maxDiff((await scored.logits.data()) as Float32Array, tail)).toBeLessThan(TOL);
    // The cache still continues the context alone.
    const { logits } = await model.forward({ tokens: ids([[cont[0]]]), cache });
    const expected = fullData.subarray(ctx.length * V(), (ctx.length + 1) * V());
    expect(maxDiff((await logits.data()) as Float32Array, expected)).toBeLessThan(TOL);
  });

  it('lmHead(hidden) gives the forward logits; embed gives the embedding rows', async () => {
    if (name === 'ort (optimum graph)') {
      // The Optimum graph has no hidden_states output; lmHead still reads the checkpoint.
      const h = tensor(new Float32Array(model.config.hiddenSize).fill(0.5), [1, model.config.hiddenSize]);
      const l = await model.lmHead(h);
      expect(l.shape).toEqual([1, model.config.vocabSize]);
      return;
    }
    const toks = prompt(12, 3000);
    const out = await model.forward({ tokens: ids([toks]), outputHiddenStates: true });
    const viaHead = await model.lmHead(out.hiddenStates as Tensor);
    expect(maxDiff(await viaHead.data(), await out.logits.data())).toBeLessThan(TOL);
    const e = (await (await model.embed(ids([[7, 200]]))).data()) as Float32Array;
    const H = model.config.hiddenSize;
    expect(e.length).toBe(2 * H);
    // Embedding row 200 must differ from row 7 and be finite: a real table, not zeros.
    expect(maxDiff(e.subarray(0, H), e.subarray(H))).toBeGreaterThan(0);
    expect(e.every(Number.isFinite)).toBe(true);
  });

  it('a chunked prefill that throws rolls the cache back to its length before the call', async () => {
    const cache = model.createCache();
    await model.forward({ tokens: ids([prompt(10, 0)]), cache });
    const S = 24;
    const pos = Array.from({ length: S }, (_, i) => 10 + i);
    pos[20] = model.config.contextLength + 5; // the third chunk is invalid
    await expect(
      model.forward({ tokens: ids([prompt(S, 50)]), positions: ids([pos]), cache, chunkSize: 8 }),
    ).rejects.toThrow(/position \d+ is outside/);
    expect(cache.length).toBe(10);
    // And the cache still works: the next token's logits match the 10-token context alone.
    const { logits } = await model.forward({ tokens: ids([[65]]), cache });
    const expected = await lastLogits(model, [...prompt(10, 0), 65]);
    expect(maxDiff((await logits.data()) as Float32Array, expected)).toBeLessThan(TOL);
  });

  it('names a misspelt ForwardInput field and lists the allowed ones', async () => {
    const bad = { tokens: ids([[1, 2]]), logitToKeep: 1 } as unknown as Parameters<CausalLM['forward']>[0];
    await expect(model.forward(bad)).rejects.toThrow(
      /forward: options is invalid: Unrecognized key: "logitToKeep"; allowed: tokens, positions, attention, cache, padding, writeCache, outputHiddenStates, outputQueries, logitsToKeep, chunkSize/,
    );
    await expect(model.forward({ tokens: ids([[1, 2]]), padding: [2] })).rejects.toThrow(
      /padding\[0\] = 2 leaves row 0 no real token/,
    );
    expect(() => model.createCache({ batch: 2, maxLen: 8 } as never)).toThrow(
      /createCache: options is invalid: Unrecognized key: "maxLen"; allowed: batch, maxLength, capacity/,
    );
    expect(() => model.createCache({ maxLength: 1e6 })).toThrow(/exceeds the model's context length 1024/);
  });
});

describe('native model on the reference backend', () => {
  it('runs its first forward (positions and masks live on the model backend) and matches cpu', async () => {
    const dir = fixtureDir('families/llama-gqa2');
    const ref = await loadCausalLM(dir, { device: 'reference' });
    const cpu = await loadCausalLM(dir);
    try {
      const rows = [
        [0, 0, 5, 9, 11],
        [3, 4, 5, 6, 7],
      ];
      const cacheR = ref.createCache({ batch: 2 });
      const cacheC = cpu.createCache({ batch: 2 });
      const a = await ref.forward({ tokens: ids(rows), cache: cacheR, padding: [2, 0] });
      const b = await cpu.forward({ tokens: ids(rows), cache: cacheC, padding: [2, 0] });
      expect(a.logits.device).toBe('reference');
      expect(maxDiff(await a.logits.data(), await b.logits.data())).toBeLessThan(1e-4);
    } finally {
      ref.dispose();
      cpu.dispose();
    }
  });
});
