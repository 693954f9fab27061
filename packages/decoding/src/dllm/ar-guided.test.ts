/**
 * AR-guided diffusion decoding (ar-guided.ts) through generateDiffusion / streamDiffusion:
 * - an AR model that agrees with every proposal commits each block in one step;
 * - with the AR model a greedy oracle and arbitrary proposals, the output is the AR model's greedy
 *   continuation (synthetic models, whose AR context comes from its KV cache so a wrong cache
 *   rewind shows; and the fixtures code-mdlm guided by code-target against a plain argmax loop);
 * - fallback 'dllm' with an AR model that never agrees is LLaDA low-confidence at 1 token/step;
 * - option errors.
 */
import { join } from 'node:path';
import { tensor } from '@hasten/core-tensor';
import { loadCausalLM, loadMaskedDiffusionLM } from '@hasten/models/node';
import { describe, expect, it } from 'vitest';
import { FIXTURES, SyntheticLM } from '../testing';
import { arGuidedCommits } from './ar-guided';
import { type DiffusionStepEvent, streamDiffusion } from './generate-diffusion';
import type { DiffusionOptions } from './options';
import { SyntheticMDLM } from './testing';

const V = 12;
const MASK = 11;
const PROMPT = [1, 2, 3];

const oneHot = (t: number, hi = 6, conf: number[] = []) =>
  Array.from({ length: V }, (_, v) => (v === t ? hi : (conf[v] ?? 0)));

/** The AR oracle's greedy next token after `context`. */
const oracle = (context: readonly number[]) =>
  (context.reduce((s, t, i) => s + t * (i + 3), 0) + context.length) % 10;

const arModel = () => new SyntheticLM(V, (ctx) => oneHot(oracle(ctx)));

function greedyContinuation(prompt: number[], n: number): number[] {
  const seq = [...prompt];
  for (let i = 0; i < n; i++) seq.push(oracle(seq));
  return seq.slice(prompt.length);
}

async function run(
  m: SyntheticMDLM | Awaited<ReturnType<typeof loadMaskedDiffusionLM>>,
  opts: DiffusionOptions,
) {
  const events: DiffusionStepEvent[] = [];
  const it = streamDiffusion(m, opts);
  while (true) {
    const r = await it.next();
    if (r.done) return { events, result: r.value };
    if (r.value.type === 'step') events.push(r.value);
  }
}

