/**
 * @file LayerNorm on the device (arXiv:1607.06450, native/kernels/norm.cu):
 * y = (x - mean) / sqrt(var + eps) * weight + bias over the last dimension D (biased variance, as
 * torch.nn.LayerNorm), weight and bias optional [D] in x's dtype, eps default 1e-5 as core-tensor's
 * layernorm (its reference backend is the ground truth). Versions: 1 thread per row, 2 block per row.
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

const LayernormArgs = z.strictObject({
  x: tensorArg,
  weight: tensorArg.optional(),
  bias: tensorArg.optional(),
  out: tensorArg,
  eps: z.number().finite().nonnegative().default(1e-5),
  version: z.literal([1, 2]).default(2),
});
export type LayernormArgs = z.input<typeof LayernormArgs>;

export function layernormLaunch(args: LayernormArgs): Launch {
  const op = 'cuda layernorm';
  const { x, weight, bias, out, eps, version } = parseArgs(op, LayernormArgs, args);
  checkTensor(op, 'x', x, CUDA_FLOAT_DTYPES);
  if (x.shape.length === 0 || x.shape[x.shape.length - 1] === 0) {
    throw new TensorError(op, 'x needs a non-empty last dimension to normalise over');
  }
  const D = x.shape[x.shape.length - 1];
  checkInt32(op, 'D', D);
  for (const [name, p] of [
    ['weight', weight],
    ['bias', bias],
  ] as const) {
    if (!p) continue;
    checkTensor(op, name, p, CUDA_FLOAT_DTYPES);
    checkSameDType(op, name, p, x, 'x');
    checkShape(op, name, p, [D]);
  }
  checkTensor(op, 'out', out, CUDA_FLOAT_DTYPES);
  checkSameDType(op, 'out', out, x, 'x');
  checkShape(op, 'out', out, x.shape);
  return {
    kernel: 'layernorm',
    version,
    buffers: [...bufferArg(x), ...bufferArg(weight), ...bufferArg(bias), ...bufferArg(out)],
    params: [DTYPE_CODE[x.dtype as CudaFloatDType], numel(x.shape) / D, D, eps],
  };
}
