/**
 * @file GGUF llama architecture <-> the native LlamaModel (isomorphic; file access is in
 * load-gguf.ts). Tensor and metadata names follow llama.cpp (gguf-py/gguf/constants.py,
 * MODEL_TENSOR / Keys): token_embd, blk.N.attn_norm, blk.N.attn_q/k/v/output, blk.N.ffn_norm,
 * blk.N.ffn_gate/up/down, output_norm, output (absent: tied to token_embd);
 * `llama.embedding_length`, `llama.block_count`, `llama.feed_forward_length`,
 * `llama.attention.head_count(_kv)`, `llama.rope.freq_base`, `llama.attention.layer_norm_rms_epsilon`,
 * `llama.context_length`, `llama.vocab_size`, `llama.attention.key_length`, `llama.rope.scaling.*`.
 *
 * RoPE pairing: Hugging Face Llama rotates (x[i], x[i + D/2]) (rotate_half), llama.cpp's
 * LLM_ARCH_LLAMA rotates adjacent pairs (x[2i], x[2i + 1]). llama.cpp's converter
 * (convert_hf_to_gguf.py, LlamaModel.permute, applied to q_proj with n_head and to k_proj with
 * n_head_kv) therefore reorders each head's rows:
 *   w.reshape(n_head, 2, D/2, K).swapaxes(1, 2).reshape(N, K)
 * i.e. GGUF row h*D + 2i + j = HF row h*D + j*D/2 + i (j in {0, 1}). `permuteRows(.., 'to-gguf')`
 * applies it on export, `'to-hf'` undoes it on load. Rows are whole quantization blocks in every
 * format, so the permutation moves row bytes and never re-quantizes.
 */
import {
  dequantize,
  fromStorageArray,
  keep,
  type QuantFormat,
  type QuantizedWeight,
  readF32,
  type Tensor,
  validateQuantizedWeight,
} from '@hasten/core-tensor';
import { z } from 'zod';
import { type LlamaConfig, parseConfig } from '../config';
import { ModelError } from '../errors';
import { type LinearFormat, quantizeWeight } from '../llama/quantize';
import { isQuantized, type LayerWeights, type LinearWeight, type LlamaWeights } from '../llama/weights';
import { parseOptions } from '../options';
import {
  GGML_TYPES,
  type GGMLTypeName,
  type GGUFTensorInput,
  type GGUFValue,
  ggmlRowBytes,
} from './write-gguf';

/** GGUF tensor name of each layer field (llama.cpp MODEL_TENSOR names, `.weight` / `.bias` added). */
const LAYER_NAMES: Record<keyof LayerWeights, string> = {
  inputNorm: 'attn_norm.weight',
  q: 'attn_q.weight',
  qBias: 'attn_q.bias',
  k: 'attn_k.weight',
  kBias: 'attn_k.bias',
  v: 'attn_v.weight',
  vBias: 'attn_v.bias',
  o: 'attn_output.weight',
  oBias: 'attn_output.bias',
  postNorm: 'ffn_norm.weight',
  gate: 'ffn_gate.weight',
  gateBias: 'ffn_gate.bias',
  up: 'ffn_up.weight',
  upBias: 'ffn_up.bias',
  down: 'ffn_down.weight',
  downBias: 'ffn_down.bias',
};

/** The ggml type of each QuantizedWeight format that GGUF stores as is. */
const TYPE_OF_FORMAT: Partial<Record<QuantFormat, GGMLTypeName>> = {
  f16: 'F16',
  bf16: 'BF16',
  q8_0: 'Q8_0',
  q4_0: 'Q4_0',
  q4_k: 'Q4_K',
  q6_k: 'Q6_K',
};
const FORMAT_OF_TYPE = Object.fromEntries(Object.entries(TYPE_OF_FORMAT).map(([f, t]) => [t, f])) as Record<
  string,
  QuantFormat
>;
const TYPE_NAME = Object.fromEntries(Object.entries(GGML_TYPES).map(([n, id]) => [id, n])) as Record<
  number,
  GGMLTypeName
>;

