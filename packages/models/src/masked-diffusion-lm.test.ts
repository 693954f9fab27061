/**
 * The masked diffusion LM fixture (`fixtures/code-mdlm`, trained by tools/fixtures/train_mdlm.py) run
 * through NativeMaskedDiffusionLM on the native Llama model, against its PyTorch references
 * (llama_ref.py with a bidirectional and a block-causal mask), and KV reuse against full forwards:
 * - bidirectional and block-causal (block 16) logits match reference.safetensors to 1e-4;
 * - block-causal: the committed prefix forwarded once into the cache, then only the current block,
 *   gives the full forward's logits;
 * - bidirectional: a cache holding the prefix and the suffix (keepPositions) and a forward of the
 *   middle block gives the full forward's logits (the slot order of cached keys does not matter);
 * - config errors name the field; unknown forward options are named.
 */
import { tensor } from '@hasten/core-tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelError } from './errors';
import { maskedDiffusionOptionsFromConfig, type NativeMaskedDiffusionLM } from './masked-diffusion-lm';
import { loadMaskedDiffusionLM } from './masked-diffusion-lm-load';
import { fixtureDir, readReference, relativeError } from './testing';

let model: NativeMaskedDiffusionLM;
let ref: Awaited<ReturnType<typeof readReference>>;
beforeAll(async () => {
  const dir = fixtureDir('code-mdlm');
  model = await loadMaskedDiffusionLM(dir);
  ref = await readReference(dir);
});
afterAll(() => model?.dispose());

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

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

describe('code-mdlm fixture', () => {
  it('reads the mask token and the attention from config.json', () => {
    expect(model.maskTokenId).toBe(259);
    expect(model.config.maskTokenId).toBe(259);
    expect(model.config.attention).toBe('bidirectional');
    expect(model.config.vocabSize).toBe(260);
  });

  it('bidirectional logits and hidden states match the PyTorch reference', async () => {
    const out = await model.forward({
      tokens: ref.input_ids,
      positions: ref.position_ids,
      outputHiddenStates: true,
    });
    expect(await relativeError(out.logits, ref.logits)).toBeLessThan(1e-4);
    expect(await relativeError(out.hiddenStates!, ref.hidden_states)).toBeLessThan(1e-4);
    // The reference input has mask tokens; a causal forward would differ.
    const causal = await model.model.forward({ tokens: ref.input_ids, positions: ref.position_ids });
    expect(await relativeError(causal.logits, ref.logits)).toBeGreaterThan(1e-2);
  });

  it('block-causal logits (block 16) match the PyTorch reference', async () => {
    const out = await model.forward({
      tokens: ref.input_ids,
      positions: ref.position_ids,
      attention: { blockLength: 16 },
    });
    expect(await relativeError(out.logits, ref.logits_block_causal)).toBeLessThan(1e-4);
  });

  it('block-causal: committed blocks forwarded once into the cache, then the current block alone', async () => {
    const ids = Array.from((await ref.input_ids.data()) as Int32Array).slice(0, 48);
    const attention = { blockLength: 16 };
    const full = await model.forward({
      tokens: tensor(Int32Array.from(ids), [1, 48], { dtype: 'i32' }),
      attention,
    });
    const cache = model.createCache({ maxLength: 48 });
    await model.forward({
      tokens: tensor(Int32Array.from(ids.slice(0, 32)), [1, 32], { dtype: 'i32' }),
      cache,
      writeCache: true,
      attention,
    });
    expect(cache.length).toBe(32);
    const block = await model.forward({
      tokens: tensor(Int32Array.from(ids.slice(32)), [1, 16], { dtype: 'i32' }),
      cache,
      attention,
    });
    expect(cache.length).toBe(32);
    expect(maxAbs(await rows(block.logits, 0, 0, 16), await rows(full.logits, 0, 32, 48))).toBeLessThan(1e-4);
    cache.dispose();
  });

  it('bidirectional: prefix + suffix in the cache, the middle block forwarded against it', async () => {
    const ids = Array.from((await ref.input_ids.data()) as Int32Array).slice(48, 96); // row 1
    const full = await model.forward({ tokens: tensor(Int32Array.from(ids), [1, 48], { dtype: 'i32' }) });
    const cache = model.createCache({ maxLength: 48 });
    await model.forward({
      tokens: tensor(Int32Array.from(ids), [1, 48], { dtype: 'i32' }),
      cache,
      writeCache: true,
    });
    cache.keepPositions(16, range(32, 48));
    expect(cache.length).toBe(32);
    const mid = await model.forward({
      tokens: tensor(Int32Array.from(ids.slice(16, 32)), [1, 16], { dtype: 'i32' }),
      positions: tensor(Int32Array.from(range(16, 32)), [1, 16], { dtype: 'i32' }),
      cache,
    });
    expect(maxAbs(await rows(mid.logits, 0, 0, 16), await rows(full.logits, 0, 16, 32))).toBeLessThan(1e-4);
    cache.dispose();
  });

  it("outputQueries: the last N positions' queries of every layer, as the wrapped model returns them", async () => {
    const ids = Int32Array.from((await ref.input_ids.data()) as Int32Array).slice(0, 24);
    const tokens = tensor(ids, [1, 24], { dtype: 'i32' });
    const out = await model.forward({ tokens, outputQueries: 3 });
    const c = model.config;
    expect(out.queries?.length).toBe(c.numLayers);
    for (const q of out.queries ?? []) expect(q.length).toBe(c.numHeads * 3 * c.headDim);
    const all = tensor(new Uint8Array(24 * 24).fill(1), [1, 1, 24, 24], { dtype: 'bool' });
    const direct = await model.model.forward({ tokens, attention: all, writeCache: false, outputQueries: 3 });
    expect(out.queries).toEqual(direct.queries);
    all.dispose();
    tokens.dispose();
  });

  it('names bad config fields and unknown forward options', async () => {
    expect(() => maskedDiffusionOptionsFromConfig({ vocab_size: 260 })).toThrow(/mask_token_id/);
    expect(() =>
      maskedDiffusionOptionsFromConfig({ mask_token_id: 259, diffusion_attention: 'causal' }),
    ).toThrow(/diffusion_attention/);
    expect(() =>
      maskedDiffusionOptionsFromConfig({ mask_token_id: 259, diffusion_attention: 'block-causal' }),
    ).toThrow(/diffusion_block_length/);
    expect(
      maskedDiffusionOptionsFromConfig({
        mask_token_id: 7,
        diffusion_attention: 'block-causal',
        diffusion_block_length: 4,
      }),
    ).toEqual({ maskTokenId: 7, attention: { blockLength: 4 } });
    const e = await model.forward({ tokens: ref.input_ids, writecache: true } as never).then(
      () => null,
      (err) => err,
    );
    expect(e).toBeInstanceOf(ModelError);
    expect(String(e.message)).toMatch(/writecache/);
  });
});
