/**
 * Block diffusion decoding (BD3-LM arXiv 2503.09573; SDAR; Fast-dLLM v2 arXiv 2509.26328) on the
 * trained block-causal fixture `code-bdlm` (tools/fixtures/train_mdlm.py --block-causal): attention
 * is bidirectional inside a block and causal across blocks, so the keys and values of committed
 * blocks are final and the prefix cache of fast-dllm-cache.ts keeps them across blocks.
 * - greedy decoding, one token per step, gen 64 in blocks of 32 (prompt = block 0), uncached and
 *   with the prefix cache, reproduces train_mdlm.py's PyTorch decoding (`llada_tokens`, `llada_order`);
 * - the prefix and dual caches give token for token the uncached decoding's commits (greedy and
 *   sampled, one token per step and Fast-dLLM threshold commits), while every committed position is
 *   forwarded as context at most once after its block (exact KV reuse) and the positions forwarded
 *   fall well below the uncached forwards' (each of which runs the whole sequence).
 */
import { join } from 'node:path';
import { loadSafetensors } from '@hasten/core-tensor/node';
import type { MaskedDiffusionLM } from '@hasten/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES } from '../testing';
import { CODE_PROMPT, decisions, decodeSteps, loadCodeBdlm, RecordingMDLM } from './cache-testing';
import type { DiffusionOptions } from './options';

const BLOCK = 32;
let model: MaskedDiffusionLM;
let ref: (k: string) => Promise<number[]>;
beforeAll(async () => {
  model = await loadCodeBdlm();
  const { tensors } = await loadSafetensors(join(FIXTURES, 'code-bdlm', 'reference.safetensors'));
  ref = async (k: string) => Array.from((await tensors.get(k)!.data()) as Int32Array);
});
afterAll(() => model?.dispose());

describe('block diffusion on code-bdlm', () => {
  it('is block-causal with blocks of 32 (config.json)', () => {
    expect(model.config.attention).toEqual({ blockLength: BLOCK });
  });

  it("greedy decoding reproduces train_mdlm.py's block diffusion tokens and commit order, cached or not", async () => {
    const prompt = await ref('llada_prompt');
    const tokens = await ref('llada_tokens');
    const order = await ref('llada_order');
    expect(tokens.length).toBe(64);
    for (const cache of ['none', 'prefix'] as const) {
      const { events, canvas } = await decodeSteps(model, {
        prompt,
        genLength: 64,
        blockLength: BLOCK,
        steps: 64,
        eosFill: false,
        cache,
      });
      expect(canvas).toEqual(tokens);
      expect(events.flatMap((e) => e.commits.map((c) => c.position))).toEqual(order);
    }
  });

  const settings: [string, Partial<DiffusionOptions>][] = [
    ['greedy, one token per step', { steps: 64, eosFill: false }],
    [
      'sampled (temperature 1, seed 5), one token per step',
      { steps: 64, temperature: 1, seed: 5, eosFill: false },
    ],
    ['Fast-dLLM threshold 0.9', { commit: 'threshold', threshold: 0.9, eosFill: false }],
    ['Fast-dLLM threshold 0.9, eos-fill', { commit: 'threshold', threshold: 0.9 }],
  ];
  for (const [name, extra] of settings) {
    it(`${name}: the prefix and dual caches commit what the uncached decoding commits, forwarding fewer positions`, async () => {
      for (const prompt of [[256, ...new TextEncoder().encode('12+7*3-5=')], CODE_PROMPT]) {
        const opts: DiffusionOptions = { prompt, genLength: 64, blockLength: BLOCK, ...extra };
        const L = prompt.length + 64;
        const plainRec = new RecordingMDLM(model);
        const plain = await decodeSteps(plainRec, opts);
        // Uncached: every forward runs the whole sequence.
        expect(plainRec.forwarded.every((f) => f.length === L)).toBe(true);
        const plainPositions = plainRec.forwarded.length * L;
        for (const cache of ['prefix', 'dual'] as const) {
          const rec = new RecordingMDLM(model);
          const cached = await decodeSteps(rec, { ...opts, cache });
          expect(cached.canvas).toEqual(plain.canvas);
          expect(decisions(cached.events)).toEqual(decisions(plain.events));
          expect(cached.forwards).toBe(plain.forwards);
          // Each forward is a contiguous run [c, hi) ending at its block's end; the positions before
          // the block [hi - 32, hi) are context computed for the first time (cache misses): each
          // position is such context at most once, and the prompt is forwarded only once.
          const asContext = new Map<number, number>();
          for (const f of rec.forwarded) {
            const hi = f[f.length - 1] + 1;
            expect(f).toEqual(Array.from({ length: f.length }, (_, i) => f[0] + i));
            expect((hi - prompt.length) % BLOCK).toBe(0);
            for (const p of f) if (p < hi - BLOCK) asContext.set(p, (asContext.get(p) ?? 0) + 1);
          }
          expect(Math.max(...asContext.values())).toBe(1);
          expect(rec.forwarded.filter((f) => f[0] === 0).length).toBe(1);
          const positions = rec.forwarded.reduce((s, f) => s + f.length, 0);
          // At most one block plus the newly committed blocks per forward, against L per forward.
          expect(positions).toBeLessThanOrEqual(rec.forwarded.length * BLOCK + L);
          expect(positions).toBeLessThan(plainPositions / 2);
        }
      }
    });
  }
});