/** Reorders the rows (whole bytes per row) of a q or k weight between HF and llama.cpp RoPE order. */
export function permuteRows(
  bytes: Uint8Array,
  rows: number,
  heads: number,
  direction: 'to-gguf' | 'to-hf',
): Uint8Array {
  const rowBytes = bytes.byteLength / rows;
  const D = rows / heads;
  const out = new Uint8Array(bytes.byteLength);
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < D / 2; i++)
      for (let j = 0; j < 2; j++) {
        const hf = h * D + j * (D / 2) + i;
        const gg = h * D + 2 * i + j;
        const [from, to] = direction === 'to-gguf' ? [hf, gg] : [gg, hf];
        out.set(bytes.subarray(from * rowBytes, (from + 1) * rowBytes), to * rowBytes);
      }
  return out;
}

/**
 * GPT-2's byte -> unicode table (openai/gpt-2 encoder.py bytes_to_unicode): bytes 33-126, 161-172
 * and 174-255 are their own code point, the other 68 bytes map to 256, 257, ... in byte order.
 */
export function gpt2ByteChars(): string[] {
  const out: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
    out.push(String.fromCodePoint(printable ? b : 256 + extra++));
  }
  return out;
}

/**
 * The fixtures' byte tokenizer (ids 0-255 = bytes, then special tokens) as a GGUF "gpt2" vocabulary
 * without merges: byte b is token b, written as its GPT-2 byte character; specials are CONTROL (3).
 */
export function byteTokenizerVocab(specials: readonly string[]): {
  model: string;
  tokens: string[];
  tokenTypes: number[];
  merges: string[];
} {
  return {
    model: 'gpt2',
    tokens: [...gpt2ByteChars(), ...specials],
    tokenTypes: [...Array(256).fill(1), ...specials.map(() => 3)],
    merges: [],
  };
}

// ---------------------------------------------------------------------------------------------
// export: LlamaModel weights -> GGUF metadata + tensors

export const GGUFExportOptions = z.strictObject({
  /** Type of f32 linear weights (and of the LM head): 'f32' keeps them (default). Norms and the
   * embedding stay F32, so a 'q8_0' file holds exactly what `quantize({ format: 'q8_0' })` holds. */
  type: z.enum(['f32', 'f16', 'q8_0', 'q4_0']).default('f32'),
  /** `general.name`. */
  name: z.string().default('hasten-export'),
  /** Tokenizer lists to store (`tokenizer.ggml.*`), e.g. `byteTokenizerVocab()` for the fixtures. */
  vocab: z
    .strictObject({
      model: z.string(),
      tokens: z.array(z.string()),
      merges: z.array(z.string()).optional(),
      tokenTypes: z.array(z.number().int()).optional(),
    })
    .optional(),
});
export type GGUFExportOptions = z.input<typeof GGUFExportOptions>;

const f32Bytes = (t: Tensor) => {
  const a = Float32Array.from(readF32(t));
  return new Uint8Array(a.buffer);
};

