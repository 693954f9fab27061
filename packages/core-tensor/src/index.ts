/**
 * @file @hasten/core-tensor: tensors, dtypes, the op registry, CPU reference and fast kernels.
 * Importing the package registers the 'cpu' (default) and 'reference' backends.
 */
import { registerCpuBackends } from './backends/register-cpu';

registerCpuBackends();

export type { Backend } from './backend';
export { Storage } from './backend';
export { CpuBackend, cpuStorage } from './backends/cpu';
export { readF32, readF64, stridedPositions, writeValues } from './backends/cpu-access';
export { BYTES_PER_ELEMENT, DTYPES, FLOAT_DTYPES, isDType, isFloat, storageView } from './dtype';
export type { DType, FloatDType, StorageArray } from './dtype';
export { TensorError } from './errors';
export { bf16ArrayToF32, bf16BitsToF32, f16ArrayToF32, f16BitsToF32, f32ArrayToBf16, f32ArrayToF16, f32ToBf16Bits, f32ToF16Bits } from './f16';
export { getBackend, getDefaultBackend, getKernel, hasBackend, hasKernel, listBackends, listKernels, registerBackend, registerKernel, setDefaultBackend } from './registry';
export type { KernelConfig, KernelFn } from './registry';
export { runKernel } from './dispatch';
export { keep, scope, scopeAsync } from './scope';
export { broadcastShapes, contiguousStrides, normalizeAxis, sizeOf } from './shape';
export type { Shape } from './shape';
export { Tensor } from './tensor';
export type { DataArray } from './tensor';
export { arange, encodeValues, fromStorageArray, full, ones, tensor, zeros } from './creation';
export type { CreateOptions } from './creation';

// ops
export { add, div, eq, ge, gt, le, logicalAnd, logicalOr, lt, maximum, minimum, mul, ne, pow, sub } from './ops/binary/binary';
export { cast, clone } from './ops/copy/copy';
export { linear, matmul } from './ops/matmul/matmul';
