// Cross-package: @hasten/models generating through @hasten/kv caches, on the trained fixtures.
import { ContiguousKVCache } from '@hasten/kv';
import type { CausalLM } from '@hasten/models';
import { loadCausalLM, loadTokenizer } from '@hasten/models/node';
import { OrtCausalLM } from '@hasten/models/ort';
import { describe, expect, it } from 'vitest';
import { fixtureDir, greedy, readReference } from '../packages/models/src/testing';

describe.each(['code-target', 'code-draft'])('greedy generation on %s', (name) => {
  it('native and ORT reproduce the PyTorch greedy tokens through the KV cache', async () => {
    const dir = fixtureDir(name, 'onnx/model.onnx');
    const ref = await readReference(dir);
    const want = Array.from(await ref.greedy_tokens.data());
    const prompt = Array.from(await ref.input_ids.slice(0, 0, 1).data());
    const tok = loadTokenizer(dir);
    expect(tok.decode(prompt)).toBe('import os\n\ndef read_lines(path):\n    with');
    const models: [string, CausalLM][] = [
      ['native', await loadCausalLM(dir)],
      ['ort', await OrtCausalLM.load(dir, { intraOpNumThreads: 1 })],
    ];
    for (const [label, model] of models) {
      const cache = model.createCache();
      expect(cache).toBeInstanceOf(ContiguousKVCache);
      const { tokens } = await greedy(model, cache, prompt, want.length);
      expect({ label, tokens }).toEqual({ label, tokens: want });
      expect(cache.length).toBe(prompt.length + want.length - 1);
      expect(cache.memory().usedBytes).toBe(
        cache.length * model.config.numLayers * model.config.numKvHeads * model.config.headDim * 4 * 2,
      );
      model.dispose();
    }
  });
});

describe('speculative-style cache use (fork, truncate, re-decode)', () => {
  it('rejecting drafts and decoding again gives the same tokens as plain greedy', async () => {
    const dir = fixtureDir('code-draft');
    const ref = await readReference(dir);
    const want = Array.from(await ref.greedy_tokens.data()).slice(0, 12);
    const prompt = Array.from(await ref.input_ids.slice(0, 0, 1).data());
    const model = await loadCausalLM(dir);
    const cache = model.createCache();
    const first = await greedy(model, cache, prompt, 4);
    const keep = cache.length;
    // a "draft" branch on a fork, then wrong drafts written and rejected on the main cache
    const fork = cache.fork();
    await greedy(model, fork, [first.tokens[3]], 3);
    await greedy(model, cache, [7, 7, 7], 1);
    cache.truncate(keep);
    const rest = await greedy(model, cache, [first.tokens[3]], 8);
    expect([...first.tokens, ...rest.tokens]).toEqual(want);
    expect(fork.length).toBe(keep + 3);
  });
});
