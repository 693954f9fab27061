/**
 * speculativeDecode() against plain decoding of the same target:
 * - greedy: token-for-token equality with a hand-written argmax loop, for every drafter (draft
 *   model, an int4-quantized draft model, prompt lookup, n-gram trie, Medusa heads), fixed and
 *   adaptive lengths, on the native
 *   model and on ONNX Runtime (the 50-prompt x 128-token check is greedy-equality.heavy.test.ts);
 * - sampled: on a synthetic target with a known distribution, the first three tokens follow the
 *   target's exact joint distribution (chi-square, α = 1e-3) with a draft model of another
 *   distribution, with top-k/top-p applied to both, and with a probability-free drafter.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tensor } from '@hasten/core-tensor';
import { openSafetensors } from '@hasten/core-tensor/node';
import type { CausalLM } from '@hasten/models';
import { loadCausalLM } from '@hasten/models/node';
import { OrtCausalLM } from '@hasten/models/ort';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chiSquare, FIXTURES, heldoutPrompts, SyntheticLM, softmaxRef } from '../testing';
import { DraftModelDrafter } from './drafters/draft-model';
import { LookaheadDrafter } from './drafters/lookahead';
import { MedusaDrafter } from './drafters/medusa';
import { NgramTrieDrafter } from './drafters/ngram-trie';
import { PromptLookupDrafter } from './drafters/prompt-lookup';
import { speculativeDecode } from './speculative-decode';

/** Plain greedy decoding, written out: one forward per token, argmax (first on ties). */
async function plainGreedy(model: CausalLM, prompt: number[], n: number): Promise<number[]> {
  const cache = model.createCache();
  const out: number[] = [];
  let input = prompt;
  const V = model.config.vocabSize;
  for (let i = 0; i < n; i++) {
    const ids = tensor(Int32Array.from(input), [1, input.length], { dtype: 'i32' });
    const { logits } = await model.forward({ tokens: ids, cache, logitsToKeep: 1 });
    const row = (await logits.data()) as Float32Array;
    let best = 0;
    for (let j = 1; j < V; j++) if (row[j] > row[best]) best = j;
    out.push(best);
    input = [best];
  }
  cache.dispose();
  return out;
}

async function medusa(): Promise<MedusaDrafter> {
  const dir = join(FIXTURES, 'code-target-medusa');
  const choices = JSON.parse(readFileSync(join(dir, 'medusa_choices.json'), 'utf8')).trees['64'].choices;
  const reader = await openSafetensors(join(dir, 'medusa_heads.safetensors'));
  try {
    return await MedusaDrafter.fromSafetensors(reader, { choices });
  } finally {
    await reader.close();
  }
}

const TARGETS: [string, () => Promise<CausalLM>][] = [
  ['native', () => loadCausalLM(join(FIXTURES, 'code-target'))],
  ['ort', () => OrtCausalLM.load(join(FIXTURES, 'code-target'), { intraOpNumThreads: 1 })],
];

