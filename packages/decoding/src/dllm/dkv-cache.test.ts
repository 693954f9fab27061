/**
 * dKV-Cache-Decode on the trained fixture code-mdlm: refreshed every step it is the uncached
 * decoding exactly; otherwise each step forwards exactly what the delayed-caching rule says (the
 * masked positions and the previous step's commits), from the step events alone.
 */
import type { MaskedDiffusionLM } from '@hasten/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CODE_PROMPT, decodeSteps, loadCodeMdlm, RecordingMDLM } from './cache-testing';
import { generateDiffusion } from './generate-diffusion';

let model: MaskedDiffusionLM;
beforeAll(async () => {
  model = await loadCodeMdlm();
});
afterAll(() => model?.dispose());

const base = { prompt: CODE_PROMPT, genLength: 32, blockLength: 16, eosFill: false } as const;

describe('dKV-Cache-Decode', () => {
  for (const [name, extra] of [
    ['greedy, one token per step', { temperature: 0 }],
    ['sampled T=0.8, seed 5, threshold commits', { temperature: 0.8, seed: 5, commit: 'threshold' }],
  ] as const) {
    it(`refreshEvery 1 reproduces the uncached decoding step by step (${name})`, async () => {
      const plain = await decodeSteps(model, { ...base, ...extra });
      const cached = await decodeSteps(model, { ...base, ...extra, cache: 'dkv', refreshEvery: 1 });
      expect(cached.events).toEqual(plain.events);
      expect(cached.canvas).toEqual(plain.canvas);
      expect(cached.forwards).toBe(plain.forwards);
    });
  }

  it('forwards every masked position plus the previous step commits; refreshes are full', async () => {
    const rec = new RecordingMDLM(model);
    const refreshEvery = 5;
    const { events } = await decodeSteps(rec, { ...base, cache: 'dkv', refreshEvery });
    const L = CODE_PROMPT.length + base.genLength;
    const P = CODE_PROMPT.length;
    expect(rec.forwarded.length).toBe(events.length);
    const decided = new Set<number>(); // absolute positions committed before the current step
    let stepInBlock = 0;
    events.forEach((e, i) => {
      if (i > 0 && e.block !== events[i - 1].block) stepInBlock = 0;
      const want: number[] = [];
      const prev = new Set(i > 0 ? events[i - 1].commits.map((c) => c.position + P) : []);
      for (let p = 0; p < L; p++) {
        const full = stepInBlock % refreshEvery === 0;
        const masked = p >= P && !decided.has(p);
        if (full || masked || (prev.has(p) && events[i - 1].block === e.block)) want.push(p);
      }
      expect(rec.forwarded[i]).toEqual(want);
      for (const c of e.commits) decided.add(c.position + P);
      stepInBlock++;
    });
    // Far fewer positions than the uncached decoding's L per step.
    const total = rec.forwarded.reduce((s, f) => s + f.length, 0);
    expect(total).toBeLessThan(0.7 * L * events.length);
  });

  it('default refresh (8 steps): the decoding still agrees with the uncached one on most positions', async () => {
    const plain = await generateDiffusion(model, base);
    const cached = await generateDiffusion(model, { ...base, cache: 'dkv' });
    const same = cached.rows[0].canvas.filter((t, i) => t === plain.rows[0].canvas[i]).length;
    expect(same).toBeGreaterThanOrEqual(0.75 * base.genLength);
  });

  it('names the field of a bad option', async () => {
    await expect(generateDiffusion(model, { ...base, cache: 'dkv', refreshEvery: 0 })).rejects.toThrow(
      /refreshEvery/,
    );
    await expect(generateDiffusion(model, { ...base, cache: 'dkv', refreshRatio: 0.5 })).rejects.toThrow(
      /option 'cache' must be 'dllm-cache' when option 'refreshRatio' is set/,
    );
  });
});
