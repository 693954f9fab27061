import { join } from 'node:path';
import {
  cast,
  concat,
  embedding,
  linear,
  readF64,
  rmsnorm,
  rope,
  type Tensor,
  tensor,
} from '@hasten/core-tensor';
import { loadSafetensors } from '@hasten/core-tensor/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { ModelError } from '../errors';
import { loadCausalLM } from '../load';
import { FAMILIES, fixtureDir, readReference, relativeError } from '../testing';
import type { LlamaModel } from './model';

const TOL = 1e-4;

describe.each(FAMILIES)('native %s matches the PyTorch reference', (family) => {
  let model: LlamaModel;
  let ref: Record<string, Tensor>;
  beforeAll(async () => {
    const dir = fixtureDir(`families/${family}`);
    model = await loadCausalLM(dir);
    ref = await readReference(dir);
  });

  it('full prompt: logits and final hidden states', async () => {
    const out = await model.forward({
      tokens: ref.input_ids,
      positions: ref.position_ids,
      outputHiddenStates: true,
    });
    expect(out.logits.shape).toEqual(ref.logits.shape);
    expect(await relativeError(out.logits, ref.logits)).toBeLessThan(TOL);
    expect(await relativeError(out.hiddenStates!, ref.hidden_states)).toBeLessThan(TOL);
  });

  it('chunked prefill through the cache (default positions)', async () => {
    const [B, S] = ref.input_ids.shape;
    const cache = model.createCache({ batch: B });
    const out = await model.forward({ tokens: ref.input_ids, cache, chunkSize: 5 });
    expect(cache.length).toBe(S);
    expect(await relativeError(out.logits, ref.logits)).toBeLessThan(TOL);
    // logitsToKeep with chunks: only the last 3 positions, spread over two chunks (S % 5 != 2 here)
    const cache2 = model.createCache({ batch: B });
    const last = await model.forward({ tokens: ref.input_ids, cache: cache2, chunkSize: 5, logitsToKeep: 3 });
    const want = ref.logits.slice(1, S - 3);
    expect(await relativeError(last.logits, want)).toBeLessThan(TOL);
  });
});

