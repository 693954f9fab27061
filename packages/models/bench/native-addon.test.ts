/**
 * The code target on the 'cpu-native' backend (@hasten/kernels-cpu: native matrix-vector products
 * and attention) decodes what it decodes on 'cpu' (WebAssembly kernels, float64 attention): the same
 * 48 greedy tokens after a held-out prompt, and first-step logits within 1e-4 of the largest |logit|
 * (both f32; the native path sums in another order). Skipped, with the reason, without the addon.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tensor } from '@hasten/core-tensor';
import { cpuKernelsInfo, isCpuAddonAvailable, NATIVE_BACKEND, registerCpuNative } from '@hasten/kernels-cpu';
import { describe, expect, it } from 'vitest';
import { loadCausalLM, loadTokenizer } from '../src/node';
import { FIXTURES, fixtureDir, greedy } from '../src/testing';

const available = isCpuAddonAvailable();
if (!available) console.warn(`native addon model test skipped: ${cpuKernelsInfo().reason}`);

describe.skipIf(!available)('code target on the native kernels addon', () => {
  it('decodes the same greedy tokens as the WebAssembly backend, logits within 1e-4', async () => {
    registerCpuNative();
    const dir = fixtureDir('code-target');
    const heldout = join(FIXTURES, 'corpus', 'heldout');
    const file = readdirSync(heldout).sort()[0];
    const prompt = loadTokenizer(dir)
      .encode(readFileSync(join(heldout, file), 'utf8'))
      .slice(0, 255);
    const results = [];
    for (const device of ['cpu', NATIVE_BACKEND]) {
      const model = await loadCausalLM(dir, { device });
      const cache = model.createCache();
      const ids = tensor(Int32Array.from(prompt), [1, prompt.length]);
      const scratch = model.createCache();
      const { logits } = await model.forward({ tokens: ids, cache: scratch, logitsToKeep: 1 });
      const first = Float32Array.from((await logits.data()) as Float32Array);
      logits.dispose();
      ids.dispose();
      scratch.dispose();
      const { tokens } = await greedy(model, cache, prompt, 48);
      results.push({ first, tokens });
      cache.dispose();
      model.dispose();
    }
    const [wasm, native] = results;
    expect(native.tokens).toEqual(wasm.tokens);
    const scale = Math.max(...wasm.first.map(Math.abs));
    let err = 0;
    for (let i = 0; i < wasm.first.length; i++)
      err = Math.max(err, Math.abs(native.first[i] - wasm.first[i]));
    expect(err).toBeLessThanOrEqual(1e-4 * scale);
    expect(new Set(wasm.tokens).size).toBeGreaterThan(5); // real text, not one repeated token
  });
});
