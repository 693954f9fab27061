/**
 * @file Rotary position embedding on the device (RoFormer, arXiv:2104.09864; native/kernels/rope.cu)
 * in core-tensor's layout: x [B, H, S, D], positions i32 [S] or [B, S], invFreq f64 [rotaryDim / 2]
 * (from core-tensor's ropeInvFreq, so scaling rules are shared). rotate_half pairs feature i with
 * i + rotaryDim/2 (HF default); interleaved pairs 2i and 2i + 1. Features past rotaryDim are copied.
 * Reference: core-tensor's rope on its 'reference' backend.
 */
import { TensorError } from '@hasten/core-tensor';
import { z } from 'zod';
import { CUDA_FLOAT_DTYPES, type CudaFloatDType, DTYPE_CODE } from '../dtype-codes';
import {
  bufferArg,
  checkSameDType,
  checkShape,
  checkTensor,
  fmt,
  type Launch,
  parseArgs,
  tensorArg,
} from './checks';

const RopeArgs = z.strictObject({
  x: tensorArg,
  positions: tensorArg,
  invFreq: tensorArg,
  out: tensorArg,
  interleaved: z.boolean().default(false),
});
export type RopeArgs = z.input<typeof RopeArgs>;

export function ropeLaunch(args: RopeArgs): Launch {
  const op = 'cuda rope';
  const { x, positions, invFreq, out, interleaved } = parseArgs(op, RopeArgs, args);
  checkTensor(op, 'x', x, CUDA_FLOAT_DTYPES, 4);
  const [B, H, S, D] = x.shape;
  checkTensor(op, 'positions', positions, ['i32']);
  const perBatch = positions.shape.length === 2;
  const okPositions =
    (positions.shape.length === 1 && positions.shape[0] === S) ||
    (perBatch && positions.shape[0] === B && positions.shape[1] === S);
  if (!okPositions) {
    throw new TensorError(
      op,
      `positions must be [${S}] or [${B}, ${S}] for x ${fmt(x.shape)}, got ${fmt(positions.shape)}`,
    );
  }
  checkTensor(op, 'invFreq', invFreq, ['f64'], 1);
  const rotaryDim = 2 * invFreq.shape[0];
  if (rotaryDim === 0 || rotaryDim > D) {
    throw new TensorError(
      op,
      `invFreq [${invFreq.shape[0]}] gives rotaryDim ${rotaryDim}; it must be in 2..${D} (headDim)`,
    );
  }
  checkTensor(op, 'out', out, CUDA_FLOAT_DTYPES);
  checkSameDType(op, 'out', out, x, 'x');
  checkShape(op, 'out', out, x.shape);
  return {
    kernel: 'rope',
    version: 1,
    buffers: [...bufferArg(x), ...bufferArg(positions), ...bufferArg(invFreq), ...bufferArg(out)],
    params: [
      DTYPE_CODE[x.dtype as CudaFloatDType],
      perBatch ? S : 0,
      B,
      H,
      S,
      D,
      rotaryDim,
      interleaved ? 1 : 0,
    ],
  };
}
