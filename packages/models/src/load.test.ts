import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bytesSource,
  f32ToF16Bits,
  getBackend,
  parseSafetensorsHeader,
  SafetensorsFile,
  setDefaultBackend,
} from '@hasten/core-tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from './config';
import { ModelError } from './errors';
import { fromSafetensors } from './from-safetensors';
import type { LlamaModel } from './llama/model';
import { expectedWeights } from './llama/weights';
import { loadCausalLM } from './load';
import { fixtureDir, readReference, relativeError } from './testing';

const base = JSON.parse(readFileSync(join(fixtureDir('families/llama-mha'), 'config.json'), 'utf8'));
const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

/** A copy of a family fixture with config.json edited by `edit`. */
function variant(family: string, edit: (c: Record<string, unknown>) => void = () => {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'hasten-model-'));
  temps.push(dir);
  cpSync(fixtureDir(`families/${family}`), dir, { recursive: true });
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  edit(cfg);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
  return dir;
}

async function loadError(dir: string, opts?: Parameters<typeof loadCausalLM>[1]): Promise<ModelError> {
  const e = await loadCausalLM(dir, opts).then(
    () => undefined,
    (err) => err,
  );
  expect(e).toBeInstanceOf(ModelError);
  return e as ModelError;
}

describe('parseConfig', () => {
  it('normalises HF fields with their defaults', () => {
    const c = parseConfig({
      ...base,
      head_dim: undefined,
      num_key_value_heads: undefined,
      rope_theta: undefined,
    });
    expect(c).toMatchObject({
      modelType: 'llama',
      headDim: 16,
      numKvHeads: 4,
      ropeTheta: 10000,
      qkvBias: false,
      oBias: false,
      contextLength: 512,
    });
    const q = parseConfig({ ...base, model_type: 'qwen2', attention_bias: false });
    expect([q.qkvBias, q.oBias]).toEqual([true, false]);
    const l = parseConfig({ ...base, attention_bias: true });
    expect([l.qkvBias, l.oBias]).toEqual([true, true]);
    const m = parseConfig({ ...base, model_type: 'mistral', sliding_window: 128 });
    expect([m.maxPositionEmbeddings, m.contextLength]).toEqual([512, 128]);
    const { model_type: _, ...noType } = base;
    expect(parseConfig({ ...noType, architectures: ['Qwen2ForCausalLM'] }).modelType).toBe('qwen2');
    const r = parseConfig({ ...base, rope_scaling: { type: 'linear', factor: 2 } });
    expect(r.ropeScaling).toEqual({ type: 'linear', factor: 2 });
  });

  it('names what is unsupported or invalid', () => {
    const err = (raw: unknown) => {
      try {
        parseConfig(raw);
      } catch (e) {
        expect(e).toBeInstanceOf(ModelError);
        return (e as ModelError).message;
      }
      throw new Error('expected parseConfig to throw');
    };
    expect(err({ ...base, model_type: 'gpt2' })).toBe(
      "config.json: unsupported architecture 'gpt2'; supported model_type values: llama, mistral, qwen2",
    );
    expect(err({ ...base, hidden_size: '64' })).toMatch(/field 'hidden_size' is invalid/);
    expect(err({ ...base, rope_scaling: { rope_type: 'yarn', factor: 4 } })).toMatch(
      /rope_scaling type 'yarn' is not supported; supported: default, linear, llama3/,
    );
    expect(err({ ...base, rope_scaling: { rope_type: 'llama3', factor: 8 } })).toMatch(
      /rope_scaling.low_freq_factor is required/,
    );
    expect(err({ ...base, hidden_act: 'gelu' })).toMatch(/hidden_act 'gelu' is not supported/);
    expect(err({ ...base, num_key_value_heads: 3 })).toMatch(/multiple of num_key_value_heads \(3\)/);
    expect(err([])).toMatch(/config.json/);
  });
});

