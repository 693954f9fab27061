/**
 * @file core-tensor kernels backed by the CUDA kernels, for `registerCuda()`. Each adapter maps an
 * op's inputs and attributes (core-tensor's own checks have run) onto one launch. The CUDA kernels
 * take contiguous, row-major operands; an adapter throws a clear error for what they do not cover
 * (a strided view, broadcasting, a non-last softmax axis) instead of computing something else.
 * Ops without an adapter throw core-tensor's "no kernel on backend 'cuda'" error.
 */
import type {
  BinaryAttrs,
  KernelFn,
  MatmulAttrs,
  NormAttrs,
  RopeAttrs,
  SdpaAttrs,
  SoftmaxAttrs,
} from '@hasten/core-tensor';
import { Tensor } from '@hasten/core-tensor';
import type { CudaBackend } from './backend';
import { CudaBuffer, type CudaDType, type CudaTensor } from './cuda-tensor';

function view(op: string, t: Tensor, name: string): CudaTensor {
  if (!t.isContiguous()) {
    throw new Error(
      `cuda ${op}: ${name} ${JSON.stringify(t.shape)} is a strided view; the CUDA kernels take contiguous tensors (call .contiguous() on another backend first)`,
    );
  }
  const buffer = t.storage.handle;
  if (!(buffer instanceof CudaBuffer)) throw new Error(`cuda ${op}: ${name} is not on the cuda backend`);
  return {
    buffer,
    dtype: (t.dtype === 'bool' ? 'u8' : t.dtype) as CudaDType,
    shape: t.shape,
    offset: t.offset,
  };
}

const outOf = (backend: CudaBackend, shape: readonly number[], dtype: Tensor['dtype']) =>
  Tensor.empty(backend, shape, dtype);

/** Is `b` (rank 2 or 3) the transposed view of a contiguous [.., N, K] tensor? */
function isTransposedContiguous(b: Tensor): boolean {
  const r = b.rank;
  const [K, N] = b.shape.slice(-2);
  return (
    b.strides[r - 2] === 1 &&
    b.strides[r - 1] === K &&
    (r === 2 || b.strides[0] === K * N || b.shape[0] === 1)
  );
}

function matmulCuda(backend: CudaBackend): KernelFn<MatmulAttrs> {
  return ([a, b], { batch, m, k, n }) => {
    const op = 'matmul';
    const batchSize = batch.reduce((x, y) => x * y, 1);
    if (batch.length > 1 || a.rank > 3 || b.rank > 3)
      throw new Error(
        `cuda matmul: at most one batch dimension is supported, got ${JSON.stringify(a.shape)} @ ${JSON.stringify(b.shape)}`,
      );
    if (a.rank === 2 && batchSize > 1)
      throw new Error('cuda matmul: a batched b with a 2-D a is not supported (swap operands or expand a)');
    const out = outOf(backend, [...batch, m, n], a.dtype);
    const transB = !b.isContiguous() && isTransposedContiguous(b);
    const bView: CudaTensor = transB
      ? {
          buffer: b.storage.handle as CudaBuffer,
          dtype: b.dtype as CudaDType,
          shape: b.rank === 3 ? [b.shape[0], n, k] : [n, k],
          offset: b.offset,
        }
      : view(op, b, 'b');
    backend.gemm({ a: view(op, a, 'a'), b: bView, out: view(op, out, 'out'), transB });
    return out;
  };
}

function softmaxCuda(backend: CudaBackend): KernelFn<SoftmaxAttrs> {
  return ([x], { axis, log }) => {
    if (axis !== x.rank - 1)
      throw new Error(`cuda softmax: only the last axis is supported, got axis ${axis} of rank ${x.rank}`);
    const out = outOf(backend, x.shape, x.dtype);
    backend.softmax({ x: view('softmax', x, 'x'), out: view('softmax', out, 'out'), log });
    return out;
  };
}

