import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { concat, type Tensor, tensor } from '@hasten/core-tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelError } from '../errors';
import type { LlamaModel } from '../llama/model';
import { loadCausalLM } from '../load';
import { FAMILIES, fixtureDir, readReference, relativeError } from '../testing';
import { OrtCausalLM } from './model';

const TOL = 1e-4;

const TRAINED = ['code-draft', 'code-target'];

describe.each(FAMILIES)('OrtCausalLM on our export of families/%s', (family) => {
  it('matches the PyTorch reference in one forward and through the cache in chunks', async () => {
    const dir = fixtureDir(`families/${family}`, 'onnx/model.onnx');
    const ort = await OrtCausalLM.load(dir, { intraOpNumThreads: 1 });
    const ref = await readReference(dir);
    try {
      const out = await ort.forward({
        tokens: ref.input_ids,
        positions: ref.position_ids,
        outputHiddenStates: true,
      });
      expect(await relativeError(out.logits, ref.logits)).toBeLessThan(TOL);
      expect(await relativeError(out.hiddenStates!, ref.hidden_states)).toBeLessThan(TOL);
      const cache = ort.createCache({ batch: ref.input_ids.shape[0] });
      const chunked = await ort.forward({ tokens: ref.input_ids, cache, chunkSize: 5 });
      expect(await relativeError(chunked.logits, ref.logits)).toBeLessThan(TOL);
    } finally {
      ort.dispose();
    }
  });
});

describe.each(TRAINED)('OrtCausalLM on our export of %s (4-D additive mask)', (name) => {
  let ort: OrtCausalLM;
  let native: LlamaModel;
  let ref: Record<string, Tensor>;
  beforeAll(async () => {
    const dir = fixtureDir(name, 'onnx/model.onnx');
    ort = await OrtCausalLM.load(dir, { intraOpNumThreads: 1 });
    native = await loadCausalLM(dir);
    ref = await readReference(dir);
  });
  afterAll(() => ort?.dispose());

  it('detects the layout and matches the PyTorch reference and the native model', async () => {
    expect(ort.layout).toBe('additive-4d');
    const out = await ort.forward({
      tokens: ref.input_ids,
      positions: ref.position_ids,
      outputHiddenStates: true,
    });
    expect(await relativeError(out.logits, ref.logits)).toBeLessThan(TOL);
    expect(await relativeError(out.hiddenStates!, ref.hidden_states)).toBeLessThan(TOL);
    const nat = await native.forward({ tokens: ref.input_ids, positions: ref.position_ids });
    expect(await relativeError(out.logits, nat.logits)).toBeLessThan(TOL);
  });

  it('chunked prefill, token-by-token decoding and truncation through the cache', async () => {
    const [B, S] = ref.input_ids.shape;
    const cache = ort.createCache({ batch: B });
    const parts = [
      (await ort.forward({ tokens: ref.input_ids.slice(1, 0, S - 6), cache, chunkSize: 7 })).logits,
    ];
    for (let s = S - 6; s < S; s++)
      parts.push((await ort.forward({ tokens: ref.input_ids.slice(1, s, s + 1), cache })).logits);
    expect(cache.length).toBe(S);
    expect(await relativeError(concat(parts, 1), ref.logits)).toBeLessThan(TOL);
    // rewind 4 positions (rejected drafts) and redo them in one forward
    cache.truncate(S - 4);
    const redo = await ort.forward({ tokens: ref.input_ids.slice(1, S - 4, S), cache });
    expect(await relativeError(redo.logits, ref.logits.slice(1, S - 4, S))).toBeLessThan(TOL);
  });

  it('a tree-masked forward equals the native tree forward and the separate branches', async () => {
    const prefix = ref.input_ids.slice(0, 0, 1).slice(1, 0, 8);
    const P = 8;
    const nodes = [100, 101, 102, 103];
    const parent = [-1, 0, 0, 2]; // 100 -> {101, 102 -> 103}
    const depth = [0, 1, 1, 2];
    const S = nodes.length;
    const mask: boolean[] = [];
    for (let i = 0; i < S; i++) {
      const anc = new Set<number>();
      for (let j = i; j >= 0; j = parent[j]) anc.add(j);
      for (let j = 0; j < P + S; j++) mask.push(j < P || anc.has(j - P));
    }
    const input = () => ({
      tokens: tensor([nodes], undefined, { dtype: 'i32' }),
      positions: tensor([depth.map((d) => P + d)], undefined, { dtype: 'i32' }),
      attention: tensor(mask, [1, 1, S, P + S], { dtype: 'bool' }),
    });
    const oc = ort.createCache();
    await ort.forward({ tokens: prefix, cache: oc });
    const nc = native.createCache();
    await native.forward({ tokens: prefix, cache: nc });
    const o = await ort.forward({ ...input(), cache: oc.fork() });
    const n = await native.forward({ ...input(), cache: nc.fork() });
    expect(await relativeError(o.logits, n.logits)).toBeLessThan(TOL);
    // branch 100 -> 102 -> 103 on its own
    const branch = await ort.forward({
      tokens: tensor([[100, 102, 103]], undefined, { dtype: 'i32' }),
      cache: oc.fork(),
    });
    const rows = concat([o.logits.slice(1, 0, 1), o.logits.slice(1, 2, 4)], 1);
    expect(await relativeError(rows, branch.logits)).toBeLessThan(TOL);
  });
});

