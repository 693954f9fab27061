/**
 * @file Llama-family weights by their Hugging Face names (`model.layers.{i}.self_attn.q_proj.weight`,
 * ...), checked against config.json before any data is read: every missing tensor, unsupported
 * dtype or shape mismatch is reported with the weight's name, the expected and the found value.
 * Weights are computed in f32: f16/bf16 checkpoints are widened once at load, and the widened
 * values are checked for NaN/Inf there (a corrupt checkpoint would otherwise give NaN logits later).
 */
import {
  fromStorageArray,
  keep,
  type QuantizedWeight,
  type SafetensorsReader,
  type Tensor,
} from '@hasten/core-tensor';
import { z } from 'zod';
import type { LlamaConfig } from '../config';
import { ModelError } from '../errors';
import { deviceOption } from '../options';

/** Options of `fromSafetensors` / `LlamaModel.fromSafetensors`. */
export const LlamaModelOptions = z.strictObject({
  /** core-tensor backend for weights and compute (default: core-tensor's default backend). */
  device: deviceOption.optional(),
  /** Where the weights come from, for error messages (a folder or URL). */
  source: z.string().optional(),
  /** Reject a weight holding NaN or ±Inf (default true; one pass over each widened tensor). */
  checkFinite: z.boolean().optional(),
});
export type LlamaModelOptions = z.input<typeof LlamaModelOptions>;

/** A linear layer's weight [out, in]: f32 as loaded, or weight-only quantized (quantize.ts). */
export type LinearWeight = Tensor | QuantizedWeight;

export interface LayerWeights {
  inputNorm: Tensor;
  q: LinearWeight;
  qBias?: Tensor;
  k: LinearWeight;
  kBias?: Tensor;
  v: LinearWeight;
  vBias?: Tensor;
  o: LinearWeight;
  oBias?: Tensor;
  postNorm: Tensor;
  gate: LinearWeight;
  gateBias?: Tensor;
  up: LinearWeight;
  upBias?: Tensor;
  down: LinearWeight;
  downBias?: Tensor;
}

export interface LlamaWeights {
  embed: Tensor;
  layers: LayerWeights[];
  norm: Tensor;
  /** The embedding itself when tie_word_embeddings is set (until quantized). */
  lmHead: LinearWeight;
}

const SUPPORTED_DTYPES = ['F32', 'F16', 'BF16'];

interface Spec {
  name: string;
  shape: number[];
  /** Where the expected shape comes from, for the error message. */
  why: string;
}

/** Every tensor the config requires, with its expected shape. */
export function expectedWeights(c: LlamaConfig): {
  specs: Spec[];
  layer: (i: number) => Record<keyof LayerWeights, Spec | undefined>;
} {
  const H = c.hiddenSize;
  const qDim = c.numHeads * c.headDim;
  const kvDim = c.numKvHeads * c.headDim;
  const I = c.intermediateSize;
  const heads = `num_attention_heads ${c.numHeads} x head_dim ${c.headDim}`;
  const kvHeads = `num_key_value_heads ${c.numKvHeads} x head_dim ${c.headDim}`;
  const layer = (i: number) => {
    const p = `model.layers.${i}.`;
    const s = (name: string, shape: number[], why: string, when = true): Spec | undefined =>
      when ? { name: p + name, shape, why } : undefined;
    return {
      inputNorm: s('input_layernorm.weight', [H], 'hidden_size'),
      q: s('self_attn.q_proj.weight', [qDim, H], `${heads}, hidden_size`),
      qBias: s('self_attn.q_proj.bias', [qDim], heads, c.qkvBias),
      k: s('self_attn.k_proj.weight', [kvDim, H], `${kvHeads}, hidden_size`),
      kBias: s('self_attn.k_proj.bias', [kvDim], kvHeads, c.qkvBias),
      v: s('self_attn.v_proj.weight', [kvDim, H], `${kvHeads}, hidden_size`),
      vBias: s('self_attn.v_proj.bias', [kvDim], kvHeads, c.qkvBias),
      o: s('self_attn.o_proj.weight', [H, qDim], `hidden_size, ${heads}`),
      oBias: s('self_attn.o_proj.bias', [H], 'hidden_size', c.oBias),
      postNorm: s('post_attention_layernorm.weight', [H], 'hidden_size'),
      gate: s('mlp.gate_proj.weight', [I, H], 'intermediate_size, hidden_size'),
      gateBias: s('mlp.gate_proj.bias', [I], 'intermediate_size', c.mlpBias),
      up: s('mlp.up_proj.weight', [I, H], 'intermediate_size, hidden_size'),
      upBias: s('mlp.up_proj.bias', [I], 'intermediate_size', c.mlpBias),
      down: s('mlp.down_proj.weight', [H, I], 'hidden_size, intermediate_size'),
      downBias: s('mlp.down_proj.bias', [H], 'hidden_size', c.mlpBias),
    } satisfies Record<keyof LayerWeights, Spec | undefined>;
  };
  const specs: Spec[] = [
    { name: 'model.embed_tokens.weight', shape: [c.vocabSize, H], why: 'vocab_size, hidden_size' },
  ];
  for (let i = 0; i < c.numLayers; i++) for (const s of Object.values(layer(i))) if (s) specs.push(s);
  specs.push({ name: 'model.norm.weight', shape: [H], why: 'hidden_size' });
  if (!c.tieWordEmbeddings)
    specs.push({ name: 'lm_head.weight', shape: [c.vocabSize, H], why: 'vocab_size, hidden_size' });
  return { specs, layer };
}