describe.each(TARGETS)('speculativeDecode, greedy, code target on %s', (_name, load) => {
  let target: CausalLM;
  let draft: CausalLM;
  const prompts = heldoutPrompts(6);
  const N = 40;
  const expected: number[][] = [];
  beforeAll(async () => {
    target = await load();
    draft = await loadCausalLM(join(FIXTURES, 'code-draft'));
    for (const p of prompts) expected.push(await plainGreedy(target, p, N));
  });
  afterAll(() => {
    target?.dispose();
    draft?.dispose();
  });

  const cases: [string, () => Promise<Parameters<typeof speculativeDecode>[1]['drafter']>, object][] = [
    ['draft model, k = 4', async () => new DraftModelDrafter(draft), { numDraftTokens: 4 }],
    ['draft model, heuristic length', async () => new DraftModelDrafter(draft), { draftLength: 'heuristic' }],
    [
      // The target stays f32: a quantized draft only changes which tokens are proposed.
      'int4-quantized draft model, k = 4',
      async () =>
        new DraftModelDrafter(
          await loadCausalLM(join(FIXTURES, 'code-draft'), { quantize: { format: 'int4-group' } }),
        ),
      { numDraftTokens: 4 },
    ],
    [
      'multi-draft model, 2 branches x 3',
      async () => new DraftModelDrafter(draft, { branches: 2 }),
      { numDraftTokens: 6 },
    ],
    ['prompt lookup', async () => new PromptLookupDrafter({ min: 2, max: 4 }), { numDraftTokens: 6 }],
    ['n-gram trie (tree)', async () => new NgramTrieDrafter(), { numDraftTokens: 12 }],
    ['Medusa heads (tree of 63)', medusa, { numDraftTokens: 63 }],
    ['Jacobi Lookahead (W 7, N 5, G 7)', async () => new LookaheadDrafter(), { numDraftTokens: 28 }],
  ];
  it.each(cases)('%s equals plain greedy token for token', async (_label, make, extra) => {
    const drafter = await make();
    let drafted = 0;
    for (let i = 0; i < prompts.length; i++) {
      const r = await speculativeDecode(target, {
        prompt: prompts[i],
        maxNewTokens: N,
        stopTokens: [],
        drafter,
        fallback: false,
        ...extra,
      });
      expect(r.tokens, `prompt ${i}`).toEqual(expected[i]);
      expect(r.finishReason).toBe('length');
      // Fewer target forwards than tokens whenever a draft was accepted.
      expect(r.stats.targetForwards).toBe(r.metrics.numDrafts + r.stats.plainRounds + 1);
      drafted += r.metrics.numDraftTokens;
    }
    expect(drafted).toBeGreaterThan(0);
  });
});

