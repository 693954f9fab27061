/**
 * @file Hugging Face `config.json` of the Llama family (llama, mistral, qwen2), validated with zod
 * and normalised into `LlamaConfig`. Field names and defaults follow transformers'
 * `LlamaConfig` / `MistralConfig` / `Qwen2Config`
 * (https://huggingface.co/docs/transformers/model_doc/llama#transformers.LlamaConfig).
 */
import { z } from 'zod';
import { ModelError } from './errors';

export const SUPPORTED_MODEL_TYPES = ['llama', 'mistral', 'qwen2'] as const;
export type ModelType = (typeof SUPPORTED_MODEL_TYPES)[number];

const ARCHITECTURES: Record<string, ModelType> = {
  LlamaForCausalLM: 'llama',
  MistralForCausalLM: 'mistral',
  Qwen2ForCausalLM: 'qwen2',
};

export type RopeScaling =
  | { type: 'linear'; factor: number }
  | {
      type: 'llama3';
      factor: number;
      lowFreqFactor: number;
      highFreqFactor: number;
      originalMaxPositionEmbeddings: number;
    };

export interface LlamaConfig {
  modelType: ModelType;
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  maxPositionEmbeddings: number;
  /** Longest context this implementation computes exactly (max positions, or Mistral's sliding window). */
  contextLength: number;
  ropeTheta: number;
  ropeScaling?: RopeScaling;
  rmsNormEps: number;
  tieWordEmbeddings: boolean;
  /** Biases on q/k/v projections (always for qwen2; `attention_bias` for llama/mistral). */
  qkvBias: boolean;
  /** Bias on o_proj (`attention_bias` for llama/mistral; never for qwen2). */
  oBias: boolean;
  mlpBias: boolean;
  bosTokenId?: number;
  eosTokenId?: number | number[];
  padTokenId?: number;
}

const posInt = z.number().int().positive();

const RopeScalingJson = z
  .looseObject({
    rope_type: z.string().optional(),
    type: z.string().optional(),
    factor: z.number().positive().optional(),
    low_freq_factor: z.number().positive().optional(),
    high_freq_factor: z.number().positive().optional(),
    original_max_position_embeddings: posInt.optional(),
  })
  .nullish();

const HFConfigJson = z.looseObject({
  model_type: z.string().optional(),
  architectures: z.array(z.string()).nullish(),
  vocab_size: posInt,
  hidden_size: posInt,
  intermediate_size: posInt,
  num_hidden_layers: posInt,
  num_attention_heads: posInt,
  num_key_value_heads: posInt.nullish(),
  head_dim: posInt.nullish(),
  max_position_embeddings: posInt.default(2048),
  rope_theta: z.number().positive().default(10000),
  rope_scaling: RopeScalingJson,
  rms_norm_eps: z.number().positive().default(1e-6),
  hidden_act: z.string().default('silu'),
  tie_word_embeddings: z.boolean().default(false),
  attention_bias: z.boolean().default(false),
  mlp_bias: z.boolean().default(false),
  sliding_window: z.number().int().positive().nullish(),
  use_sliding_window: z.boolean().optional(),
  bos_token_id: z.number().int().nullish(),
  eos_token_id: z.union([z.number().int(), z.array(z.number().int())]).nullish(),
  pad_token_id: z.number().int().nullish(),
});

function modelTypeOf(raw: Record<string, unknown>): string {
  if (typeof raw.model_type === 'string') return raw.model_type;
  const arch = Array.isArray(raw.architectures) ? raw.architectures[0] : undefined;
  return (typeof arch === 'string' && ARCHITECTURES[arch]) || String(arch ?? 'unknown');
}

