/**
 * @file @hasten/kernels-cuda: an optional CUDA backend for @hasten/core-tensor (a node-addon-api
 * addon built with nvcc by `npm run build:addon`). Never required: without the addon or a usable GPU,
 * `isCudaAvailable()` is false, `loadCudaBackend()` / `registerCuda()` throw CudaUnavailableError, and
 * the 'cpu' / 'webgpu' backends serve. Node-only.
 */
export type { CudaDeviceInfo, LoadCudaBackendOptions } from './backend';
export { CudaBackend, cudaDeviceInfo, isCudaAvailable, loadCudaBackend } from './backend';
export type { CudaDType, CudaTensor } from './cuda-tensor';
export { CudaBuffer } from './cuda-tensor';
export type { StepMode } from './decode-graph';
export { DecodeGraph } from './decode-graph';
export type { WeightFormat } from './dtype-codes';
export { CudaUnavailableError } from './errors';
export type { AttentionArgs } from './ops/attention';
export type { DecodeAttentionArgs } from './ops/decode-attention';
export { defaultSplits, splitKPartialsLength } from './ops/decode-attention';
export type { ElementwiseArgs, ElementwiseOp } from './ops/elementwise';
export type { GemmArgs } from './ops/gemm';
export type { LayernormArgs } from './ops/layernorm';
export type { MatvecArgs } from './ops/matvec';
export { INT4_GROUPS } from './ops/matvec';
export type { PagedAttentionArgs } from './ops/paged-attention';
export type { RmsnormArgs } from './ops/rmsnorm';
export type { RopeArgs } from './ops/rope';
export type { SampleArgs } from './ops/sample';
export type { SoftmaxArgs } from './ops/softmax';
export type { TopkArgs } from './ops/topk';
export {
  dequantizeInt4,
  dequantizeInt8,
  matvecReference,
  quantizeInt4,
  quantizeInt8,
} from './reference/matvec-reference';
export { sampleReference } from './reference/sample-reference';
export { splitKCombineReference } from './reference/split-k-combine-reference';
export { registerCuda, registerCudaBackend } from './register';
