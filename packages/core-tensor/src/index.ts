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
export type { CreateOptions } from './creation';
export { arange, encodeValues, fromStorageArray, full, ones, tensor, zeros } from './creation';
export { runKernel } from './dispatch';
export type { DType, FloatDType, StorageArray } from './dtype';
export { BYTES_PER_ELEMENT, DTYPES, FLOAT_DTYPES, isDType, isFloat, storageView } from './dtype';
export { TensorError } from './errors';
export {
  bf16ArrayToF32,
  bf16BitsToF32,
  f16ArrayToF32,
  f16BitsToF32,
  f32ArrayToBf16,
  f32ArrayToF16,
  f32ToBf16Bits,
  f32ToF16Bits,
} from './f16';
// Kernel attribute types: what each op passes to its kernels, for backend packages.
export type { BinaryAttrs } from './ops/binary/binary';
// ops
export {
  add,
  div,
  eq,
  ge,
  gt,
  le,
  logicalAnd,
  logicalOr,
  lt,
  maximum,
  minimum,
  mul,
  ne,
  pow,
  sub,
} from './ops/binary/binary';
export type { Conv2dAttrs, Conv2dOptions } from './ops/conv2d/conv2d';
export { conv2d } from './ops/conv2d/conv2d';
export type { CastAttrs } from './ops/copy/copy';
export { cast, clone } from './ops/copy/copy';
export type { CumsumAttrs } from './ops/cumsum/cumsum';
export { cumsum } from './ops/cumsum/cumsum';
export { embedding } from './ops/embedding/embedding';
export type { GroupnormAttrs } from './ops/groupnorm/groupnorm';
export { groupnorm } from './ops/groupnorm/groupnorm';
export { cpuMatmulInfo } from './ops/matmul/gemm-runtime';
export type { MatmulAttrs } from './ops/matmul/matmul';
export { linear, matmul } from './ops/matmul/matmul';
export { clearPackedWeights } from './ops/matmul/packed-weights';
export type { NormAttrs } from './ops/norm/norm';
export { layernorm, rmsnorm } from './ops/norm/norm';
export type { PagedKV, PagedSdpaAttrs, PagedSdpaOptions } from './ops/paged-sdpa/paged-sdpa';
export { pagedSdpa } from './ops/paged-sdpa/paged-sdpa';
// weight-only quantized formats and their product
export { dequantize, dequantizeRow } from './ops/quant/dequantize-row';
export { toHalfWeight } from './ops/quant/float-weights';
export { quantizeQ4_0 } from './ops/quant/gguf-q4-0';
export { quantizeQ8_0 } from './ops/quant/gguf-q8-0';
export { quantizeInt4Group } from './ops/quant/int4-group';
export type { GroupQuantizeOptions } from './ops/quant/int8-group';
export { quantizeInt8Group } from './ops/quant/int8-group';
export type { Int8PerChannelOptions } from './ops/quant/int8-per-channel';
export { quantizeInt8PerChannel } from './ops/quant/int8-per-channel';
export type { QuantLinearAttrs } from './ops/quant/quant-linear';
export { quantLinear } from './ops/quant/quant-linear';
export type { GroupSize, QuantFormat, QuantizedWeight } from './ops/quant/quantized-weight';
export {
  expectedBytes as quantizedWeightBytes,
  GGUF_BLOCK,
  QUANT_FORMATS,
  validateQuantizedWeight,
} from './ops/quant/quantized-weight';
export type { ReduceAttrs } from './ops/reduce/reduce';
export { argmax, logsumexp, max, mean, min, sum } from './ops/reduce/reduce';
export type { RopeFrequencyOptions } from './ops/rope/inv-freq';
export { RopeScaling, ropeInvFreq } from './ops/rope/inv-freq';
export type { RopeAttrs, RopeOptions } from './ops/rope/rope';
export { rope } from './ops/rope/rope';
export type { SdpaAttrs, SdpaOptions } from './ops/sdpa/sdpa';
export { sdpa } from './ops/sdpa/sdpa';
export type { ConcatAttrs } from './ops/shape/concat';
export { concat, stack } from './ops/shape/concat';
export { split } from './ops/shape/split';
export type { SoftmaxAttrs } from './ops/softmax/softmax';
export { logSoftmax, softmax } from './ops/softmax/softmax';
export type { TopkAttrs } from './ops/topk/topk';
export { topk } from './ops/topk/topk';
export { erf, erfc } from './ops/unary/erf';
export type { GeluOptions, UnaryAttrs } from './ops/unary/unary';
export {
  abs,
  ceil,
  cos,
  exp,
  floor,
  gelu,
  log,
  logicalNot,
  neg,
  reciprocal,
  relu,
  rsqrt,
  sigmoid,
  silu,
  sin,
  sqrt,
  square,
  tanh,
} from './ops/unary/unary';
export type { WhereAttrs } from './ops/where/where';
export { maskedFill, where } from './ops/where/where';
// strict options parsing with allowed keys in the error, shared by the packages built on core-tensor
export { parseOptionsWith } from './options';
export type { KernelConfig, KernelFn } from './registry';
export {
  getBackend,
  getDefaultBackend,
  getKernel,
  hasBackend,
  hasKernel,
  listBackends,
  listKernels,
  registerBackend,
  registerKernel,
  setDefaultBackend,
} from './registry';
export type { CategoricalOptions } from './rng/categorical';
export { keyFromSeed, openUniformFromWords, Philox, rng, uniformFromWords } from './rng/generator';
export type { PhiloxCounter, PhiloxKey } from './rng/philox';
// random numbers (Philox4x32-10)
export { addToCounter, philox4x32, philoxBlocks } from './rng/philox';
export type { RandnOptions, RandOptions } from './rng/random-tensors';
export { rand, randn } from './rng/random-tensors';
export { SAFETENSORS_DTYPE } from './safetensors/dtypes';
// safetensors (isomorphic; Node file access is in @hasten/core-tensor/node)
export { SafetensorsError } from './safetensors/errors';
export type { ByteSource, SafetensorsLoadOptions, SafetensorsReader } from './safetensors/file';
export { bytesSource, loadTensors, readSafetensors, SafetensorsFile } from './safetensors/file';
export type { SafetensorsHeader, SafetensorsTensorInfo } from './safetensors/header';
export { MAX_HEADER_BYTES, parseSafetensorsHeader } from './safetensors/header';
export type { SafetensorsIndex } from './safetensors/sharded';
export { parseSafetensorsIndex, ShardedSafetensors } from './safetensors/sharded';
export type { SafetensorsPlan, TensorDict } from './safetensors/write';
export { planSafetensors, writeSafetensors } from './safetensors/write';
export { keep, scope, scopeAsync } from './scope';
export type { Shape } from './shape';
export { broadcastShapes, contiguousStrides, normalizeAxis, sizeOf, viewStrides } from './shape';
export type { DataArray } from './tensor';
export { Tensor } from './tensor';