function ropeScaling(rs: z.infer<typeof RopeScalingJson>): RopeScaling | undefined {
  if (!rs) return undefined;
  const kind = rs.rope_type ?? rs.type ?? 'default';
  if (kind === 'default') return undefined;
  const need = (field: keyof typeof rs) => {
    const v = rs[field];
    if (typeof v !== 'number')
      throw new ModelError(
        'config',
        `config.json: rope_scaling.${String(field)} is required for rope_type '${kind}'`,
      );
    return v;
  };
  if (kind === 'linear') return { type: 'linear', factor: need('factor') };
  if (kind === 'llama3') {
    return {
      type: 'llama3',
      factor: need('factor'),
      lowFreqFactor: need('low_freq_factor'),
      highFreqFactor: need('high_freq_factor'),
      originalMaxPositionEmbeddings: need('original_max_position_embeddings'),
    };
  }
  throw new ModelError(
    'config',
    `config.json: rope_scaling type '${kind}' is not supported; supported: default, linear, llama3`,
  );
}

/** Parse and validate a Hugging Face config.json object. Throws a ModelError naming the field. */
export function parseConfig(raw: unknown): LlamaConfig {
  if (typeof raw !== 'object' || raw === null)
    throw new ModelError('config', 'config.json: must hold a JSON object');
  const type = modelTypeOf(raw as Record<string, unknown>);
  if (!(SUPPORTED_MODEL_TYPES as readonly string[]).includes(type)) {
    throw new ModelError(
      'config',
      `config.json: unsupported architecture '${type}'; supported model_type values: ${SUPPORTED_MODEL_TYPES.join(', ')}`,
    );
  }
  const r = HFConfigJson.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new ModelError('config', `config.json: field '${i.path.join('.')}' is invalid: ${i.message}`);
  }
  const c = r.data;
  if (c.hidden_act !== 'silu')
    throw new ModelError(
      'config',
      `config.json: hidden_act '${c.hidden_act}' is not supported; supported: silu`,
    );
  const numKvHeads = c.num_key_value_heads ?? c.num_attention_heads;
  if (c.num_attention_heads % numKvHeads !== 0) {
    throw new ModelError(
      'config',
      `config.json: num_attention_heads (${c.num_attention_heads}) must be a multiple of num_key_value_heads (${numKvHeads})`,
    );
  }
  const headDim = c.head_dim ?? c.hidden_size / c.num_attention_heads;
  if (!Number.isInteger(headDim) || headDim % 2 !== 0) {
    throw new ModelError(
      'config',
      `config.json: head_dim ${headDim} must be an even integer (hidden_size ${c.hidden_size} / num_attention_heads ${c.num_attention_heads} when absent)`,
    );
  }
  const modelType = type as ModelType;
  // Mistral (and Qwen2 with use_sliding_window) attend within a window; within it the result equals
  // full attention, so we cap the context there instead of computing something different silently.
  const windowed = modelType === 'mistral' || (modelType === 'qwen2' && c.use_sliding_window === true);
  const window = windowed && c.sliding_window ? c.sliding_window : Number.POSITIVE_INFINITY;
  return {
    modelType,
    vocabSize: c.vocab_size,
    hiddenSize: c.hidden_size,
    intermediateSize: c.intermediate_size,
    numLayers: c.num_hidden_layers,
    numHeads: c.num_attention_heads,
    numKvHeads,
    headDim,
    maxPositionEmbeddings: c.max_position_embeddings,
    contextLength: Math.min(c.max_position_embeddings, window),
    ropeTheta: c.rope_theta,
    ropeScaling: ropeScaling(c.rope_scaling),
    rmsNormEps: c.rms_norm_eps,
    tieWordEmbeddings: c.tie_word_embeddings,
    qkvBias: modelType === 'qwen2' || c.attention_bias,
    oBias: modelType !== 'qwen2' && c.attention_bias,
    mlpBias: c.mlp_bias,
    bosTokenId: c.bos_token_id ?? undefined,
    eosTokenId: c.eos_token_id ?? undefined,
    padTokenId: c.pad_token_id ?? undefined,
  };
}