describe('native decoding with the KV cache', () => {
  let model: LlamaModel;
  let ref: Record<string, Tensor>;
  beforeAll(async () => {
    const dir = fixtureDir('families/llama-gqa2');
    model = await loadCausalLM(dir);
    ref = await readReference(dir);
  });

  it('token-by-token decoding equals the full forward', async () => {
    const [B, S] = ref.input_ids.shape;
    const cache = model.createCache({ batch: B, maxLength: S });
    const prefix = 4;
    const steps: Tensor[] = [];
    const first = await model.forward({ tokens: ref.input_ids.slice(1, 0, prefix), cache });
    steps.push(first.logits);
    for (let s = prefix; s < S; s++) {
      const out = await model.forward({ tokens: ref.input_ids.slice(1, s, s + 1), cache });
      expect(out.logits.shape).toEqual([B, 1, 260]);
      steps.push(out.logits);
    }
    expect(cache.length).toBe(S);
    expect(await relativeError(concat(steps, 1), ref.logits)).toBeLessThan(TOL);
    // a full cache refuses more tokens with a clear error and stays unchanged
    await expect(model.forward({ tokens: ref.input_ids.slice(1, 0, 1), cache })).rejects.toThrow(
      /exceeds the cache's maxLength 24/,
    );
    expect(cache.length).toBe(S);
  });

  it('truncate rewinds: re-decoding after a truncation gives the same logits', async () => {
    const cache = model.createCache({ batch: 2 });
    await model.forward({ tokens: ref.input_ids.slice(1, 0, 10), cache });
    await model.forward({ tokens: ref.input_ids.slice(1, 10, 14), cache }); // "drafts"
    cache.truncate(10);
    const again = await model.forward({ tokens: ref.input_ids.slice(1, 10, 12), cache });
    expect(await relativeError(again.logits, ref.logits.slice(1, 10, 12))).toBeLessThan(TOL);
    expect(cache.length).toBe(12);
  });

  it('a tree-masked forward equals the separate forwards of each branch', async () => {
    // Prefix of 6 tokens, then a tree with two branches [a1, a2] and [b1, b2, b3] scored at once.
    const prefix = ref.input_ids.slice(0, 0, 1).slice(1, 0, 6);
    const a = [65, 66];
    const b = [70, 71, 72];
    const base = model.createCache({ batch: 1 });
    await model.forward({ tokens: prefix, cache: base });
    const P = 6;
    const nodes = [...a, ...b];
    const parent = [-1, 0, -1, 2, 3]; // index of each node's parent in `nodes`
    const depth = [0, 1, 0, 1, 2];
    const S = nodes.length;
    const mask: boolean[] = [];
    for (let i = 0; i < S; i++) {
      const anc = new Set<number>();
      for (let j = i; j >= 0; j = parent[j]) anc.add(j);
      for (let j = 0; j < P; j++) mask.push(true);
      for (let j = 0; j < S; j++) mask.push(anc.has(j));
    }
    const treeCache = base.fork();
    const tree = await model.forward({
      tokens: tensor([nodes], undefined, { dtype: 'i32' }),
      positions: tensor([depth.map((d) => P + d)], undefined, { dtype: 'i32' }),
      attention: tensor(mask, [1, 1, S, P + S], { dtype: 'bool' }),
      cache: treeCache,
    });
    expect(treeCache.length).toBe(P + S);
    for (const [branch, rows] of [
      [a, [0, 1]],
      [b, [2, 3, 4]],
    ] as const) {
      const c = base.fork();
      const sep = await model.forward({
        tokens: tensor([branch as number[]], undefined, { dtype: 'i32' }),
        cache: c,
      });
      const got = tree.logits.slice(1, rows[0], rows[rows.length - 1] + 1);
      expect(await relativeError(got, sep.logits)).toBeLessThan(TOL);
    }
  });

  it('rejects contexts longer than the model allows and malformed inputs', async () => {
    const long = tensor(new Int32Array(513), [1, 513]);
    const err = await model.forward({ tokens: long }).catch((e) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect(err.code).toBe('context');
    expect(err.message).toMatch(/0 cached \+ 513 new = 513 positions exceeds the model's context length 512/);
    await expect(model.forward({ tokens: tensor([[1, 2]]) })).rejects.toThrow(
      /tokens must be i32 \[batch, seq\], got f32/,
    );
    const ids = tensor([[1, 2]], undefined, { dtype: 'i32' });
    await expect(
      model.forward({ tokens: ids, positions: tensor([[0, 600]], undefined, { dtype: 'i32' }) }),
    ).rejects.toThrow(/position 600 is outside \[0, 512\)/);
    await expect(
      model.forward({ tokens: ids, attention: tensor([1, 1, 1, 1], [1, 1, 2, 2]) }),
    ).rejects.toThrow(/attention mask must be bool \[1, 1, 2, 2\]/);
    await expect(model.forward({ tokens: ids, cache: model.createCache({ batch: 2 }) })).rejects.toThrow(
      /batch 1 does not match the cache batch 2/,
    );
    await expect(model.forward({ tokens: ids, chunkSize: 1 })).rejects.toThrow(/chunkSize needs a cache/);
  });
});

describe('outputQueries (what kv eviction policies score with)', () => {
  it("layer 0's queries equal rope(q_proj(rmsnorm(embed))) from the weight file; decode agrees with prefill", async () => {
    const dir = fixtureDir('code-target');
    const model = (await loadCausalLM(dir)) as LlamaModel;
    const c = model.config;
    const toks = [256, ...Array.from('def f(x):\n    return x', (ch) => ch.charCodeAt(0))];
    const S = toks.length;
    const W = 5;
    const ids = (xs: number[]) => tensor(Int32Array.from(xs), [1, xs.length], { dtype: 'i32' });
    const cache = model.createCache();
    const out = await model.forward({ tokens: ids(toks), cache, outputQueries: W });
    expect(out.queries).toHaveLength(c.numLayers);
    for (const q of out.queries!) expect(q.length).toBe(c.numHeads * W * c.headDim);

    // Layer 0 from the weights, independently of the model's forward.
    const { tensors: wt } = await loadSafetensors(join(dir, 'model.safetensors'));
    const f32 = (name: string) => cast(wt.get(name)!, 'f32');
    const x = embedding(f32('model.embed_tokens.weight'), ids(toks));
    const h = rmsnorm(x, f32('model.layers.0.input_layernorm.weight'), c.rmsNormEps);
    const q = linear(h, f32('model.layers.0.self_attn.q_proj.weight'))
      .reshape([1, S, c.numHeads, c.headDim])
      .permute([0, 2, 1, 3]);
    const pos = tensor(
      Int32Array.from(toks, (_, i) => i),
      [1, S],
      { dtype: 'i32' },
    );
    const rq = rope(q, pos, { theta: c.ropeTheta, scaling: c.ropeScaling });
    const want = Float32Array.from(readF64(rq.slice(2, S - W)));
    const got = out.queries![0];
    let err = 0;
    for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i] - want[i]));
    expect(err).toBeLessThan(1e-4);

    // One more token, decoded: its queries equal those of a prefill over all S + 1 tokens.
    const step = await model.forward({ tokens: ids([10]), cache, outputQueries: 1 });
    const whole = await model.forward({ tokens: ids([...toks, 10]), outputQueries: 1 });
    for (let l = 0; l < c.numLayers; l++) {
      const a = step.queries![l];
      const b = whole.queries![l];
      let e = 0;
      for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i] - b[i]));
      expect(e, `layer ${l}`).toBeLessThan(1e-4);
    }
    await expect(model.forward({ tokens: ids([1, 2]), outputQueries: 3 })).rejects.toThrow(
      /outputQueries must be an integer in \[1, 2\]/,
    );
    await expect(
      model.forward({ tokens: ids(toks), cache: model.createCache(), chunkSize: 4, outputQueries: W }),
    ).rejects.toThrow(/exceeds the last prefill chunk/);
    model.dispose();
  });
});
