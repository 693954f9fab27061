// Cross-package: @hasten/models decoding through the KIVI QuantizedKVCache on the code-target
// fixture (kv cannot import models, so this lives here).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ContiguousKVCache, QuantizedKVCache } from '@hasten/kv';
import { loadCausalLM } from '@hasten/models/node';
import { describe, expect, it } from 'vitest';
import { FIXTURES, fixtureDir, greedy } from '../packages/models/src/testing';

describe('QuantizedKVCache on code-target', () => {
  it('8 bits decodes the contiguous cache tokens; 4 and 2 bits are reported', async () => {
    const dir = fixtureDir('code-target');
    const model = await loadCausalLM(dir);
    // 300 tokens of held-out CPython source (a file the fixture never saw), from a line start.
    const bytes = readFileSync(join(FIXTURES, 'corpus/heldout/shutil.py'));
    let at = 4000;
    while (bytes[at - 1] !== 0x0a) at++;
    const prompt = [256, ...bytes.subarray(at, at + 299)];
    const { numLayers, numKvHeads, headDim } = model.config;
    const shape = { numLayers, batch: 1, numKvHeads, headDim, maxLength: 400 };
    const steps = 48;
    const want = (await greedy(model, new ContiguousKVCache(shape), prompt, steps)).tokens;
    const agreement: Record<number, number> = {};
    for (const bits of [8, 4, 2] as const) {
      const cache = new QuantizedKVCache({ ...shape, bits }); // G = 32, R = 128
      const { tokens } = await greedy(model, cache, prompt, steps);
      agreement[bits] = tokens.filter((t, i) => t === want[i]).length / steps;
      if (bits === 8) expect(tokens).toEqual(want);
      expect(cache.length).toBe(300 + steps - 1);
      // 160 of the 347 positions are quantized (groups of 32 leave once 128 remain in f32)
      const f32Bytes = cache.length * numLayers * numKvHeads * headDim * 4 * 2;
      expect(cache.memory().usedBytes).toBeLessThan(f32Bytes * 0.7);
      cache.dispose();
    }
    // Reported, not asserted: greedy decoding diverges after the first differing token.
    console.log(
      `QuantizedKVCache token agreement with the f32 cache, 48 greedy tokens after 300: ${[8, 4, 2]
        .map((b) => `${b}-bit ${(agreement[b] * 100).toFixed(1)}%`)
        .join(', ')}`,
    );
    model.dispose();
  }, 120_000);
});