// config.json of real checkpoints (values as published on the Hugging Face Hub).
const LLAMA_3_2_1B = {
  architectures: ['LlamaForCausalLM'],
  attention_bias: false,
  attention_dropout: 0.0,
  bos_token_id: 128000,
  eos_token_id: [128001, 128008, 128009],
  head_dim: 64,
  hidden_act: 'silu',
  hidden_size: 2048,
  initializer_range: 0.02,
  intermediate_size: 8192,
  max_position_embeddings: 131072,
  mlp_bias: false,
  model_type: 'llama',
  num_attention_heads: 32,
  num_hidden_layers: 16,
  num_key_value_heads: 8,
  pretraining_tp: 1,
  rms_norm_eps: 1e-5,
  rope_scaling: {
    factor: 32.0,
    high_freq_factor: 4.0,
    low_freq_factor: 1.0,
    original_max_position_embeddings: 8192,
    rope_type: 'llama3',
  },
  rope_theta: 500000.0,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  transformers_version: '4.45.0.dev0',
  use_cache: true,
  vocab_size: 128256,
};
const QWEN_2_5_0_5B = {
  architectures: ['Qwen2ForCausalLM'],
  attention_dropout: 0.0,
  bos_token_id: 151643,
  eos_token_id: 151643,
  hidden_act: 'silu',
  hidden_size: 896,
  initializer_range: 0.02,
  intermediate_size: 4864,
  max_position_embeddings: 32768,
  max_window_layers: 24,
  model_type: 'qwen2',
  num_attention_heads: 14,
  num_hidden_layers: 24,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000.0,
  sliding_window: 32768,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  transformers_version: '4.40.1',
  use_cache: true,
  use_mrope: false,
  use_sliding_window: false,
  vocab_size: 151936,
};
const MISTRAL_7B_V0_1 = {
  architectures: ['MistralForCausalLM'],
  bos_token_id: 1,
  eos_token_id: 2,
  hidden_act: 'silu',
  hidden_size: 4096,
  initializer_range: 0.02,
  intermediate_size: 14336,
  max_position_embeddings: 32768,
  model_type: 'mistral',
  num_attention_heads: 32,
  num_hidden_layers: 32,
  num_key_value_heads: 8,
  rms_norm_eps: 1e-5,
  rope_theta: 10000.0,
  sliding_window: 4096,
  tie_word_embeddings: false,
  torch_dtype: 'bfloat16',
  transformers_version: '4.34.0.dev0',
  use_cache: true,
  vocab_size: 32000,
};

describe('real Hugging Face configs', () => {
  it('parses Llama-3.2-1B, Qwen2.5-0.5B and Mistral-7B-v0.1 and expects their weight shapes', () => {
    const l = parseConfig(LLAMA_3_2_1B);
    expect(l).toMatchObject({
      headDim: 64,
      numKvHeads: 8,
      contextLength: 131072,
      tieWordEmbeddings: true,
      eosTokenId: [128001, 128008, 128009],
    });
    expect(l.ropeScaling).toEqual({
      type: 'llama3',
      factor: 32,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalMaxPositionEmbeddings: 8192,
    });
    const q = parseConfig(QWEN_2_5_0_5B);
    expect(q).toMatchObject({ headDim: 64, qkvBias: true, oBias: false, contextLength: 32768 });
    const shapes = Object.fromEntries(expectedWeights(q).specs.map((s) => [s.name, s.shape]));
    expect(shapes['model.layers.23.self_attn.k_proj.bias']).toEqual([128]);
    expect(shapes['model.layers.0.self_attn.q_proj.weight']).toEqual([896, 896]);
    expect(shapes['lm_head.weight']).toBeUndefined();
    const m = parseConfig(MISTRAL_7B_V0_1);
    expect(m).toMatchObject({ headDim: 128, contextLength: 4096, maxPositionEmbeddings: 32768 });
  });
});

