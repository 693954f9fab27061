/**
 * @file @hasten/models: the CausalLM contract, the native Llama family (llama, mistral, qwen2) on
 * core-tensor, and tokenizers. Node-only loaders: `@hasten/models/node`; ONNX Runtime:
 * `@hasten/models/ort`.
 */

export type {
  CausalLM,
  CreateCacheOptions,
  ForwardInput,
  ForwardOutput,
  ForwardStep,
  ModelConfig,
} from './causal-lm';
// For implementers of CausalLM: validation, masks and cache bookkeeping shared by native and ORT.
export { attentionMask, finishStep, forwardChunked, prepareStep, releaseStep } from './causal-lm';
export type { LlamaConfig, ModelType, RopeScaling } from './config';
export { parseConfig, SUPPORTED_MODEL_TYPES } from './config';
export type { ModelErrorCode } from './errors';
export { ModelError } from './errors';
export { fromSafetensors } from './from-safetensors';
export { LlamaModel } from './llama/model';
export type { LinearFormat, QuantizeOptions } from './llama/quantize';
export type { LayerWeights, LinearWeight, LlamaModelOptions, LlamaWeights } from './llama/weights';
export { checkWeights, expectedWeights } from './llama/weights';
export type {
  BlockCausal,
  DiffusionAttention,
  DiffusionForwardInput,
  MaskedDiffusionConfig,
  MaskedDiffusionLM,
  MaskedDiffusionOptions,
} from './masked-diffusion-lm';
export { blockOf, maskedDiffusionOptionsFromConfig, NativeMaskedDiffusionLM } from './masked-diffusion-lm';
// quantized models (src/quant/): AWQ scaling, mixed-precision plans, safetensors layout, GGUF mapping
export type { AwqGroupReport, AwqOptions } from './quant/awq';
export { awqScale } from './quant/awq';
export type { GGUFExportOptions, GGUFTensorInfoLike } from './quant/gguf-llama';
export {
  configFromGGUF,
  llamaToGGUF,
  weightsFromGGUF,
} from './quant/gguf-llama';
export type { MixedPrecisionOptions, PlanItem } from './quant/mixed-precision-plan';
export { allocateBits, mixedPrecisionPlan } from './quant/mixed-precision-plan';
export type { NextTokenNllOptions } from './quant/next-token-nll';
export { nextTokenNll } from './quant/next-token-nll';
export { quantizedCheckpoint, readQuantizedWeights } from './quant/quantized-safetensors';
export type { GGMLTypeName, GGUFTensorInput, GGUFValue, WriteGGUFOptions } from './quant/write-gguf';
export { writeGGUF } from './quant/write-gguf';
export { ByteTokenizer } from './tokenizers/byte';
export { HFTokenizer } from './tokenizers/hf';
export type { DecodeOptions, EncodeOptions, Tokenizer, TokenizerFiles } from './tokenizers/tokenizer';
export { tokenizerFromFiles } from './tokenizers/tokenizer';
