/**
 * @file RMSNorm on the device (arXiv:1910.07467, native/kernels/norm.cu):
 * y = x / sqrt(mean(x^2) + eps) * weight over the last dimension D, weight [D] in x's dtype,
 * eps default 1e-6 as core-tensor's rmsnorm (its reference backend is the ground truth).
 * Versions: 1 thread per row, 2 block per row (default).
 */
import { TensorError } from '@hasten/core-tensor';
import { z } from 'zod';
import { numel } from '../cuda-tensor';
import { CUDA_FLOAT_DTYPES, type CudaFloatDType, DTYPE_CODE } from '../dtype-codes';
import {
  bufferArg,
  checkInt32,
  checkSameDType,
  checkShape,
  checkTensor,
  type Launch,
  parseArgs,
  tensorArg,
} from './checks';

const RmsnormArgs = z.strictObject({
  x: tensorArg,
  weight: tensorArg,
  out: tensorArg,
  eps: z.number().finite().nonnegative().default(1e-6),
  version: z.literal([1, 2]).default(2),
});
export type RmsnormArgs = z.input<typeof RmsnormArgs>;

export function rmsnormLaunch(args: RmsnormArgs): Launch {
  const op = 'cuda rmsnorm';
  const { x, weight, out, eps, version } = parseArgs(op, RmsnormArgs, args);
  checkTensor(op, 'x', x, CUDA_FLOAT_DTYPES);
  if (x.shape.length === 0 || x.shape[x.shape.length - 1] === 0) {
    throw new TensorError(op, 'x needs a non-empty last dimension to normalise over');
  }
  const D = x.shape[x.shape.length - 1];
  checkInt32(op, 'D', D);
  checkTensor(op, 'weight', weight, CUDA_FLOAT_DTYPES);
  checkSameDType(op, 'weight', weight, x, 'x');
  checkShape(op, 'weight', weight, [D]);
  checkTensor(op, 'out', out, CUDA_FLOAT_DTYPES);
  checkSameDType(op, 'out', out, x, 'x');
  checkShape(op, 'out', out, x.shape);
  return {
    kernel: 'rmsnorm',
    version,
    buffers: [...bufferArg(x), ...bufferArg(weight), ...bufferArg(out)],
    params: [DTYPE_CODE[x.dtype as CudaFloatDType], numel(x.shape) / D, D, eps],
  };
}