describe('loadCausalLM errors', () => {
  it('missing or unreadable files', async () => {
    expect((await loadError('/nonexistent/model')).message).toMatch(/\/nonexistent\/model: folder not found/);
    const empty = mkdtempSync(join(tmpdir(), 'hasten-empty-'));
    temps.push(empty);
    const e = await loadError(empty);
    expect([e.code, e.message]).toEqual([
      'file',
      `${join(empty, 'config.json')}: not found (model configuration)`,
    ]);
    writeFileSync(join(empty, 'config.json'), '{ not json');
    expect((await loadError(empty)).message).toMatch(/config.json: is not valid JSON/);
    writeFileSync(join(empty, 'config.json'), JSON.stringify(base));
    expect((await loadError(empty)).message).toMatch(
      /no weights found \(need model.safetensors or model.safetensors.index.json\)/,
    );
    const sharded = variant('llama3-rope-scaling');
    rmSync(join(sharded, 'model-00002-of-00002.safetensors'));
    expect((await loadError(sharded)).message).toMatch(
      /shard\(s\) not found: .*model-00002-of-00002.safetensors/,
    );
    const broken = variant('llama-mha');
    writeFileSync(join(broken, 'model.safetensors'), 'garbage!');
    expect((await loadError(broken)).message).toMatch(
      /model.safetensors': header length \d+ exceeds the 100000000-byte limit/,
    );
  });

  it('unsupported architecture', async () => {
    const e = await loadError(variant('llama-mha', (c) => (c.model_type = 'gpt2')));
    expect(e.code).toBe('config');
    expect(e.message).toMatch(/unsupported architecture 'gpt2'/);
  });

  it('config/weight shape mismatch names the weight, expected and found', async () => {
    const e = await loadError(variant('llama-mha', (c) => (c.intermediate_size = 96)));
    expect(e.code).toBe('weights');
    expect(e.message).toMatch(
      /weight model.layers.0.mlp.gate_proj.weight has shape \[128, 64\], expected \[96, 64\] from config.json \(intermediate_size, hidden_size\)/,
    );
    const kv = await loadError(variant('llama-gqa2', (c) => (c.num_key_value_heads = 4)));
    expect(kv.message).toMatch(
      /k_proj.weight has shape \[32, 64\], expected \[64, 64\].*num_key_value_heads 4 x head_dim 16/,
    );
  });

  it('missing weights: qwen2 biases, untied lm_head', async () => {
    const q = await loadError(variant('llama-mha', (c) => (c.model_type = 'qwen2')));
    expect(q.message).toMatch(/missing weight\(s\) model.layers.0.self_attn.q_proj.bias/);
    const t = await loadError(variant('qwen2-tied', (c) => (c.tie_word_embeddings = false)));
    expect(t.message).toMatch(
      /missing weight\(s\) lm_head.weight \(config.json has tie_word_embeddings: false\)/,
    );
  });

  it('unsupported weight dtype', async () => {
    const dir = variant('llama-mha');
    const file = join(dir, 'model.safetensors');
    const bytes = readFileSync(file);
    // Same byte width, so the file stays consistent: F32 -> I32 for one tensor in the header.
    const text = bytes
      .toString('latin1')
      .replace('"model.norm.weight":{"dtype":"F32"', '"model.norm.weight":{"dtype":"I32"');
    writeFileSync(file, Buffer.from(text, 'latin1'));
    const e = await loadError(dir);
    expect([e.code, e.message.replace(dir, '<dir>')]).toEqual([
      'dtype',
      '<dir>: weight model.norm.weight has dtype I32; supported: F32, F16, BF16',
    ]);
  });
});

describe('fromSafetensors (isomorphic, e.g. bytes fetched in a browser)', () => {
  it('loads config JSON + an in-memory safetensors file and matches the reference', async () => {
    const dir = fixtureDir('families/qwen2-tied');
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    const file = await SafetensorsFile.open(bytesSource(readFileSync(join(dir, 'model.safetensors'))));
    const model = await fromSafetensors(config, file);
    const ref = await readReference(dir);
    const out = await model.forward({ tokens: ref.input_ids, positions: ref.position_ids });
    expect(await relativeError(out.logits, ref.logits)).toBeLessThan(1e-4);
    model.dispose();
  });
});

describe('where a model goes when the options name no device', () => {
  it("follows core-tensor's default backend (setDefaultBackend), cache and quantize included", async () => {
    const dir = fixtureDir('families/qwen2-tied');
    const ref = await readReference(dir);
    const before = getBackend().name;
    setDefaultBackend('reference');
    try {
      const model = await loadCausalLM(dir);
      expect(model.device).toBe('reference');
      const cache = model.createCache({ batch: ref.input_ids.shape[0] });
      const out = await model.forward({ tokens: ref.input_ids, positions: ref.position_ids, cache });
      expect(out.logits.device).toBe('reference');
      expect(await relativeError(out.logits, ref.logits)).toBeLessThan(1e-4);
      // Quantizing rewrites weights in host memory: allowed on every CPU-memory backend.
      expect(() => model.quantize({ format: 'int8' })).not.toThrow();
      model.dispose();
    } finally {
      setDefaultBackend(before);
    }
    const model = await loadCausalLM(dir);
    expect(model.device).toBe(before);
    model.dispose();
  });
});

