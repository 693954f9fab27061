/**
 * @file Top-k on the device (native/kernels/sampling.cu): the k largest of each row of x [rows, V],
 * sorted descending, ties to the lower index, NaN above every number (core-tensor's topk; its
 * 'reference' backend is the ground truth). values [rows, k] in x's dtype, indices i32 [rows, k].
 * Versions: 1 thread per row, 2 block per row (default). Both take k passes: meant for small k.
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

const TopkArgs = z.strictObject({
  x: tensorArg,
  k: z.number().int().positive(),
  values: tensorArg,
  indices: tensorArg,
  version: z.literal([1, 2]).default(2),
});
export type TopkArgs = z.input<typeof TopkArgs>;

export function topkLaunch(args: TopkArgs): Launch {
  const op = 'cuda topk';
  const { x, k, values, indices, version } = parseArgs(op, TopkArgs, args);
  checkTensor(op, 'x', x, CUDA_FLOAT_DTYPES);
  if (x.shape.length === 0) throw new TensorError(op, 'x needs at least one dimension');
  const V = x.shape[x.shape.length - 1];
  checkInt32(op, 'V', V);
  if (k > V) throw new TensorError(op, `k must be an integer in 1..${V} (the last dimension), got ${k}`);
  const rows = V === 0 ? 0 : numel(x.shape) / V;
  const outShape = [...x.shape.slice(0, -1), k];
  checkTensor(op, 'values', values, CUDA_FLOAT_DTYPES);
  checkSameDType(op, 'values', values, x, 'x');
  checkShape(op, 'values', values, outShape);
  checkTensor(op, 'indices', indices, ['i32']);
  checkShape(op, 'indices', indices, outShape);
  return {
    kernel: 'topk',
    version,
    buffers: [...bufferArg(x), ...bufferArg(values), ...bufferArg(indices)],
    params: [DTYPE_CODE[x.dtype as CudaFloatDType], rows, V, k],
  };
}
