/**
 * @file The numbers the addon uses for dtypes and weight formats (native/common.cuh, native/kernels.h).
 */
export type CudaFloatDType = 'f32' | 'f16' | 'bf16';
export const CUDA_FLOAT_DTYPES: readonly CudaFloatDType[] = ['f32', 'f16', 'bf16'];
export const DTYPE_CODE: Record<CudaFloatDType, number> = { f32: 0, f16: 1, bf16: 2 };

/** Weight formats of matvec: plain floats, int8 per output channel, int4 in groups (f16 scales). */
export type WeightFormat = 'f32' | 'f16' | 'bf16' | 'int8' | 'int4';
export const WEIGHT_FORMATS: readonly WeightFormat[] = ['f32', 'f16', 'bf16', 'int8', 'int4'];
export const WEIGHT_FORMAT_CODE: Record<WeightFormat, number> = { f32: 0, f16: 1, bf16: 2, int8: 3, int4: 4 };