describe('options are strict: an unknown key or a bad value names the field and what is allowed', () => {
  it('loadCausalLM', async () => {
    const dir = fixtureDir('families/llama-mha');
    const e = await loadError(dir, { dtype: 'f8' } as never);
    expect([e.code, e.message]).toEqual([
      'options',
      'loadCausalLM: options is invalid: Unrecognized key: "dtype"; allowed: device, checkFinite, quantize',
    ]);
    expect((await loadError(dir, { checkFinite: 'no' } as never)).message).toBe(
      "loadCausalLM: option 'checkFinite' is invalid: Invalid input: expected boolean, received string",
    );
    expect((await loadError(dir, { device: 'tpu' })).message).toBe(
      "loadCausalLM: option 'device' is invalid: no backend 'tpu'; registered: cpu, reference",
    );
  });

  it('fromSafetensors', async () => {
    const dir = fixtureDir('families/llama-mha');
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    const file = await SafetensorsFile.open(bytesSource(readFileSync(join(dir, 'model.safetensors'))));
    await expect(fromSafetensors(config, file, { devcie: 'cpu' } as never)).rejects.toThrow(
      'fromSafetensors: options is invalid: Unrecognized key: "devcie"; allowed: device, source, checkFinite',
    );
    await expect(fromSafetensors(config, file, { source: 3 } as never)).rejects.toThrow(
      "fromSafetensors: option 'source' is invalid: Invalid input: expected string, received number",
    );
  });
});

/**
 * A copy of a fixture whose weight `name` holds `value` at flat index `index`, written in the
 * file's own dtype (F32, or F16 for the trained fixtures).
 */
function poisoned(fixture: string, name: string, index: number, value: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'hasten-poisoned-'));
  temps.push(dir);
  cpSync(fixtureDir(fixture), dir, { recursive: true });
  const file = join(dir, 'model.safetensors');
  const bytes = readFileSync(file);
  const info = parseSafetensorsHeader(bytes).tensors.get(name)!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (info.fileDtype === 'F16') view.setUint16(info.byteOffset + 2 * index, f32ToF16Bits(value), true);
  else if (info.fileDtype === 'F32') view.setFloat32(info.byteOffset + 4 * index, value, true);
  else throw new Error(`poisoned: unexpected dtype ${info.fileDtype}`);
  writeFileSync(file, bytes);
  return dir;
}

describe('non-finite weights', () => {
  it('a NaN or an Inf fails the load, naming the weight, the first bad index and the value', async () => {
    // F32 checkpoint; up_proj is [128, 64], so flat index 70 is [1, 6].
    const nan = poisoned('families/llama-mha', 'model.layers.0.mlp.up_proj.weight', 70, Number.NaN);
    const e = await loadError(nan);
    expect([e.code, e.message.replace(nan, '<dir>')]).toEqual([
      'weights',
      '<dir>: weight model.layers.0.mlp.up_proj.weight holds NaN at index 70 ([1, 6]); the checkpoint is corrupt (checkFinite: false loads it anyway)',
    ]);
    // F16 checkpoint: +Inf survives the widening to f32 and is caught there.
    const inf = poisoned('code-draft', 'model.layers.1.self_attn.k_proj.weight', 3, Number.POSITIVE_INFINITY);
    const e2 = await loadError(inf);
    expect(e2.message.replace(inf, '<dir>')).toMatch(
      /^<dir>: weight model.layers.1.self_attn.k_proj.weight holds Infinity at index 3 \(\[0, 3\]\)/,
    );
    // The isomorphic loader checks too, and names the source it was given.
    const config = JSON.parse(readFileSync(join(nan, 'config.json'), 'utf8'));
    const file = await SafetensorsFile.open(bytesSource(readFileSync(join(nan, 'model.safetensors'))));
    await expect(fromSafetensors(config, file, { source: 'poisoned.safetensors' })).rejects.toThrow(
      /^poisoned.safetensors: weight model.layers.0.mlp.up_proj.weight holds NaN at index 70/,
    );
  });

  it('checkFinite: false skips the check (and the NaN reaches the logits)', async () => {
    const nan = poisoned('families/llama-mha', 'model.layers.0.mlp.up_proj.weight', 70, Number.NaN);
    expect((await loadError(nan, { checkFinite: true })).code).toBe('weights');
    const model: LlamaModel = await loadCausalLM(nan, { checkFinite: false });
    const ref = await readReference(fixtureDir('families/llama-mha'));
    const { logits } = await model.forward({ tokens: ref.input_ids, positions: ref.position_ids });
    expect((await logits.data()).some(Number.isNaN)).toBe(true);
    logits.dispose();
    model.dispose();
  });
});
