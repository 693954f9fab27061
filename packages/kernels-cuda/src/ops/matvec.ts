/**
 * @file Decode matrix-vector product on the device: y[M, N] = x[M, K] @ W^T, W in the Linear layout
 * [N, K], stored as f32 / f16 / bf16 or weight-only quantized (native/kernels/matvec.cu), dequantised
 * inside the product. The formats and their reference: src/reference/matvec-reference.ts.
 *   int8: weight i8 [N, K], scales f16 [N]
 *   int4: weight u8 [N, K/2] (two nibbles a byte, low = even k), scales f16 [N, K/group],
 *         group 32, 64 or 128
 * x and y share the activation dtype (f32, f16 or bf16). Versions: 1 thread per output, 2 warp per
 * output (default).
 */
import { TensorError } from '@hasten/core-tensor';
import { z } from 'zod';
import type { CudaTensor } from '../cuda-tensor';
import {
  CUDA_FLOAT_DTYPES,
  type CudaFloatDType,
  DTYPE_CODE,
  WEIGHT_FORMAT_CODE,
  WEIGHT_FORMATS,
} from '../dtype-codes';
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

export const INT4_GROUPS = [32, 64, 128] as const;

const MatvecArgs = z.strictObject({
  x: tensorArg,
  weight: tensorArg,
  format: z.enum(WEIGHT_FORMATS),
  scales: tensorArg.optional(),
  group: z.literal(INT4_GROUPS).optional(),
  out: tensorArg,
  version: z.literal([1, 2]).default(2),
});
export type MatvecArgs = z.input<typeof MatvecArgs>;

/** The storage dtype each weight format needs. */
const WEIGHT_DTYPE = { f32: 'f32', f16: 'f16', bf16: 'bf16', int8: 'i8', int4: 'u8' } as const;

export function matvecLaunch(args: MatvecArgs): Launch {
  const op = 'cuda matvec';
  const { x, weight, format, scales, group, out, version } = parseArgs(op, MatvecArgs, args);
  checkTensor(op, 'x', x, CUDA_FLOAT_DTYPES, 2);
  checkTensor(op, 'out', out, CUDA_FLOAT_DTYPES, 2);
  checkSameDType(op, 'out', out, x, 'x');
  checkTensor(op, 'weight', weight, [WEIGHT_DTYPE[format]], 2);
  const [M, K] = x.shape;
  const N = weight.shape[0];
  const quantized = format === 'int8' || format === 'int4';
  if (format === 'int4') {
    if (K % 2 !== 0) throw new TensorError(op, `int4 needs an even K (two weights a byte), got K=${K}`);
    if (group === undefined)
      throw new TensorError(op, `int4 needs 'group' (one of ${INT4_GROUPS.join(', ')})`);
    if (K % group !== 0) throw new TensorError(op, `K=${K} must be a multiple of the int4 group ${group}`);
    checkShape(op, 'weight', weight, [N, K / 2]);
  } else {
    if (group !== undefined) throw new TensorError(op, `'group' applies to int4 only, not ${format}`);
    checkShape(op, 'weight', weight, [N, K]);
  }
  let scaleTensor: CudaTensor | undefined;
  if (quantized) {
    if (!scales) throw new TensorError(op, `${format} weights need 'scales' (f16)`);
    checkTensor(op, 'scales', scales, ['f16']);
    checkShape(op, 'scales', scales, format === 'int8' ? [N] : [N, K / (group as number)]);
    scaleTensor = scales;
  } else if (scales) {
    throw new TensorError(op, `'scales' applies to int8 and int4 weights only, not ${format}`);
  }
  checkShape(op, 'out', out, [M, N]);
  if (M > 65535)
    throw new TensorError(op, `M = ${M} rows exceed the grid limit 65535 (use gemm for prefill)`);
  checkInt32(op, 'N * K', N * K);
  return {
    kernel: 'matvec',
    version,
    buffers: [...bufferArg(x), ...bufferArg(weight), ...bufferArg(scaleTensor), ...bufferArg(out)],
    params: [DTYPE_CODE[x.dtype as CudaFloatDType], WEIGHT_FORMAT_CODE[format], M, N, K, group ?? 0],
  };
}
