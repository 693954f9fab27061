/**
 * generate() on the fixture code models (target 3.1M and draft 0.4M, native and ONNX Runtime) against
 * a plain hand-written argmax loop, token for token: 8 held-out CPython prompts of 25..64 tokens,
 * 32 new tokens each, alone and as one left-padded batch. Also: beam search at width 1 equals
 * greedy, seeded sampling gives the same tokens on native and ORT, and contrastive decoding (target
 * expert, draft amateur) and a negative prompt match a hand-written loop over both models.
 */
import { join } from 'node:path';
import { tensor } from '@hasten/core-tensor';
import type { CausalLM } from '@hasten/models';
import { loadCausalLM } from '@hasten/models/node';
import { OrtCausalLM } from '@hasten/models/ort';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beamSearch } from '../beam/beam-search';
import { FIXTURES, heldoutPrompts } from '../testing';
import { generate } from './generate';

const NEW = 32;
const PROMPTS = heldoutPrompts(8);

/** The next-token logits after feeding `tokens` into `cache` (batch 1). */
async function feed(model: CausalLM, cache: ReturnType<CausalLM['createCache']>, tokens: number[]) {
  const ids = tensor(Int32Array.from(tokens), [1, tokens.length], { dtype: 'i32' });
  const { logits } = await model.forward({ tokens: ids, cache, logitsToKeep: 1 });
  const data = (await logits.data()) as Float32Array;
  ids.dispose();
  logits.dispose();
  return data;
}

function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

/** The plain loop: prefill, then argmax and feed it back, `steps` times. */
async function handGreedy(model: CausalLM, prompt: number[], steps: number): Promise<number[]> {
  const cache = model.createCache();
  const out: number[] = [];
  let x = await feed(model, cache, prompt);
  for (let i = 0; i < steps; i++) {
    out.push(argmax(x));
    if (i + 1 < steps) x = await feed(model, cache, [out[i]]);
  }
  cache.dispose();
  return out;
}

const BACKENDS: [string, (dir: string) => Promise<CausalLM>][] = [
  ['native', (dir) => loadCausalLM(dir)],
  ['ort', (dir) => OrtCausalLM.load(dir, { intraOpNumThreads: 1 })],
];
const MODELS = ['code-target', 'code-draft'];
const CASES = BACKENDS.flatMap(([b, load]) =>
  MODELS.map((m) => [`${m} ${b}`, () => load(join(FIXTURES, m))] as const),
);

describe.each(CASES)('greedy generate() == hand-written argmax loop: %s', (_, load) => {
  let model: CausalLM;
  let want: number[][];
  beforeAll(async () => {
    model = await load();
    want = [];
    for (const p of PROMPTS) want.push(await handGreedy(model, p, NEW));
  });
  afterAll(() => model?.dispose());

  it(`each of ${PROMPTS.length} held-out prompts alone, ${NEW} tokens`, async () => {
    for (let i = 0; i < PROMPTS.length; i++) {
      const r = await generate(model, { prompt: PROMPTS[i], maxNewTokens: NEW, stopTokens: [] });
      expect(r.rows[0].tokens, `prompt ${i}`).toEqual(want[i]);
      expect(r.rows[0].finishReason).toBe('length');
    }
  });

  it('batch of prompts of different lengths gives per row the same tokens as each prompt alone', async () => {
    expect(new Set(PROMPTS.map((p) => p.length)).size).toBeGreaterThan(4);
    const r = await generate(model, { prompt: PROMPTS, maxNewTokens: NEW, stopTokens: [] });
    expect(r.rows.map((row) => row.tokens)).toEqual(want);
    expect(r.stats.forwards).toBe(NEW);
  });

  it('beam search with one beam is greedy', async () => {
    const r = await beamSearch(model, {
      prompt: PROMPTS.slice(0, 2),
      maxNewTokens: NEW,
      numBeams: 1,
      stopTokens: [],
    });
    expect(r.rows.map((row) => row.sequences[0].tokens)).toEqual(want.slice(0, 2));
  });
});