/** GGUF metadata and tensors of a llama model's weights (q/k rows permuted for llama.cpp's RoPE). */
export function llamaToGGUF(
  c: LlamaConfig,
  w: LlamaWeights,
  opts: GGUFExportOptions = {},
): { metadata: Record<string, GGUFValue>; tensors: GGUFTensorInput[] } {
  const o = parseOptions(GGUFExportOptions, opts, 'llamaToGGUF');
  if (c.modelType !== 'llama')
    throw new ModelError(
      'input',
      `GGUF export: model_type '${c.modelType}' is not supported; supported: llama`,
    );
  if (c.qkvBias || c.oBias || c.mlpBias)
    throw new ModelError(
      'input',
      'GGUF export: biases are not supported (llama architecture without biases)',
    );
  if (c.ropeScaling?.type === 'llama3')
    throw new ModelError(
      'input',
      "GGUF export: rope_scaling 'llama3' is not supported (llama.cpp stores it as rope_freqs)",
    );
  const u32 = (value: number): GGUFValue => ({ type: 'u32', value });
  const f32 = (value: number): GGUFValue => ({ type: 'f32', value });
  const metadata: Record<string, GGUFValue> = {
    'general.architecture': { type: 'string', value: 'llama' },
    'general.name': { type: 'string', value: o.name },
    'llama.context_length': u32(c.maxPositionEmbeddings),
    'llama.embedding_length': u32(c.hiddenSize),
    'llama.block_count': u32(c.numLayers),
    'llama.feed_forward_length': u32(c.intermediateSize),
    'llama.attention.head_count': u32(c.numHeads),
    'llama.attention.head_count_kv': u32(c.numKvHeads),
    'llama.attention.key_length': u32(c.headDim),
    'llama.attention.value_length': u32(c.headDim),
    'llama.rope.dimension_count': u32(c.headDim),
    'llama.rope.freq_base': f32(c.ropeTheta),
    'llama.attention.layer_norm_rms_epsilon': f32(c.rmsNormEps),
    'llama.vocab_size': u32(c.vocabSize),
  };
  if (c.ropeScaling?.type === 'linear') {
    metadata['llama.rope.scaling.type'] = { type: 'string', value: 'linear' };
    metadata['llama.rope.scaling.factor'] = f32(c.ropeScaling.factor);
  }
  if (c.bosTokenId !== undefined) metadata['tokenizer.ggml.bos_token_id'] = u32(c.bosTokenId);
  const eos = Array.isArray(c.eosTokenId) ? c.eosTokenId[0] : c.eosTokenId;
  if (eos !== undefined) metadata['tokenizer.ggml.eos_token_id'] = u32(eos);
  if (c.padTokenId !== undefined) metadata['tokenizer.ggml.padding_token_id'] = u32(c.padTokenId);

  if (o.vocab) {
    if (o.vocab.tokens.length !== c.vocabSize)
      throw new ModelError(
        'input',
        `GGUF export: vocab has ${o.vocab.tokens.length} tokens, the model ${c.vocabSize}`,
      );
    metadata['tokenizer.ggml.model'] = { type: 'string', value: o.vocab.model };
    metadata['tokenizer.ggml.tokens'] = { type: 'array', itemType: 'string', value: o.vocab.tokens };
    if (o.vocab.tokenTypes)
      metadata['tokenizer.ggml.token_type'] = { type: 'array', itemType: 'i32', value: o.vocab.tokenTypes };
    if (o.vocab.merges)
      metadata['tokenizer.ggml.merges'] = { type: 'array', itemType: 'string', value: o.vocab.merges };
  }
  const tensors: GGUFTensorInput[] = [];
  const plain = (name: string, t: Tensor) =>
    tensors.push({ name, shape: [...t.shape], type: 'F32', data: f32Bytes(t) });
  const linear = (name: string, x: LinearWeight, heads?: number) => {
    let type: GGMLTypeName;
    let data: Uint8Array;
    const [n, k] = x.shape;
    if (isQuantized(x)) {
      const t = TYPE_OF_FORMAT[x.format];
      if (!t)
        throw new ModelError(
          'input',
          `GGUF export: ${name} is '${x.format}', which GGUF cannot hold as is; supported: ${Object.keys(TYPE_OF_FORMAT).join(', ')}`,
        );
      type = t;
      data = x.data;
    } else if (o.type === 'f32') {
      type = 'F32';
      data = f32Bytes(x);
    } else {
      const f: z.output<typeof LinearFormat> = { format: o.type, groupSize: 32, symmetric: true };
      const q = quantizeWeight(x, f);
      type = TYPE_OF_FORMAT[q.format] as GGMLTypeName;
      data = q.data;
    }
    if (heads) data = permuteRows(data, n, heads, 'to-gguf');
    tensors.push({ name, shape: [n, k], type, data });
  };
  plain('token_embd.weight', w.embed);
  w.layers.forEach((l, i) => {
    const p = `blk.${i}.`;
    plain(p + LAYER_NAMES.inputNorm, l.inputNorm);
    linear(p + LAYER_NAMES.q, l.q, c.numHeads);
    linear(p + LAYER_NAMES.k, l.k, c.numKvHeads);
    linear(p + LAYER_NAMES.v, l.v);
    linear(p + LAYER_NAMES.o, l.o);
    plain(p + LAYER_NAMES.postNorm, l.postNorm);
    linear(p + LAYER_NAMES.gate, l.gate);
    linear(p + LAYER_NAMES.up, l.up);
    linear(p + LAYER_NAMES.down, l.down);
  });
  plain('output_norm.weight', w.norm);
  if (w.lmHead !== w.embed) linear('output.weight', w.lmHead);
  return { metadata, tensors };
}

