/**
 * @file @hasten/kernels-cpu: native CPU matrix-vector and attention kernels for @hasten/core-tensor in Node (an
 * optional node-addon-api addon built by `npm run build:addon`, AVX2 / AVX-512 chosen at run time).
 * Never required: without the addon `isCpuAddonAvailable()` is false, `registerCpuNative()` throws,
 * and the 'cpu' backend's WebAssembly kernels serve. Node-only.
 */
export type { CpuIsa, Int8DotKernel } from './addon';
export { ISAS } from './addon';
export { MAX_NATIVE_ROWS, NATIVE_BACKEND, NativeCpuBackend } from './backend';
export type { CpuKernelsInfo } from './info';
export { cpuKernelsInfo } from './info';
export type { CpuKernelsOptions } from './options';
export { configureCpuKernels, TWO_THREAD_MIN_WEIGHTS } from './options';
export type { F32Weight, QgemvOptions } from './qgemv';
export { FORMAT_CODES, qgemvNative } from './qgemv';
export { isCpuAddonAvailable, registerCpuNative } from './register';
