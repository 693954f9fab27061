/**
 * @file The Hugging Face config.json object of a LlamaConfig (the inverse of config.ts's
 * `parseConfig`, field names as in transformers' LlamaConfig / MistralConfig / Qwen2Config), for
 * checkpoints written by saveQuantized and for GGUF files mapped onto the native model.
 */
import type { LlamaConfig } from '../config';

export function llamaConfigJson(c: LlamaConfig): Record<string, unknown> {
  const arch = { llama: 'LlamaForCausalLM', mistral: 'MistralForCausalLM', qwen2: 'Qwen2ForCausalLM' }[
    c.modelType
  ];
  const rs = c.ropeScaling;
  const windowed = c.contextLength < c.maxPositionEmbeddings;
  return {
    model_type: c.modelType,
    architectures: [arch],
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    head_dim: c.headDim,
    max_position_embeddings: c.maxPositionEmbeddings,
    rope_theta: c.ropeTheta,
    rope_scaling: !rs
      ? null
      : rs.type === 'linear'
        ? { rope_type: 'linear', factor: rs.factor }
        : {
            rope_type: 'llama3',
            factor: rs.factor,
            low_freq_factor: rs.lowFreqFactor,
            high_freq_factor: rs.highFreqFactor,
            original_max_position_embeddings: rs.originalMaxPositionEmbeddings,
          },
    rms_norm_eps: c.rmsNormEps,
    hidden_act: 'silu',
    tie_word_embeddings: c.tieWordEmbeddings,
    // qwen2 always has q/k/v biases and never an o bias; llama/mistral tie both to attention_bias.
    attention_bias: c.modelType === 'qwen2' ? false : c.qkvBias,
    mlp_bias: c.mlpBias,
    ...(windowed ? { sliding_window: c.contextLength, use_sliding_window: true } : {}),
    ...(c.bosTokenId !== undefined ? { bos_token_id: c.bosTokenId } : {}),
    ...(c.eosTokenId !== undefined ? { eos_token_id: c.eosTokenId } : {}),
    ...(c.padTokenId !== undefined ? { pad_token_id: c.padTokenId } : {}),
  };
}
