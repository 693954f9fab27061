/**
 * @file GEMM on the device: c[b] = a[b] @ b[b] (a [.., M, K], b [.., K, N] or, with transB, the
 * Linear weight layout [.., N, K]), f32 accumulation, output in the input dtype
 * (native/kernels/gemm.cu). Batch: a, b and c are [M, K] / [K, N] / [M, N] or carry one leading
 * batch dimension; a 2-D b is shared by every batch (stride 0). Reference: core-tensor's matmul on
 * its 'reference' backend.
 * Versions: 1 naive, 2 shared-memory tiles, 3 tensor cores (WMMA; f16/bf16 only). Default: 3 for
 * f16/bf16, 2 for f32.
 */
import { TensorError } from '@hasten/core-tensor';
import { z } from 'zod';
import { CUDA_FLOAT_DTYPES, type CudaFloatDType, DTYPE_CODE } from '../dtype-codes';
import {
  bufferArg,
  checkInt32,
  checkSameDType,
  checkShape,
  checkTensor,
  fmt,
  type Launch,
  parseArgs,
  tensorArg,
} from './checks';

const GemmArgs = z.strictObject({
  a: tensorArg,
  b: tensorArg,
  out: tensorArg,
  transB: z.boolean().default(false),
  version: z.literal([1, 2, 3]).optional(),
});
export type GemmArgs = z.input<typeof GemmArgs>;

export function gemmLaunch(args: GemmArgs): Launch {
  const op = 'cuda gemm';
  const { a, b, out, transB, version } = parseArgs(op, GemmArgs, args);
  checkTensor(op, 'a', a, CUDA_FLOAT_DTYPES);
  checkTensor(op, 'b', b, CUDA_FLOAT_DTYPES);
  checkTensor(op, 'out', out, CUDA_FLOAT_DTYPES);
  checkSameDType(op, 'b', b, a, 'a');
  checkSameDType(op, 'out', out, a, 'a');
  if (a.shape.length < 2 || a.shape.length > 3 || b.shape.length < 2 || b.shape.length > 3) {
    throw new TensorError(
      op,
      `a and b must be [M, K] / [K, N] or carry one batch dimension; got a ${fmt(a.shape)}, b ${fmt(b.shape)}`,
    );
  }
  const batch = a.shape.length === 3 ? a.shape[0] : 1;
  const [M, K] = a.shape.slice(-2);
  const [b0, b1] = b.shape.slice(-2);
  const [Kb, N] = transB ? [b1, b0] : [b0, b1];
  if (Kb !== K) {
    throw new TensorError(
      op,
      `inner dimensions differ: a ${fmt(a.shape)} has K=${K}, b ${fmt(b.shape)}${transB ? ' (transB: [N, K])' : ''} has K=${Kb}`,
    );
  }
  if (b.shape.length === 3 && b.shape[0] !== batch) {
    throw new TensorError(op, `b's batch ${b.shape[0]} must equal a's (${batch}) or b must be 2-D`);
  }
  checkShape(op, 'out', out, a.shape.length === 3 ? [batch, M, N] : [M, N]);
  if (batch > 65535) throw new TensorError(op, `batch ${batch} exceeds the grid limit 65535`);
  // grid.y covers M in tiles of 16 (v1) or 64 (v2, v3) rows, at most 65535 tiles
  if (Math.ceil(M / 16) > 65535)
    throw new TensorError(op, `M = ${M} exceeds the grid limit (65535 x 16 rows)`);
  for (const [what, n] of [
    ['M', M],
    ['N', N],
    ['K', K],
  ] as const)
    checkInt32(op, what, n);
  const dtype = a.dtype as CudaFloatDType;
  const v = version ?? (dtype === 'f32' ? 2 : 3);
  if (v === 3 && dtype === 'f32') {
    throw new TensorError(op, 'version 3 (tensor cores) takes f16 or bf16; use version 2 for f32');
  }
  return {
    kernel: 'gemm',
    version: v,
    buffers: [...bufferArg(a), ...bufferArg(b), ...bufferArg(out)],
    params: [
      DTYPE_CODE[dtype],
      batch,
      M,
      N,
      K,
      M * K,
      b.shape.length === 3 ? K * N : 0,
      M * N,
      transB ? 1 : 0,
    ],
  };
}
