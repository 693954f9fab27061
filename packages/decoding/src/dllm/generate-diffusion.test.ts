/**
 * generateDiffusion / streamDiffusion on a real transformer (the random-weight `families/llama-mha`
 * checkpoint run as a bidirectional mask predictor, mask id 259):
 * - one token per step (and k per step), no cache: the step events equal the plain-loop LLaDA
 *   reference (reference.ts) step by step, greedy and sampled at fixed seeds, low-confidence and
 *   random remasking, one block and semi-autoregressive blocks;
 * - prefix and dual cache refreshed every step equal the uncached decoding exactly; with
 *   block-causal attention the prefix cache without refresh is exact too;
 * - Fast-dLLM threshold / factor commits equal a hand simulation of the rules on a synthetic model;
 * - eos-fill, abort and option errors;
 * - on the trained fixture `code-mdlm`: greedy LLaDA decoding equals train_mdlm.py's (PyTorch).
 */
import { join } from 'node:path';
import { rng } from '@hasten/core-tensor';
import { loadSafetensors } from '@hasten/core-tensor/node';
import { type MaskedDiffusionLM, NativeMaskedDiffusionLM } from '@hasten/models';
import { loadCausalLM, loadMaskedDiffusionLM } from '@hasten/models/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecodingError } from '../errors';
import { FIXTURES, softmaxRef } from '../testing';
import { type DiffusionStepEvent, generateDiffusion, streamDiffusion } from './generate-diffusion';
import type { DiffusionOptions } from './options';
import { lladaReference } from './reference';
import { SyntheticMDLM } from './testing';

let model: MaskedDiffusionLM;
beforeAll(async () => {
  model = new NativeMaskedDiffusionLM(await loadCausalLM(join(FIXTURES, 'families/llama-mha')), {
    maskTokenId: 259,
  });
});
afterAll(() => model?.dispose());

const PROMPT = [256, 100, 101, 102, 32, 61, 40];

async function steps(opts: DiffusionOptions): Promise<{ events: DiffusionStepEvent[]; canvas: number[] }> {
  return stepsOf(model, opts);
}

async function stepsOf(
  m: MaskedDiffusionLM,
  opts: DiffusionOptions,
): Promise<{ events: DiffusionStepEvent[]; canvas: number[] }> {
  const events: DiffusionStepEvent[] = [];
  const it = streamDiffusion(m, opts);
  while (true) {
    const r = await it.next();
    if (r.done) return { events, canvas: r.value.rows[0].canvas };
    if (r.value.type === 'step') events.push(r.value);
  }
}

describe('LLaDA sampler against the plain-loop reference', () => {
  const cases = [
    {
      name: 'greedy, low-confidence, one block',
      genLength: 12,
      blockLength: 12,
      steps: 12,
      temperature: 0,
      remasking: 'low-confidence' as const,
      seed: 0,
    },
    {
      name: 'sampled T=1, low-confidence, 3 blocks',
      genLength: 12,
      blockLength: 4,
      steps: 12,
      temperature: 1,
      remasking: 'low-confidence' as const,
      seed: 7,
    },
    {
      name: 'sampled T=0.7, random remasking, 2 blocks',
      genLength: 12,
      blockLength: 6,
      steps: 12,
      temperature: 0.7,
      remasking: 'random' as const,
      seed: 11,
    },
    {
      name: 'greedy, 2 tokens per step, 2 blocks',
      genLength: 12,
      blockLength: 6,
      steps: 6,
      temperature: 0,
      remasking: 'low-confidence' as const,
      seed: 0,
    },
    {
      name: 'sampled T=1.3, 3 steps per block of 5',
      genLength: 10,
      blockLength: 5,
      steps: 6,
      temperature: 1.3,
      remasking: 'low-confidence' as const,
      seed: 5,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const { name: _n, seed, ...ro } = c;
      const ref = await lladaReference(model, PROMPT, ro, rng(seed).fold(0));
      const got = await steps({ prompt: PROMPT, ...ro, seed, eosFill: false });
      expect(got.events.length).toBe(ref.trace.length);
      for (let s = 0; s < ref.trace.length; s++) {
        expect(got.events[s].commits.map((x) => x.position)).toEqual(ref.trace[s].positions);
        expect(got.events[s].commits.map((x) => x.token)).toEqual(ref.trace[s].tokens);
      }
      expect(got.canvas).toEqual(ref.canvas);
      expect(got.canvas).not.toContain(259);
    });
  }
});