describe('AR-guided diffusion decoding', () => {
  it('commits each whole block in one step when the AR model agrees with every proposal', async () => {
    const gen = 12;
    const T = greedyContinuation(PROMPT, gen);
    const dllm = new SyntheticMDLM(MASK, V, (p) => oneHot(p >= PROMPT.length ? T[p - PROMPT.length] : 0));
    const ar = arModel();
    const { events, result } = await run(dllm, {
      prompt: PROMPT,
      genLength: gen,
      blockLength: 4,
      commit: 'ar-guided',
      arModel: ar,
      eosFill: false,
    });
    expect(result.rows[0].canvas).toEqual(T);
    expect(events).toHaveLength(3);
    events.forEach((e, b) => {
      expect(e.block).toBe(b);
      expect(e.commits.map((c) => c.position)).toEqual([0, 1, 2, 3].map((i) => 4 * b + i));
      expect(e.commits.every((c) => c.reason === 'ar-guided')).toBe(true);
    });
    expect(result.stats.forwards).toBe(3);
    expect(result.stats.arForwards).toBe(3);
    // The AR cache keeps the committed prefix: later forwards feed only the new block's tokens.
    expect(ar.shapes.map((s) => s[1])).toEqual([PROMPT.length - 1 + 4, 4, 4]);
  });

  it("equals the AR model's greedy output whatever the diffusion model proposes", async () => {
    for (const [gen, block] of [
      [12, 12],
      [12, 4],
      [16, 8],
    ]) {
      const T = greedyContinuation(PROMPT, gen);
      // Proposals: right at some positions, wrong at others, varying with the step (mask count).
      const dllm = new SyntheticMDLM(MASK, V, (p, x) => {
        const masks = x.filter((t) => t === MASK).length;
        const i = p - PROMPT.length;
        const right = i >= 0 && (i * 5 + masks) % 3 !== 0;
        const tok = i < 0 ? 0 : right ? T[i] : (T[i] + 1 + (masks % 8)) % 10;
        return oneHot(tok, 2 + ((p * 7 + masks) % 5));
      });
      const ar = arModel();
      const { events, result } = await run(dllm, {
        prompt: PROMPT,
        genLength: gen,
        blockLength: block,
        commit: 'ar-guided',
        arModel: ar,
        eosFill: false,
      });
      expect(result.rows[0].canvas).toEqual(T);
      // Every step: a run of agreements then at most one correction, left to right, no gaps.
      let next = 0;
      for (const e of events) {
        expect(e.commits.length).toBeGreaterThanOrEqual(1);
        e.commits.forEach((c, j) => {
          expect(c.position).toBe(next++);
          expect(c.reason).toBe(
            j === e.commits.length - 1 && c.reason !== 'ar-guided' ? 'ar-correction' : 'ar-guided',
          );
        });
      }
      expect(events.some((e) => e.commits.length > 1)).toBe(true);
      expect(events.some((e) => e.commits.some((c) => c.reason === 'ar-correction'))).toBe(true);
      expect(result.stats.arForwards).toBe(events.length);
    }
  });

  it("guiding code-mdlm by code-target gives code-target's greedy tokens (plain argmax loop)", async () => {
    const mdlm = await loadMaskedDiffusionLM(join(FIXTURES, 'code-mdlm'));
    const ar = await loadCausalLM(join(FIXTURES, 'code-target'));
    try {
      const prompt = [256, ...new TextEncoder().encode('def add(a, b):\n    return')];
      const gen = 32;
      const { events, result } = await run(mdlm, {
        prompt,
        genLength: gen,
        blockLength: 16,
        commit: 'ar-guided',
        arModel: ar,
        eosFill: false,
      });
      // The reference: no cache, the whole sequence forwarded for every token.
      const seq = [...prompt];
      for (let i = 0; i < gen; i++) {
        const ids = tensor(Int32Array.from(seq), [1, seq.length], { dtype: 'i32' });
        const out = await ar.forward({ tokens: ids, logitsToKeep: 1 });
        ids.dispose();
        const row = (await out.logits.data()) as Float32Array;
        out.logits.dispose();
        let best = 0;
        for (let v = 1; v < row.length; v++) if (row[v] > row[best]) best = v;
        seq.push(best);
      }
      expect(result.rows[0].canvas).toEqual(seq.slice(prompt.length));
      expect(events.length).toBeLessThan(gen);
    } finally {
      mdlm.dispose();
      ar.dispose();
    }
  });

  it("fallback 'dllm' with an AR model that never agrees is LLaDA low-confidence, 1 token/step", async () => {
    // Proposals never 0; the AR model always says 0.
    const dllm = new SyntheticMDLM(MASK, V, (p, x) => {
      const masks = x.filter((t) => t === MASK).length;
      const conf = Array.from({ length: V }, (_, v) => ((v * 3 + p * 5 + masks) % 7) / 3);
      return oneHot(1 + ((p * 3 + masks) % 9), 3, conf);
    });
    const never = new SyntheticLM(V, () => oneHot(0));
    const base = { prompt: PROMPT, genLength: 8, blockLength: 4, eosFill: false } as const;
    const guided = await run(dllm, { ...base, commit: 'ar-guided', arModel: never, arFallback: 'dllm' });
    const llada = await run(dllm, { ...base, steps: 8 });
    expect(guided.result.rows[0].canvas).toEqual(llada.result.rows[0].canvas);
    expect(guided.events.map((e) => e.commits)).toEqual(llada.events.map((e) => e.commits));
  });

  it('arGuidedCommits skips committed positions and stops at the first disagreement', () => {
    const x = Int32Array.from([1, MASK, 4, MASK, MASK]);
    const proposals = new Map([
      [1, { token: 5, confidence: 0.2 }],
      [3, { token: 6, confidence: 0.9 }],
      [4, { token: 7, confidence: 0.5 }],
    ]);
    const ar = new Map([
      [1, 5],
      [2, 9],
      [3, 6],
      [4, 8],
    ]);
    expect(arGuidedCommits(x, MASK, 1, 5, proposals, ar, 'ar')).toEqual([
      { position: 1, token: 5, reason: 'ar-guided' },
      { position: 3, token: 6, reason: 'ar-guided' },
      { position: 4, token: 8, reason: 'ar-correction' },
    ]);
    expect(arGuidedCommits(x, MASK, 1, 5, proposals, ar, 'dllm')).toEqual([
      { position: 1, token: 5, reason: 'ar-guided' },
      { position: 3, token: 6, reason: 'ar-guided' },
    ]);
    const disagree = new Map([...ar].map(([p, t]) => [p, t + 1]));
    expect(arGuidedCommits(x, MASK, 1, 5, proposals, disagree, 'dllm')).toEqual([
      { position: 3, token: 6, reason: 'low-confidence' },
    ]);
  });

  it('rejects bad options', () => {
    const dllm = new SyntheticMDLM(MASK, V, () => oneHot(0));
    const bad = (o: Partial<DiffusionOptions>) => () =>
      streamDiffusion(dllm, { prompt: PROMPT, genLength: 4, ...o } as DiffusionOptions);
    expect(bad({ commit: 'ar-guided' })).toThrow(/option 'arModel' must be set with commit 'ar-guided'/);
    expect(bad({ arModel: arModel() })).toThrow(/option 'commit' must be 'ar-guided' when option 'arModel'/);
    expect(bad({ commit: 'threshold', arFallback: 'ar' })).toThrow(/'ar-guided' when option 'arFallback'/);
    expect(bad({ commit: 'ar-guided', arModel: new SyntheticLM(V + 1, () => oneHot(0)) })).toThrow(
      /vocabulary size 12/,
    );
    expect(bad({ commit: 'ar-guided', arModel: { forward: 1 } as never })).toThrow(/arModel/);
    expect(bad({ commit: 'ar-guided', arModel: arModel(), arFallback: 'x' as 'ar' })).toThrow(/arFallback/);
    expect(
      bad({ commit: 'ar-guided', arModel: new SyntheticLM(V, () => oneHot(0), { contextLength: 5 }) }),
    ).toThrow(/context length/);
  });
});
