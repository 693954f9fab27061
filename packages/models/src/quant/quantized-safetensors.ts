/**
 * @file The safetensors layout of a weight-only quantized Llama-family model (isomorphic; the
 * Node writer is save-quantized.ts, the loader hook is in load.ts). Safetensors format:
 * https://github.com/huggingface/safetensors (README, "Format"). Byte layouts of each
 * QuantizedWeight format: core-tensor README, "Quantized weight formats".
 *
 * A quantized linear `<name>` (the Hugging Face weight name without `.weight`, e.g.
 * `model.layers.0.self_attn.q_proj`, or `lm_head`) is stored as up to three tensors:
 *   - `<name>.qweight`: the codes exactly as the QuantizedWeight holds them: U8 [N, bytes per row]
 *     (int8, int8-group, int4-group, q8_0, q4_0, q4_k, q6_k) or F16 / BF16 [N, K] (f16, bf16);
 *   - `<name>.scales`: F16 [N, groups] (group formats), F16 or F32 [N] ('int8'), absent otherwise
 *     (the GGUF block formats carry their scales inside the blocks);
 *   - `<name>.zeros`: U8 [N, groups] (asymmetric group formats only).
 * `__metadata__` holds `hasten.quantization: "1"` and, per quantized linear, a key `<name>` whose
 * value is a JSON object `{format, shape, groupSize?, scaleDtype?}`. Every other tensor (embedding,
 * norms, biases, a linear left in f32) is stored under its Hugging Face name as F32, so a round
 * trip is bit-exact.
 */
import {
  fromStorageArray,
  type GroupSize,
  keep,
  QUANT_FORMATS,
  type QuantizedWeight,
  type SafetensorsReader,
  type Tensor,
  validateQuantizedWeight,
} from '@hasten/core-tensor';
import { z } from 'zod';
import type { LlamaConfig } from '../config';
import { ModelError } from '../errors';
import {
  expectedWeights,
  isQuantized,
  type LayerWeights,
  type LinearWeight,
  type LlamaWeights,
} from '../llama/weights';

/** The metadata key (and version) that marks a quantized checkpoint. */
export const QUANT_METADATA_KEY = 'hasten.quantization';
export const QUANT_LAYOUT_VERSION = '1';

const LinearMeta = z.strictObject({
  format: z.enum(QUANT_FORMATS),
  shape: z.tuple([z.number().int().positive(), z.number().int().positive()]),
  groupSize: z.union([z.literal(32), z.literal(64), z.literal(128)]).optional(),
  scaleDtype: z.enum(['f16', 'f32']).optional(),
});

const LINEAR_KEYS = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] as const;

/** A tensor over `bytes` (copied) with the storage type of `dtype`. */
function bytesTensor(bytes: Uint8Array, shape: number[], dtype: 'u8' | 'f16' | 'bf16' | 'f32'): Tensor {
  const copy = bytes.slice();
  const raw =
    dtype === 'u8'
      ? copy
      : dtype === 'f32'
        ? new Float32Array(copy.buffer)
        : new Uint16Array(copy.buffer, 0, copy.byteLength / 2);
  return fromStorageArray(raw, shape, dtype, 'cpu');
}

/** The tensors of one quantized linear, named `<base>.qweight|scales|zeros`. */
function quantizedTensors(base: string, w: QuantizedWeight, out: Map<string, Tensor>): void {
  const [n, k] = w.shape;
  if (w.format === 'f16' || w.format === 'bf16') {
    out.set(`${base}.qweight`, bytesTensor(w.data, [n, k], w.format));
  } else {
    out.set(`${base}.qweight`, bytesTensor(w.data, [n, w.data.byteLength / n], 'u8'));
  }
  if (w.scales) {
    const f32 = w.format === 'int8' && w.scaleDtype === 'f32';
    const per = w.scales.byteLength / (f32 ? 4 : 2) / n;
    out.set(
      `${base}.scales`,
      bytesTensor(w.scales, w.format === 'int8' ? [n] : [n, per], f32 ? 'f32' : 'f16'),
    );
  }
  if (w.zeros) out.set(`${base}.zeros`, bytesTensor(w.zeros, [n, w.zeros.byteLength / n], 'u8'));
}