describe('Fast-dLLM caches', () => {
  const base = { prompt: PROMPT, genLength: 16, blockLength: 8, eosFill: false } as const;

  it('prefix and dual cache refreshed every step equal the uncached decoding', async () => {
    for (const commit of ['schedule', 'threshold'] as const) {
      const opts = { ...base, commit, threshold: 0.05 };
      const plain = await generateDiffusion(model, opts);
      for (const cache of ['prefix', 'dual'] as const) {
        const cached = await generateDiffusion(model, { ...opts, cache, refreshEvery: 1 });
        expect(cached.rows[0].canvas).toEqual(plain.rows[0].canvas);
        expect(cached.stats.forwards).toBe(plain.stats.forwards);
      }
    }
  });

  it('a cached step against unchanged keys gives the logits of the full forward', async () => {
    // x unchanged since the refresh: the cached step attends to exactly the keys of a full forward.
    const { BlockForwarder } = await import('./fast-dllm-cache');
    const x = Int32Array.from([...PROMPT, 65, 66, 259, 259, 67, 259, 259, 259, 68, 259]);
    const lo = PROMPT.length + 2;
    const hi = lo + 4;
    const full = new BlockForwarder(model, 'none', 'bidirectional', x.length);
    const want = await full.blockLogits(x, lo, hi, 0);
    for (const mode of ['prefix', 'dual'] as const) {
      const f = new BlockForwarder(model, mode, 'bidirectional', x.length);
      const first = await f.blockLogits(x, lo, hi, 0);
      const second = await f.blockLogits(x, lo, hi, 1);
      f.dispose();
      let d1 = 0;
      let d2 = 0;
      for (let i = 0; i < want.length; i++) {
        d1 = Math.max(d1, Math.abs(first[i] - want[i]));
        d2 = Math.max(d2, Math.abs(second[i] - want[i]));
      }
      expect(d1).toBeLessThan(1e-5);
      expect(d2).toBeLessThan(1e-4);
      expect(f.forwards).toBe(2);
    }
    full.dispose();
  });

  it('block-causal attention: prefix and dual cache without refresh equal the uncached decoding', async () => {
    for (const temperature of [0, 1]) {
      const opts = { ...base, attention: 'block-causal' as const, temperature, seed: 3 };
      const plain = await generateDiffusion(model, opts);
      for (const cache of ['prefix', 'dual'] as const) {
        const cached = await generateDiffusion(model, { ...opts, cache });
        expect(cached.rows[0].canvas).toEqual(plain.rows[0].canvas);
      }
    }
  });
});

describe('parallel commits', () => {
  // Synthetic logits with confidences spread over (0, 1): position bias plus a pull towards the
  // token after the left neighbour's committed token.
  const V = 6;
  const MASK = 5;
  const fn = (pos: number, x: readonly number[]) => {
    const out = [0, 0, 0, 0, 0, -40];
    out[pos % 5] += 0.4 * (pos % 7);
    if (pos > 0 && x[pos - 1] !== MASK) out[(x[pos - 1] + 1) % 5] += 3;
    return out;
  };
  /** The hand-simulated commits of a rule: its commit count from all masked confidences at each step. */
  function simulate(count: (sorted: number[]) => number, genLength: number): number[][] {
    const x = [0, ...new Array(genLength).fill(MASK)];
    const trace: number[][] = [];
    while (x.includes(MASK)) {
      const cand = [];
      for (let p = 1; p < x.length; p++) {
        if (x[p] !== MASK) continue;
        const l = fn(p, x);
        const q = softmaxRef(l);
        const tok = l.indexOf(Math.max(...l));
        cand.push({ p, tok, c: q[tok] });
      }
      cand.sort((a, b) => b.c - a.c || a.p - b.p);
      const k = count(cand.map((c) => c.c));
      const step = cand.slice(0, k);
      for (const c of step) x[c.p] = c.tok;
      trace.push(step.map((c) => c.p - 1));
    }
    return trace;
  }

  for (const [commit, count] of [
    ['threshold', (c: number[]) => 1 + c.slice(1).filter((v) => v >= 0.7).length],
    [
      'factor',
      (c: number[]) => {
        let n = 1;
        while (n < c.length && (n + 2) * (1 - c[n]) <= 2) n++;
        return n;
      },
    ],
  ] as const) {
    it(`${commit}: commits what the rule picks from all masked confidences, step by step`, async () => {
      const model = new SyntheticMDLM(MASK, V, fn);
      const events: DiffusionStepEvent[] = [];
      for await (const e of streamDiffusion(model, {
        prompt: [0],
        genLength: 16,
        commit,
        threshold: 0.7,
        factor: 2,
        eosFill: false,
      })) {
        if (e.type === 'step') events.push(e);
      }
      const want = simulate(count, 16);
      expect(events.map((e) => e.commits.map((c) => c.position))).toEqual(want);
      expect(want.some((s) => s.length > 1)).toBe(true);
      expect(model.forwards).toBe(want.length);
    });
  }
});

