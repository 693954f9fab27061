/**
 * The block diffusion fixture (`fixtures/code-bdlm`, trained by tools/fixtures/train_mdlm.py
 * --block-causal with BD3-LM's objective, arXiv 2503.09573) run through NativeMaskedDiffusionLM on
 * the native Llama model, against its PyTorch references (llama_ref.py with block-causal masks):
 * - config.json's `diffusion_attention: "block-causal"` / `diffusion_block_length` become the
 *   default attention, and its logits and hidden states match reference.safetensors to 1e-4;
 * - with the prompt as its own block 0 (offset 10), the logits match `logits_prompt_block`;
 * - the committed block forwarded once into the cache, then the next block alone against it, gives
 *   the full forward's logits (the exact KV reuse block diffusion decoding relies on).
 */
import { tensor } from '@hasten/core-tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NativeMaskedDiffusionLM } from './masked-diffusion-lm';
import { loadMaskedDiffusionLM } from './masked-diffusion-lm-load';
import { fixtureDir, readReference, relativeError } from './testing';

let model: NativeMaskedDiffusionLM;
let ref: Awaited<ReturnType<typeof readReference>>;
beforeAll(async () => {
  const dir = fixtureDir('code-bdlm');
  model = await loadMaskedDiffusionLM(dir);
  ref = await readReference(dir);
});
afterAll(() => model?.dispose());

/** Row `row`, positions [a, b) of logits [B, S, V] as a flat array. */
async function rows(
  t: { data(): Promise<ArrayLike<number>>; shape: readonly number[] },
  row: number,
  a: number,
  b: number,
) {
  const [, S, V] = t.shape;
  const d = await t.data();
  return Array.from(d).slice((row * S + a) * V, (row * S + b) * V);
}

function maxAbs(a: number[], b: number[]): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('code-bdlm fixture', () => {
  it('reads the mask token and block-causal attention (blocks of 32) from config.json', () => {
    expect(model.maskTokenId).toBe(259);
    expect(model.config.attention).toEqual({ blockLength: 32 });
    expect(model.config.vocabSize).toBe(260);
  });

  it('block-causal logits and hidden states (the default attention) match the PyTorch reference', async () => {
    const out = await model.forward({
      tokens: ref.input_ids,
      positions: ref.position_ids,
      outputHiddenStates: true,
    });
    expect(await relativeError(out.logits, ref.logits)).toBeLessThan(1e-4);
    expect(await relativeError(out.hiddenStates!, ref.hidden_states)).toBeLessThan(1e-4);
    // The mask matters: bidirectional attention over the same input gives other logits.
    const bi = await model.forward({
      tokens: ref.input_ids,
      positions: ref.position_ids,
      attention: 'bidirectional',
    });
    expect(await relativeError(bi.logits, ref.logits)).toBeGreaterThan(1e-2);
  });

  it('the prompt as block 0 (offset 10), then blocks of 32: logits match the reference', async () => {
    const out = await model.forward({
      tokens: ref.input_ids,
      positions: ref.position_ids,
      attention: { blockLength: 32, offset: 10 },
    });
    expect(await relativeError(out.logits, ref.logits_prompt_block)).toBeLessThan(1e-4);
    expect(await relativeError(out.logits, ref.logits)).toBeGreaterThan(1e-3);
  });

  it('the committed block forwarded once into the cache, then the next block alone: full-forward logits', async () => {
    for (const row of [0, 1]) {
      const ids = Array.from((await ref.input_ids.data()) as Int32Array).slice(row * 48, row * 48 + 48);
      const full = await model.forward({ tokens: tensor(Int32Array.from(ids), [1, 48], { dtype: 'i32' }) });
      const cache = model.createCache({ maxLength: 48 });
      const first = await model.forward({
        tokens: tensor(Int32Array.from(ids.slice(0, 32)), [1, 32], { dtype: 'i32' }),
        cache,
        writeCache: true,
      });
      expect(cache.length).toBe(32);
      expect(maxAbs(await rows(first.logits, 0, 0, 32), await rows(full.logits, 0, 0, 32))).toBeLessThan(
        1e-4,
      );
      const block = await model.forward({
        tokens: tensor(Int32Array.from(ids.slice(32)), [1, 16], { dtype: 'i32' }),
        cache,
      });
      expect(maxAbs(await rows(block.logits, 0, 0, 16), await rows(full.logits, 0, 32, 48))).toBeLessThan(
        1e-4,
      );
      cache.dispose();
    }
  });
});
