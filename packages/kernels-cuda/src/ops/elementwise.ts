/**
 * @file Fused elementwise ops on the device (native/kernels/elementwise.cu) over same-shape
 * contiguous tensors: add (a + b), mul (a * b), siluMul (silu(a) * b = a / (1 + e^-a) * b, the
 * SwiGLU gate of arXiv:2002.05202). No broadcasting. Reference: core-tensor's add / mul / silu on
 * its 'reference' backend. Versions: 1 element per thread, 2 grid-stride (default).
 */
import { z } from 'zod';
import { numel } from '../cuda-tensor';
import { CUDA_FLOAT_DTYPES, type CudaFloatDType, DTYPE_CODE } from '../dtype-codes';
import {
  bufferArg,
  checkSameDType,
  checkShape,
  checkTensor,
  type Launch,
  parseArgs,
  tensorArg,
} from './checks';

export const ELEMENTWISE_OPS = ['add', 'mul', 'siluMul'] as const;
export type ElementwiseOp = (typeof ELEMENTWISE_OPS)[number];

const ElementwiseArgs = z.strictObject({
  op: z.enum(ELEMENTWISE_OPS),
  a: tensorArg,
  b: tensorArg,
  out: tensorArg,
  version: z.literal([1, 2]).default(2),
});
export type ElementwiseArgs = z.input<typeof ElementwiseArgs>;

export function elementwiseLaunch(args: ElementwiseArgs): Launch {
  const where = 'cuda elementwise';
  const { op, a, b, out, version } = parseArgs(where, ElementwiseArgs, args);
  checkTensor(where, 'a', a, CUDA_FLOAT_DTYPES);
  checkTensor(where, 'b', b, CUDA_FLOAT_DTYPES);
  checkTensor(where, 'out', out, CUDA_FLOAT_DTYPES);
  checkSameDType(where, 'b', b, a, 'a');
  checkSameDType(where, 'out', out, a, 'a');
  checkShape(where, 'b', b, a.shape);
  checkShape(where, 'out', out, a.shape);
  return {
    kernel: 'elementwise',
    version,
    buffers: [...bufferArg(a), ...bufferArg(b), ...bufferArg(out)],
    params: [DTYPE_CODE[a.dtype as CudaFloatDType], ELEMENTWISE_OPS.indexOf(op), numel(a.shape)],
  };
}