/** Hugging Face base names (no `.weight`) of one layer's linears. */
function linearBases(c: LlamaConfig, i: number): Record<(typeof LINEAR_KEYS)[number], string> {
  const specs = expectedWeights(c).layer(i);
  const base = (k: (typeof LINEAR_KEYS)[number]) => (specs[k]?.name ?? '').replace(/\.weight$/, '');
  return Object.fromEntries(LINEAR_KEYS.map((k) => [k, base(k)])) as Record<
    (typeof LINEAR_KEYS)[number],
    string
  >;
}

/**
 * The tensors and `__metadata__` of a model's weights in the layout above. Tensors built here
 * (quantized parts) are listed in `created` for the caller to dispose after writing.
 */
export function quantizedCheckpoint(
  c: LlamaConfig,
  w: LlamaWeights,
): { tensors: Map<string, Tensor>; metadata: Record<string, string>; created: Tensor[] } {
  const tensors = new Map<string, Tensor>();
  const metadata: Record<string, string> = { format: 'pt', [QUANT_METADATA_KEY]: QUANT_LAYOUT_VERSION };
  const created: Tensor[] = [];
  // Everything is checked and built before the caller writes a byte; on an error nothing leaks.
  const put = (base: string, x: LinearWeight) => {
    if (!isQuantized(x)) {
      tensors.set(`${base}.weight`, x);
      return;
    }
    try {
      validateQuantizedWeight('saveQuantized', x);
    } catch (e) {
      throw new ModelError('weights', `saveQuantized: ${base}: ${(e as Error).message}`);
    }
    const parts = new Map<string, Tensor>();
    quantizedTensors(base, x, parts);
    for (const [name, t] of parts) {
      tensors.set(name, t);
      created.push(t);
    }
    metadata[base] = JSON.stringify({
      format: x.format,
      shape: [...x.shape],
      ...(x.groupSize !== undefined ? { groupSize: x.groupSize } : {}),
      ...(x.scaleDtype !== undefined ? { scaleDtype: x.scaleDtype } : {}),
    });
  };
  try {
    tensors.set('model.embed_tokens.weight', w.embed);
    tensors.set('model.norm.weight', w.norm);
    // A tied, unquantized head is the embedding itself: not stored twice.
    if (w.lmHead !== w.embed) put('lm_head', w.lmHead);
    w.layers.forEach((l, i) => {
      const specs = expectedWeights(c).layer(i);
      const bases = linearBases(c, i);
      for (const k of LINEAR_KEYS) put(bases[k], l[k]);
      for (const [key, spec] of Object.entries(specs) as [
        keyof LayerWeights,
        { name: string } | undefined,
      ][]) {
        if (spec && !(LINEAR_KEYS as readonly string[]).includes(key))
          tensors.set(spec.name, l[key] as Tensor);
      }
    });
  } catch (e) {
    for (const t of created) t.dispose();
    throw e;
  }
  return { tensors, metadata, created };
}

/** The bytes of a U8 / F16 / BF16 / F32 tensor of the reader, as stored. */
async function rawBytes(reader: SafetensorsReader, name: string): Promise<Uint8Array> {
  const raw = await reader.raw(name);
  return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength).slice();
}

