/**
 * @file @hasten/models/ort (Node only): the CausalLM contract over onnxruntime-node.
 */

export type { OrtLayout, OrtLoadOptions } from './model';
export { MASK_MIN, OrtCausalLM } from './model';