describe('end of text and options', () => {
  it('eos-fill: positions after a committed <eos> are filled and never decoded', async () => {
    // Make byte 127 the end-of-text token: the random model commits it early (it does without
    // eos-fill at generated position 8 and later).
    const opts = { prompt: PROMPT, genLength: 24, eosTokenId: 127, eosFill: true } as const;
    const { events, canvas } = await steps(opts);
    const first = canvas.indexOf(127);
    const decoded = events.flatMap((e) => e.commits.filter((c) => c.reason !== 'eos-fill'));
    const filled = events.flatMap((e) => e.commits.filter((c) => c.reason === 'eos-fill'));
    expect(first).toBeGreaterThanOrEqual(0);
    expect(filled.length).toBeGreaterThan(0);
    for (const c of filled) expect(c.position).toBeGreaterThan(first);
    // After the first <eos>: fill, or a token committed before that <eos> was (never re-masked).
    const decodedAt = new Set(decoded.map((c) => c.position));
    for (let i = first + 1; i < 24; i++) expect(canvas[i] === 127 || decodedAt.has(i)).toBe(true);
    expect(decoded.length + filled.length).toBe(24);
    expect(events.length).toBe(decoded.length);
    const res = await generateDiffusion(model, opts);
    expect(res.stats.decodedTokens).toBe(decoded.length);
    expect(res.stats.filledTokens).toBe(filled.length);
    expect(res.stats.forwards).toBe(decoded.length);
    expect(res.rows[0].finishReason).toBe('stop');
    expect(res.rows[0].tokens).toEqual(canvas.slice(0, first + 1));
  });

  it('abort before the first forward ends the row with reason abort', async () => {
    const ac = new AbortController();
    ac.abort();
    const res = await generateDiffusion(model, { prompt: PROMPT, genLength: 8, signal: ac.signal });
    expect(res.rows[0].finishReason).toBe('abort');
    expect(res.stats.forwards).toBe(0);
    expect(res.rows[0].canvas).toEqual(new Array(8).fill(259));
  });

  it('rejects unknown keys and bad values naming the field', () => {
    const bad = (o: Record<string, unknown>) => () =>
      streamDiffusion(model, { prompt: PROMPT, ...o } as DiffusionOptions);
    expect(bad({ genLenght: 8 })).toThrow(/genLenght/);
    expect(bad({ genLength: 10, blockLength: 4 })).toThrow(/blockLength/);
    expect(bad({ genLength: 8, blockLength: 4, steps: 3 })).toThrow(/steps/);
    expect(bad({ commit: 'threshold', remasking: 'random' })).toThrow(/remasking/);
    expect(bad({ threshold: 0 })).toThrow(/threshold/);
    expect(bad({ genLength: 600 })).toThrow(DecodingError);
  });
});

describe('code-mdlm fixture against PyTorch', () => {
  it("greedy LLaDA decoding reproduces train_mdlm.py's llada_tokens and commit order", async () => {
    const dir = join(FIXTURES, 'code-mdlm');
    const { tensors } = await loadSafetensors(join(dir, 'reference.safetensors'));
    const read = async (k: string) => Array.from((await tensors.get(k)!.data()) as Int32Array);
    const prompt = await read('llada_prompt');
    const mdlm = await loadMaskedDiffusionLM(dir);
    try {
      const { events, canvas } = await stepsOf(mdlm, {
        prompt,
        genLength: 32,
        blockLength: 16,
        steps: 32,
        eosFill: false,
      });
      expect(canvas).toEqual(await read('llada_tokens'));
      expect(events.flatMap((e) => e.commits.map((c) => c.position))).toEqual(await read('llada_order'));
    } finally {
      mdlm.dispose();
    }
  });
});
