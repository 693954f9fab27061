/**
 * @file The 'cpu-native' backend: core-tensor's CPU memory (one ArrayBuffer per storage, so every
 * 'cpu' kernel runs on it unchanged) with the native matrix-vector kernels in place of the
 * WebAssembly ones for
 * - quantLinear with f32 x (every QuantizedWeight format, any number of rows, 8 at a time);
 * - matmul as linear() issues it (f32, a constant weight [N, K] seen through its transpose) when x
 *   has at most MAX_NATIVE_ROWS rows: the decode regime, where the product streams the weight once;
 * and sdpa on the native attention (attention.ts). Everything else is the 'cpu' kernel, called
 * with this backend.
 */
import {
  CpuBackend,
  cpuStorage,
  getKernel,
  type KernelFn,
  type MatmulAttrs,
  type QuantLinearAttrs,
  Tensor,
} from '@hasten/core-tensor';
import { qgemvNative } from './qgemv';

export const NATIVE_BACKEND = 'cpu-native';
/** linear() rows up to which the native matrix-vector path serves (the WebAssembly GEMM above). */
export const MAX_NATIVE_ROWS = 8;

export class NativeCpuBackend extends CpuBackend {
  constructor() {
    super(NATIVE_BACKEND);
  }

  override describe(): string {
    return `${NATIVE_BACKEND} (native AVX2 / AVX-512 matrix-vector kernels)`;
  }
}

/** Contiguous f32 values of a CPU tensor, in place, or null. */
function f32In(t: Tensor): Float32Array | null {
  if (t.dtype !== 'f32' || !t.isContiguous()) return null;
  return (cpuStorage(t) as Float32Array).subarray(t.offset, t.offset + t.size);
}

const cpuKernel = (op: string): KernelFn => getKernel(op, 'cpu').fn;

export const quantLinearNative: KernelFn<QuantLinearAttrs> = (inputs, attrs, backend) => {
  const [x] = inputs;
  const xs = f32In(x);
  if (!xs) return cpuKernel('quantLinear')(inputs, attrs, backend);
  const { weight, m, n } = attrs;
  const out = Tensor.empty(backend, [...x.shape.slice(0, -1), n], 'f32');
  if (m === 0) return out;
  qgemvNative(
    weight,
    xs,
    m,
    undefined,
    (cpuStorage(out) as Float32Array).subarray(out.offset, out.offset + m * n),
  );
  return out;
};

export const matmulNative: KernelFn<MatmulAttrs> = (inputs, attrs, backend) => {
  const [a, b] = inputs;
  const { k, n } = attrs;
  const rows = a.size / k;
  const xs = f32In(a);
  // A constant weight [N, K] row-major, seen as its transpose [K, N] (linear()'s operand).
  const isWeightT =
    attrs.constantB === true && b.dtype === 'f32' && b.rank === 2 && b.strides[0] === 1 && b.strides[1] === k;
  if (!xs || !isWeightT || rows > MAX_NATIVE_ROWS || rows === 0)
    return cpuKernel('matmul')(inputs, attrs, backend);
  const w = (cpuStorage(b) as Float32Array).subarray(b.offset, b.offset + n * k);
  const out = Tensor.empty(backend, [...attrs.batch, attrs.m, n], 'f32');
  qgemvNative(
    { format: 'f32', shape: [n, k], data: w },
    xs,
    rows,
    undefined,
    (cpuStorage(out) as Float32Array).subarray(out.offset, out.offset + rows * n),
  );
  return out;
};