function rmsnormCuda(backend: CudaBackend): KernelFn<NormAttrs> {
  return ([x, w], { eps, hasWeight }) => {
    if (!hasWeight) throw new Error('cuda rmsnorm: a weight is required');
    const out = outOf(backend, x.shape, x.dtype);
    backend.rmsnorm({
      x: view('rmsnorm', x, 'x'),
      weight: view('rmsnorm', w, 'weight'),
      out: view('rmsnorm', out, 'out'),
      eps,
    });
    return out;
  };
}

function layernormCuda(backend: CudaBackend): KernelFn<NormAttrs> {
  return (inputs, { eps, hasWeight, hasBias }) => {
    const [x] = inputs;
    const w = hasWeight ? inputs[1] : undefined;
    const b = hasBias ? inputs[hasWeight ? 2 : 1] : undefined;
    const out = outOf(backend, x.shape, x.dtype);
    backend.layernorm({
      x: view('layernorm', x, 'x'),
      weight: w && view('layernorm', w, 'weight'),
      bias: b && view('layernorm', b, 'bias'),
      out: view('layernorm', out, 'out'),
      eps,
    });
    return out;
  };
}

function ropeCuda(backend: CudaBackend): KernelFn<RopeAttrs> {
  // core-tensor shares one invFreq array per (rotaryDim, theta, scaling): upload each once.
  const freqs = new WeakMap<Float64Array, CudaTensor>();
  return ([x, positions], { invFreq, interleaved }) => {
    let f = freqs.get(invFreq);
    if (!f) {
      f = backend.upload('f64', [invFreq.length], invFreq);
      freqs.set(invFreq, f);
    }
    const pos =
      positions.rank === 2 && positions.shape[0] === 1 ? positions.reshape([positions.shape[1]]) : positions;
    const out = outOf(backend, x.shape, x.dtype);
    backend.rope({
      x: view('rope', x, 'x'),
      positions: view('rope', pos, 'positions'),
      invFreq: f,
      out: view('rope', out, 'out'),
      interleaved,
    });
    if (pos !== positions) pos.dispose();
    return out;
  };
}

function sdpaCuda(backend: CudaBackend): KernelFn<SdpaAttrs> {
  return (inputs, { causal, scale, hasMask }) => {
    const [q, k, v] = inputs;
    const out = outOf(backend, [q.shape[0], q.shape[1], q.shape[2], v.shape[3]], q.dtype);
    const mask = hasMask ? view('sdpa', inputs[3], 'mask') : undefined;
    backend.attention({
      q: view('sdpa', q, 'q'),
      k: view('sdpa', k, 'k'),
      v: view('sdpa', v, 'v'),
      out: view('sdpa', out, 'out'),
      causal,
      scale,
      mask,
    });
    return out;
  };
}

function binaryCuda(backend: CudaBackend, which: 'add' | 'mul'): KernelFn<BinaryAttrs> {
  return ([a, b], { shape }) => {
    const same = (t: Tensor) => t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
    if (!same(a) || !same(b))
      throw new Error(
        `cuda ${which}: broadcasting is not supported (${JSON.stringify(a.shape)} ${which} ${JSON.stringify(b.shape)})`,
      );
    if (a.dtype === 'i32' || a.dtype === 'i8' || a.dtype === 'u8' || a.dtype === 'bool')
      throw new Error(`cuda ${which}: float dtypes only, got ${a.dtype}`);
    const out = outOf(backend, shape, a.dtype);
    backend.elementwise({
      op: which,
      a: view(which, a, 'a'),
      b: view(which, b, 'b'),
      out: view(which, out, 'out'),
    });
    return out;
  };
}

/** The core-tensor ops the CUDA backend serves, bound to `backend`. */
export function cudaCoreKernels(backend: CudaBackend): Record<string, KernelFn> {
  return {
    matmul: matmulCuda(backend),
    softmax: softmaxCuda(backend),
    logSoftmax: softmaxCuda(backend),
    rmsnorm: rmsnormCuda(backend),
    layernorm: layernormCuda(backend),
    rope: ropeCuda(backend),
    sdpa: sdpaCuda(backend),
    add: binaryCuda(backend, 'add'),
    mul: binaryCuda(backend, 'mul'),
  };
}
