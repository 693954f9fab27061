/**
 * @file Softmax / log-softmax over the last dimension on the device (native/kernels/softmax.cu):
 * exp(x - max) / sum exp(x - max), or x - max - log sum exp(x - max), for contiguous rows. out may
 * be x (in place). Reference: core-tensor's softmax / logSoftmax on its 'reference' backend. A row
 * of all -Infinity gives NaN on the device where the reference throws.
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

const SoftmaxArgs = z.strictObject({
  x: tensorArg,
  out: tensorArg,
  log: z.boolean().default(false),
  version: z.literal([1, 2]).default(2),
});
export type SoftmaxArgs = z.input<typeof SoftmaxArgs>;

export function softmaxLaunch(args: SoftmaxArgs): Launch {
  const op = 'cuda softmax';
  const { x, out, log, version } = parseArgs(op, SoftmaxArgs, args);
  checkTensor(op, 'x', x, CUDA_FLOAT_DTYPES);
  checkTensor(op, 'out', out, CUDA_FLOAT_DTYPES);
  checkSameDType(op, 'out', out, x, 'x');
  checkShape(op, 'out', out, x.shape);
  if (x.shape.length === 0 || x.shape[x.shape.length - 1] === 0) {
    throw new TensorError(op, 'x needs a non-empty last dimension');
  }
  const N = x.shape[x.shape.length - 1];
  checkInt32(op, 'the last dimension', N);
  return {
    kernel: 'softmax',
    version,
    buffers: [...bufferArg(x), ...bufferArg(out)],
    params: [DTYPE_CODE[x.dtype as CudaFloatDType], numel(x.shape) / N, N, log ? 1 : 0],
  };
}
