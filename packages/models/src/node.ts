/**
 * @file @hasten/models/node (Node only): load models and tokenizers from folders on disk.
 */

export type { LoadOptions } from './load';
export { loadCausalLM, loadTokenizer, openWeights } from './load';
export { loadMaskedDiffusionLM } from './masked-diffusion-lm-load';