/** One linear: quantized (metadata names it) or an f32 `<base>.weight`. */
async function readLinear(
  reader: SafetensorsReader,
  base: string,
  where: string,
  loadF32: (name: string) => Promise<Tensor>,
): Promise<LinearWeight> {
  const entry = metadataOf(reader)[base];
  if (entry === undefined) {
    if (!reader.has(`${base}.weight`))
      throw new ModelError('weights', `${where}: missing ${base}.qweight (quantized) or ${base}.weight`);
    return loadF32(`${base}.weight`);
  }
  let meta: z.output<typeof LinearMeta>;
  try {
    meta = LinearMeta.parse(JSON.parse(entry));
  } catch (e) {
    throw new ModelError(
      'weights',
      `${where}: __metadata__ '${base}' is not a valid quantization entry: ${(e as Error).message}`,
    );
  }
  for (const part of ['qweight', ...(meta.format === 'int8' || meta.groupSize ? ['scales'] : [])]) {
    if (!reader.has(`${base}.${part}`)) throw new ModelError('weights', `${where}: missing ${base}.${part}`);
  }
  const qw: QuantizedWeight = {
    format: meta.format,
    shape: meta.shape,
    data: await rawBytes(reader, `${base}.qweight`),
    ...(meta.groupSize !== undefined ? { groupSize: meta.groupSize as GroupSize } : {}),
    ...(reader.has(`${base}.scales`) ? { scales: await rawBytes(reader, `${base}.scales`) } : {}),
    ...(meta.scaleDtype !== undefined ? { scaleDtype: meta.scaleDtype } : {}),
    ...(reader.has(`${base}.zeros`) ? { zeros: await rawBytes(reader, `${base}.zeros`) } : {}),
  };
  try {
    validateQuantizedWeight('loadQuantized', qw);
  } catch (e) {
    throw new ModelError('weights', `${where}: ${base}: ${(e as Error).message}`);
  }
  return qw;
}

/** The string entries of a reader's `__metadata__` (one file; a sharded index's metadata otherwise). */
export function metadataOf(reader: SafetensorsReader): Record<string, string> {
  const m = (reader as { metadata?: Record<string, unknown> }).metadata ?? {};
  return Object.fromEntries(Object.entries(m).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/** Whether a reader holds a checkpoint in this layout. */
export const isQuantizedCheckpoint = (reader: SafetensorsReader): boolean =>
  metadataOf(reader)[QUANT_METADATA_KEY] !== undefined;

/** Reads the weights of a checkpoint in this layout (quantized linears kept as stored) onto `device`. */
export async function readQuantizedWeights(
  c: LlamaConfig,
  reader: SafetensorsReader,
  device: string,
  where: string,
): Promise<LlamaWeights> {
  const metadata = metadataOf(reader);
  const version = metadata[QUANT_METADATA_KEY];
  if (version !== QUANT_LAYOUT_VERSION) {
    throw new ModelError(
      'weights',
      `${where}: quantized layout version '${version}' is not supported; supported: ${QUANT_LAYOUT_VERSION}`,
    );
  }
  const loaded: Tensor[] = [];
  const loadF32 = async (name: string): Promise<Tensor> => {
    if (!reader.has(name)) throw new ModelError('weights', `${where}: missing weight ${name}`);
    const info = reader.info(name);
    const t = keep(
      fromStorageArray((await reader.raw(name, { dtype: 'f32' })) as Float32Array, info.shape, 'f32', device),
    );
    loaded.push(t);
    return t;
  };
  try {
    const layers: LayerWeights[] = [];
    for (let i = 0; i < c.numLayers; i++) {
      const specs = expectedWeights(c).layer(i);
      const bases = linearBases(c, i);
      const l: Partial<LayerWeights> = {};
      for (const [key, spec] of Object.entries(specs) as [
        keyof LayerWeights,
        { name: string } | undefined,
      ][]) {
        if (!spec) continue;
        const lin = (LINEAR_KEYS as readonly string[]).includes(key);
        (l as Record<string, LinearWeight>)[key] = lin
          ? await readLinear(reader, bases[key as (typeof LINEAR_KEYS)[number]], where, loadF32)
          : await loadF32(spec.name);
      }
      layers.push(l as LayerWeights);
    }
    const embed = await loadF32('model.embed_tokens.weight');
    const norm = await loadF32('model.norm.weight');
    const headStored = reader.has('lm_head.weight') || metadata.lm_head !== undefined;
    if (!headStored && !c.tieWordEmbeddings)
      throw new ModelError('weights', `${where}: missing lm_head.qweight or lm_head.weight (untied head)`);
    const lmHead = headStored ? await readLinear(reader, 'lm_head', where, loadF32) : embed;
    return { embed, layers, norm, lmHead };
  } catch (e) {
    for (const t of loaded) t.dispose();
    throw e;
  }
}