// ---------------------------------------------------------------------------------------------
// import: GGUF metadata + tensors -> LlamaConfig + LlamaWeights

/** One tensor's info as @huggingface/gguf reports it (dims ne[0] first). */
export interface GGUFTensorInfoLike {
  name: string;
  shape: readonly (bigint | number)[];
  dtype: number;
  /** Byte offset from the start of the tensor data (what a reader needs; unused by the mapping). */
  offset?: bigint | number;
}

/** The LlamaConfig of GGUF llama metadata (through parseConfig's validation). */
export function configFromGGUF(
  meta: Record<string, unknown>,
  infos: readonly GGUFTensorInfoLike[],
  where: string,
): LlamaConfig {
  const arch = meta['general.architecture'];
  if (arch !== 'llama')
    throw new ModelError(
      'config',
      `${where}: general.architecture '${String(arch)}' is not supported; supported: llama`,
    );
  const num = (key: string, required = true): number | undefined => {
    const v = meta[`llama.${key}`];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'number' && typeof v !== 'bigint')
      throw new ModelError(
        'config',
        `${where}: metadata llama.${key} is ${v === undefined ? 'missing' : `not a number (${String(v)})`}`,
      );
    return Number(v);
  };
  const embd = infos.find((t) => t.name === 'token_embd.weight');
  if (!embd) throw new ModelError('weights', `${where}: missing tensor token_embd.weight`);
  const tokens = meta['tokenizer.ggml.tokens'];
  const vocab =
    num('vocab_size', false) ?? Number(embd.shape[1] ?? (Array.isArray(tokens) ? tokens.length : 0));
  const H = num('embedding_length') as number;
  const heads = num('attention.head_count') as number;
  const scaling = meta['llama.rope.scaling.type'];
  const id = (k: string) => (typeof meta[k] === 'number' ? (meta[k] as number) : undefined);
  return parseConfig({
    model_type: 'llama',
    vocab_size: vocab,
    hidden_size: H,
    intermediate_size: num('feed_forward_length'),
    num_hidden_layers: num('block_count'),
    num_attention_heads: heads,
    num_key_value_heads: num('attention.head_count_kv', false) ?? heads,
    head_dim: num('attention.key_length', false) ?? H / heads,
    max_position_embeddings: num('context_length'),
    rope_theta: num('rope.freq_base', false) ?? 10000,
    rope_scaling:
      scaling === 'linear'
        ? { rope_type: 'linear', factor: num('rope.scaling.factor') }
        : scaling === undefined || scaling === 'none'
          ? null
          : { rope_type: String(scaling) },
    rms_norm_eps: num('attention.layer_norm_rms_epsilon'),
    tie_word_embeddings: !infos.some((t) => t.name === 'output.weight'),
    bos_token_id: id('tokenizer.ggml.bos_token_id'),
    eos_token_id: id('tokenizer.ggml.eos_token_id'),
    pad_token_id: id('tokenizer.ggml.padding_token_id'),
  });
}

/**
 * LlamaWeights from GGUF tensors, read through `read(name)` (the tensor's bytes). Linears keep
 * their stored type (F32 as a tensor; F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K as a QuantizedWeight);
 * norms and a non-F32 embedding are widened to f32 (the lookup needs f32 rows; a tied LM head
 * keeps the stored, quantized copy).
 */
