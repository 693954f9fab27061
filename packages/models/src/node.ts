/**
 * @file @hasten/models/node (Node only): load models and tokenizers from folders on disk.
 */

export type { LoadOptions } from './load';
export { loadCausalLM, loadTokenizer, openWeights } from './load';
export { loadMaskedDiffusionLM } from './masked-diffusion-lm-load';
export type { GGUFVocab, LoadedGGUF, LoadGGUFOptions } from './quant/load-gguf';
export { loadGGUF } from './quant/load-gguf';
export { saveGGUF } from './quant/save-gguf';
export type { SaveQuantizedOptions } from './quant/save-quantized';
export { saveQuantized } from './quant/save-quantized';