describe.each(TRAINED)('OrtCausalLM on an Optimum-style export of %s (2-D mask)', (name) => {
  let ort: OrtCausalLM;
  let ref: Record<string, Tensor>;
  beforeAll(async () => {
    ort = await OrtCausalLM.load(fixtureDir(`${name}/onnx-optimum`, 'onnx/model.onnx'), {
      intraOpNumThreads: 1,
    });
    ref = await readReference(fixtureDir(name));
  });
  afterAll(() => ort?.dispose());

  it('matches the reference with and without the cache; rejects tree masks and hidden states clearly', async () => {
    expect(ort.layout).toBe('optimum-2d');
    const full = await ort.forward({ tokens: ref.input_ids, positions: ref.position_ids });
    expect(await relativeError(full.logits, ref.logits)).toBeLessThan(TOL);
    const [B, S] = ref.input_ids.shape;
    const cache = ort.createCache({ batch: B });
    const parts = [(await ort.forward({ tokens: ref.input_ids.slice(1, 0, S - 3), cache })).logits];
    for (let s = S - 3; s < S; s++)
      parts.push((await ort.forward({ tokens: ref.input_ids.slice(1, s, s + 1), cache })).logits);
    expect(await relativeError(concat(parts, 1), ref.logits)).toBeLessThan(TOL);
    const ids = tensor([[1, 2]], undefined, { dtype: 'i32' });
    await expect(
      ort.forward({
        tokens: ids,
        attention: tensor([true, false, true, true], [1, 1, 2, 2], { dtype: 'bool' }),
      }),
    ).rejects.toThrow(/tree attention needs a graph with a 4-D additive mask/);
    await expect(ort.forward({ tokens: ids, outputHiddenStates: true })).rejects.toThrow(
      /no hidden_states output/,
    );
  });
});

describe('OrtCausalLM errors', () => {
  const temps: string[] = [];
  afterAll(() => {
    for (const t of temps) rmSync(t, { recursive: true, force: true });
  });

  it('missing files and a config that does not match the graph', async () => {
    const err = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e) => e as ModelError,
      );
    const e1 = await err(OrtCausalLM.load('/nonexistent'));
    expect(e1).toBeInstanceOf(ModelError);
    expect(e1!.message).toMatch(
      /\/nonexistent: no ONNX model found \(looked for onnx\/model.onnx, model.onnx\)/,
    );
    // the draft's graph (2 layers) next to a config.json that says 4 layers
    const dir = mkdtempSync(join(tmpdir(), 'hasten-ort-'));
    temps.push(dir);
    mkdirSync(join(dir, 'onnx'));
    const draft = fixtureDir('code-draft', 'onnx/model.onnx');
    copyFileSync(join(draft, 'onnx/model.onnx'), join(dir, 'onnx/model.onnx'));
    const cfg = JSON.parse(readFileSync(join(draft, 'config.json'), 'utf8'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, num_hidden_layers: 4 }));
    const e2 = await err(OrtCausalLM.load(dir));
    expect(e2!.code).toBe('weights');
    expect(e2!.message).toMatch(/graph has 2 past_key_values layers but config.json has num_hidden_layers 4/);
  });
});
