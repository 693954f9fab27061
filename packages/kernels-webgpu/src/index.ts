/**
 * @file @hasten/kernels-webgpu: a WebGPU backend for @hasten/core-tensor. So far a minimal proof
 * that the backend contract carries an asynchronous GPU: f32 matmul, add/sub/mul, softmax and
 * logSoftmax, and copy. Isomorphic: Node gets its device from `@hasten/kernels-webgpu/node`.
 */
export { MAX_WORKGROUPS_PER_DIM, WebGpuBackend } from './backend';
export { registerWebGpu, requestDevice, WEBGPU_KERNELS } from './register';