describe('fixtures: sampling and contrastive decoding', () => {
  let target: CausalLM;
  let draft: CausalLM;
  let targetOrt: CausalLM;
  beforeAll(async () => {
    target = await loadCausalLM(join(FIXTURES, 'code-target'));
    draft = await loadCausalLM(join(FIXTURES, 'code-draft'));
    targetOrt = await OrtCausalLM.load(join(FIXTURES, 'code-target'), { intraOpNumThreads: 1 });
  });
  afterAll(() => {
    target?.dispose();
    draft?.dispose();
    targetOrt?.dispose();
  });

  it('the same seed samples the same tokens on native and ONNX Runtime', async () => {
    const opts = {
      prompt: PROMPTS.slice(0, 3),
      maxNewTokens: NEW,
      doSample: true,
      seed: 2024,
      temperature: 0.8,
      topP: 0.95,
      stopTokens: [],
    };
    const a = await generate(target, opts);
    const b = await generate(targetOrt, opts);
    expect(b.rows.map((r) => r.tokens)).toEqual(a.rows.map((r) => r.tokens));
    const greedy = await generate(target, { prompt: PROMPTS.slice(0, 3), maxNewTokens: NEW, stopTokens: [] });
    expect(a.rows.map((r) => r.tokens)).not.toEqual(greedy.rows.map((r) => r.tokens));
  });

  /** Hand loop of contrastive greedy: expert and second model each with their own cache. */
  async function handContrastive(
    prompt: number[],
    second: CausalLM,
    secondPrompt: number[],
    alpha: number,
    plaus: number,
  ) {
    const ce = target.createCache();
    const cs = second.createCache();
    let e = await feed(target, ce, prompt);
    let s = await feed(second, cs, secondPrompt);
    const out: number[] = [];
    const logSoftmax = (x: Float32Array) => {
      let m = Number.NEGATIVE_INFINITY;
      for (const v of x) m = Math.max(m, v);
      let z = 0;
      for (const v of x) z += Math.exp(v - m);
      return Array.from(x, (v) => v - m - Math.log(z));
    };
    for (let i = 0; i < 24; i++) {
      const le = logSoftmax(e);
      const ls = logSoftmax(s);
      const top = Math.max(...le);
      const score = le.map((v, j) =>
        Math.exp(v) >= plaus * Math.exp(top) ? v - alpha * ls[j] : Number.NEGATIVE_INFINITY,
      );
      out.push(argmax(score));
      e = await feed(target, ce, [out[i]]);
      s = await feed(second, cs, [out[i]]);
    }
    ce.dispose();
    cs.dispose();
    return out;
  }

  it('contrastive greedy (target expert, draft amateur) matches a hand-written loop over both models', async () => {
    for (const prompt of PROMPTS.slice(0, 2)) {
      const want = await handContrastive(prompt, draft, prompt, 0.5, 0.1);
      const r = await generate(target, {
        prompt,
        maxNewTokens: 24,
        stopTokens: [],
        contrastive: { model: draft, alpha: 0.5, plausibility: 0.1 },
      });
      expect(r.rows[0].tokens).toEqual(want);
      const plain = await handGreedy(target, prompt, 24);
      expect(want).not.toEqual(plain); // the amateur changes the output
    }
  });

  it('a negative prompt (the target itself on another context) matches a hand-written loop', async () => {
    const negative = [256, ...Array.from(new TextEncoder().encode('# TODO: this is broken\n'))];
    const prompt = PROMPTS[3];
    const want = await handContrastive(prompt, target, negative, 0.3, 0);
    const r = await generate(target, {
      prompt,
      maxNewTokens: 24,
      stopTokens: [],
      contrastive: { model: target, alpha: 0.3, plausibility: 0, negativePrompt: negative },
    });
    expect(r.rows[0].tokens).toEqual(want);
  });
});