export async function weightsFromGGUF(
  c: LlamaConfig,
  infos: readonly GGUFTensorInfoLike[],
  read: (info: GGUFTensorInfoLike, bytes: number) => Promise<Uint8Array>,
  device: string,
  where: string,
): Promise<LlamaWeights> {
  const byName = new Map(infos.map((t) => [t.name, t]));
  const loaded: Tensor[] = [];
  const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;
  const info = (name: string, shape: number[]) => {
    const t = byName.get(name);
    if (!t) throw new ModelError('weights', `${where}: missing tensor ${name}`);
    const got = [...t.shape].map(Number).reverse();
    if (got.length !== shape.length || got.some((d, i) => d !== shape[i]))
      throw new ModelError(
        'weights',
        `${where}: tensor ${name} has shape ${fmt(got)}, expected ${fmt(shape)} from the metadata`,
      );
    const type = TYPE_NAME[t.dtype];
    if (!type)
      throw new ModelError(
        'dtype',
        `${where}: tensor ${name} has ggml type ${t.dtype}; supported: ${Object.entries(GGML_TYPES)
          .map(([n, i]) => `${n} (${i})`)
          .join(', ')}`,
      );
    return { t, type };
  };
  const f32Tensor = (values: Float32Array, shape: number[]) => {
    const x = keep(fromStorageArray(values, shape, 'f32', device));
    loaded.push(x);
    return x;
  };
  /** A matrix [n, k] as stored: an f32 tensor or a QuantizedWeight. */
  const linear = async (
    name: string,
    shape: [number, number],
    heads?: number,
    tensorShape: number[] = shape,
  ): Promise<LinearWeight> => {
    const { t, type } = info(name, tensorShape);
    let bytes = await read(t, shape[0] * ggmlRowBytes(type, shape[1]));
    if (heads) bytes = permuteRows(bytes, shape[0], heads, 'to-hf');
    if (type === 'F32')
      return f32Tensor(
        new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4).slice(),
        tensorShape,
      );
    const qw: QuantizedWeight = { format: FORMAT_OF_TYPE[type], shape, data: bytes };
    try {
      validateQuantizedWeight('loadGGUF', qw);
    } catch (e) {
      throw new ModelError('weights', `${where}: ${name}: ${(e as Error).message}`);
    }
    return qw;
  };
  const widened = async (name: string, shape: number[]): Promise<Tensor> => {
    const [n, k] = shape.length === 1 ? [1, shape[0]] : shape;
    const x = await linear(name, [n, k], undefined, shape);
    return isQuantized(x) ? f32Tensor(Float32Array.from(dequantize(x)), shape) : x;
  };
  const H = c.hiddenSize;
  const I = c.intermediateSize;
  const qDim = c.numHeads * c.headDim;
  const kvDim = c.numKvHeads * c.headDim;
  try {
    for (const t of infos) {
      const bias = /\.bias$/.test(t.name);
      if (bias)
        throw new ModelError(
          'weights',
          `${where}: tensor ${t.name}: biases are not supported for GGUF llama`,
        );
    }
    const layers: LayerWeights[] = [];
    for (let i = 0; i < c.numLayers; i++) {
      const p = `blk.${i}.`;
      layers.push({
        inputNorm: await widened(p + LAYER_NAMES.inputNorm, [H]),
        q: await linear(p + LAYER_NAMES.q, [qDim, H], c.numHeads),
        k: await linear(p + LAYER_NAMES.k, [kvDim, H], c.numKvHeads),
        v: await linear(p + LAYER_NAMES.v, [kvDim, H]),
        o: await linear(p + LAYER_NAMES.o, [H, qDim]),
        postNorm: await widened(p + LAYER_NAMES.postNorm, [H]),
        gate: await linear(p + LAYER_NAMES.gate, [I, H]),
        up: await linear(p + LAYER_NAMES.up, [I, H]),
        down: await linear(p + LAYER_NAMES.down, [H, I]),
      });
    }
    const embedStored = await linear('token_embd.weight', [c.vocabSize, H]);
    const embed = isQuantized(embedStored)
      ? f32Tensor(Float32Array.from(dequantize(embedStored)), [c.vocabSize, H])
      : embedStored;
    const norm = await widened('output_norm.weight', [H]);
    const lmHead = c.tieWordEmbeddings ? embedStored : await linear('output.weight', [c.vocabSize, H]);
    return { embed, layers, norm, lmHead };
  } catch (e) {
    for (const t of loaded) t.dispose();
    throw e;
  }
}