describe('speculativeDecode, sampled: the target distribution is kept', () => {
  const V = 6;
  // Target: next-token logits depend on the last two tokens; the draft is a different chain.
  const targetLogits = (ctx: readonly number[]) => {
    const a = ctx[ctx.length - 1] ?? 0;
    const b = ctx[ctx.length - 2] ?? 0;
    return Array.from({ length: V }, (_, j) => Math.sin(1.7 * j + 0.9 * a + 0.4 * b) * 1.5);
  };
  const draftLogits = (ctx: readonly number[]) => {
    const a = ctx[ctx.length - 1] ?? 0;
    return Array.from({ length: V }, (_, j) => Math.cos(1.1 * j + 0.5 * a) * 1.2);
  };
  /** Exact probability of every 3-token continuation under the target with a filter on each step. */
  function exactJoint(prompt: number[], filter: (p: number[]) => number[]): number[] {
    const out: number[] = [];
    for (let x = 0; x < V; x++)
      for (let y = 0; y < V; y++)
        for (let z = 0; z < V; z++) {
          const p1 = filter(softmaxRef(targetLogits(prompt)))[x];
          const p2 = filter(softmaxRef(targetLogits([...prompt, x])))[y];
          const p3 = filter(softmaxRef(targetLogits([...prompt, x, y])))[z];
          out.push(p1 * p2 * p3);
        }
    return out;
  }
  const identity = (p: number[]) => p;
  /** top-k then top-p (smallest set with mass >= p), renormalised: written independently here. */
  const topKTopP = (k: number, topP: number) => (p: number[]) => {
    const order = p.map((_, i) => i).sort((i, j) => p[j] - p[i] || i - j);
    const keepK = new Set(order.slice(0, k));
    const q = p.map((x, i) => (keepK.has(i) ? x : 0));
    const zq = q.reduce((s, x) => s + x, 0);
    const qn = q.map((x) => x / zq);
    const keep = new Set<number>();
    let mass = 0;
    for (const i of order) {
      if (!keepK.has(i)) continue;
      keep.add(i);
      mass += qn[i];
      if (mass >= topP) break;
    }
    const r = qn.map((x, i) => (keep.has(i) ? x : 0));
    const zr = r.reduce((s, x) => s + x, 0);
    return r.map((x) => x / zr);
  };

  async function histogramOf(opts: object, trials: number): Promise<number[]> {
    const target = new SyntheticLM(V, (c) => targetLogits(c));
    const counts = new Array(V ** 3).fill(0);
    for (let s = 0; s < trials; s++) {
      const r = await speculativeDecode(target, {
        prompt: [1, 4],
        maxNewTokens: 3,
        doSample: true,
        seed: s,
        stopTokens: [],
        fallback: false,
        ...opts,
      } as unknown as Parameters<typeof speculativeDecode>[1]);
      counts[r.tokens[0] * V * V + r.tokens[1] * V + r.tokens[2]]++;
    }
    return counts;
  }

  it('with a draft model of another distribution (chi-square, α = 1e-3)', async () => {
    const draft = new SyntheticLM(V, (c) => draftLogits(c));
    const counts = await histogramOf({ drafter: new DraftModelDrafter(draft), numDraftTokens: 2 }, 6000);
    const { p, impossible } = chiSquare(counts, exactJoint([1, 4], identity));
    expect(impossible).toBe(0);
    expect(p).toBeGreaterThan(1e-3);
  });

  it('with top-k and top-p applied to target and draft alike', async () => {
    const draft = new SyntheticLM(V, (c) => draftLogits(c));
    const counts = await histogramOf(
      { drafter: new DraftModelDrafter(draft), numDraftTokens: 2, topK: 4, topP: 0.8 },
      6000,
    );
    const { p, impossible } = chiSquare(counts, exactJoint([1, 4], topKTopP(4, 0.8)));
    expect(impossible).toBe(0);
    expect(p).toBeGreaterThan(1e-3);
  });

  it.each(['iid', 'without-replacement', 'greedy'] as const)(
    'with a multi-draft tree (3 branches, %s first drafts) from the draft model',
    async (scheme) => {
      const draft = new SyntheticLM(V, (c) => draftLogits(c));
      const drafter = new DraftModelDrafter(draft, { branches: 3, scheme });
      const counts = await histogramOf({ drafter, numDraftTokens: 6 }, 5000);
      const { p, impossible } = chiSquare(counts, exactJoint([1, 4], identity));
      expect(impossible).toBe(0);
      expect(p).toBeGreaterThan(1e-3);
    },
  );

  it('with a probability-free drafter (a fixed guess, verified as an n-gram draft)', async () => {
    const fixed = { propose: (_c: readonly number[], k: number) => ({ tokens: [3, 3, 0].slice(0, k) }) };
    const counts = await histogramOf({ drafter: fixed, numDraftTokens: 2 }, 6000);
    const { p, impossible } = chiSquare(counts, exactJoint([1, 4], identity));
    expect(impossible).toBe(0);
    expect(p).toBeGreaterThan(1e-3);
  });

  it("Medusa's typical acceptance runs on the fixture at T = 0.8 and accepts more than exact", async () => {
    const target = await loadCausalLM(join(FIXTURES, 'code-target'));
    const heads = await medusa();
    const prompt = heldoutPrompts(1)[0];
    const run = (acceptance: 'exact' | 'typical') =>
      speculativeDecode(target, {
        prompt,
        maxNewTokens: 48,
        stopTokens: [],
        doSample: true,
        temperature: 0.8,
        seed: 5,
        drafter: heads,
        numDraftTokens: 63,
        fallback: false,
        acceptance,
      });
    const exact = await run('exact');
    const typical = await run('typical');
    expect(typical.tokens.length).toBe(48);
    expect(typical.metrics.meanAcceptanceLength).toBeGreaterThan(1);
    // Typical acceptance takes every candidate above the bar; the exact rule takes a candidate only
    // with probability p(x): it accepts no more on average (seeded, so this is one fixed outcome).
    expect(typical.metrics.meanAcceptanceLength).toBeGreaterThanOrEqual(exact.metrics.meanAcceptanceLength);
    target.dispose();
  });

  it('rejects options that do not apply, naming them', async () => {
    const target = new SyntheticLM(V, (c) => targetLogits(c));
    const drafter = new PromptLookupDrafter();
    await expect(speculativeDecode(target, { prompt: [1], drafter, topK: 2 })).rejects.toThrow(
      /'topK' only apply when sampling/,
    );
    await expect(
      speculativeDecode(target, { prompt: [1], drafter, numDraftTokns: 3 } as never),
    ).rejects.toThrow(/Unrecognized key: "numDraftTokns"/);
    await expect(speculativeDecode(target, { prompt: [[1], [2]], drafter })).rejects.toThrow(/batch size 1/);
    await expect(speculativeDecode(target, { prompt: [1], drafter, acceptance: 'typical' })).rejects.toThrow(
      /'acceptance' 'typical' applies when sampling/,
    );
  });
});