const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

/** Throws a ModelError for the first problems found (missing names, dtypes, shapes). `where` names the source. */
export function checkWeights(c: LlamaConfig, source: SafetensorsReader, where: string): void {
  const { specs } = expectedWeights(c);
  const missing = specs.filter((s) => !source.has(s.name)).map((s) => s.name);
  if (missing.length) {
    const tieHint = missing.includes('lm_head.weight') ? ' (config.json has tie_word_embeddings: false)' : '';
    const shown =
      missing.slice(0, 5).join(', ') + (missing.length > 5 ? `, ... (${missing.length} in all)` : '');
    throw new ModelError('weights', `${where}: missing weight(s) ${shown}${tieHint}`);
  }
  for (const s of specs) {
    const info = source.info(s.name);
    if (!SUPPORTED_DTYPES.includes(info.fileDtype)) {
      throw new ModelError(
        'dtype',
        `${where}: weight ${s.name} has dtype ${info.fileDtype}; supported: ${SUPPORTED_DTYPES.join(', ')}`,
      );
    }
    if (info.shape.length !== s.shape.length || info.shape.some((d, i) => d !== s.shape[i])) {
      throw new ModelError(
        'weights',
        `${where}: weight ${s.name} has shape ${fmt(info.shape)}, expected ${fmt(s.shape)} from config.json (${s.why})`,
      );
    }
  }
}

/** Index of the first NaN or ±Inf in `data`, or -1. */
function firstNonFinite(data: Float32Array): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return i;
  return -1;
}

/** Row-major multi-index of flat index `i` in `shape`. */
function unflatten(i: number, shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return out;
}

/**
 * Checks, then reads every weight widened to f32 (on the host) onto `device`. With `checkFinite`
 * (default) each widened array is scanned before upload, so a NaN/Inf weight fails here, named.
 */
export async function loadLlamaWeights(
  c: LlamaConfig,
  source: SafetensorsReader,
  device: string,
  where: string,
  { checkFinite = true }: { checkFinite?: boolean } = {},
): Promise<LlamaWeights> {
  checkWeights(c, source, where);
  const { layer } = expectedWeights(c);
  // What reader.tensor(name, { dtype: 'f32', device }) does, split so the host array can be scanned
  // in place: no extra copy, one read pass over data that was just written.
  const loaded: Tensor[] = [];
  const load = async (name: string): Promise<Tensor> => {
    const data = (await source.raw(name, { dtype: 'f32' })) as Float32Array;
    const { shape } = source.info(name);
    const bad = checkFinite ? firstNonFinite(data) : -1;
    if (bad >= 0) {
      throw new ModelError(
        'weights',
        `${where}: weight ${name} holds ${data[bad]} at index ${bad} (${fmt(unflatten(bad, shape))}); the checkpoint is corrupt (checkFinite: false loads it anyway)`,
      );
    }
    // Weights live as long as the model: exempt them from any enclosing scope().
    const t = keep(fromStorageArray(data, shape, 'f32', device));
    loaded.push(t);
    return t;
  };
  try {
    const layers: LayerWeights[] = [];
    for (let i = 0; i < c.numLayers; i++) {
      const specs = layer(i);
      const w: Partial<LayerWeights> = {};
      for (const [key, spec] of Object.entries(specs) as [keyof LayerWeights, Spec | undefined][]) {
        if (spec) w[key] = await load(spec.name);
      }
      layers.push(w as LayerWeights);
    }
    const embed = await load('model.embed_tokens.weight');
    return {
      embed,
      layers,
      norm: await load('model.norm.weight'),
      lmHead: c.tieWordEmbeddings ? embed : await load('lm_head.weight'),
    };
  } catch (e) {
    // A failed load (a NaN weight, an unreadable shard) frees what it had already uploaded.
    for (const t of loaded) t.dispose();
    throw e;
  }
}

export function disposeLlamaWeights(w: LlamaWeights): void {
  const all = [w.embed, w.norm, w.lmHead, ...w.layers.flatMap((l) => Object.values(l) as LinearWeight[])];
  for (const t of new Set(all)) if (!isQuantized(t)) t.dispose();
}

export const isQuantized = (w: LinearWeight): w is QuantizedWeight => 'format' in w;
