/**
 * @file Categorical sampling on the device with given uniforms (native/kernels/sampling.cu), the
 * inverse-CDF method of core-tensor's sampleCategorical: for each row of logits [rows, V],
 * w_j = exp((x_j - max x) / temperature) in f64, and the sample is the first j with
 * cumsum(w)_j > u * sum(w), u = uniforms[row] in [0, 1) (f64, e.g. from core-tensor's Philox
 * `uniformFromWords`, so a seed reproduces the CPU draw). temperature 0 is the argmax (first on
 * ties). out: i32 [rows]. Reference: src/reference/sample-reference.ts.
 */
import { TensorError } from '@hasten/core-tensor';
import { z } from 'zod';
import { numel } from '../cuda-tensor';
import { CUDA_FLOAT_DTYPES, type CudaFloatDType, DTYPE_CODE } from '../dtype-codes';
import { bufferArg, checkInt32, checkShape, checkTensor, type Launch, parseArgs, tensorArg } from './checks';

const SampleArgs = z.strictObject({
  logits: tensorArg,
  uniforms: tensorArg,
  out: tensorArg,
  temperature: z.number().finite().nonnegative().default(1),
});
export type SampleArgs = z.input<typeof SampleArgs>;

export function sampleLaunch(args: SampleArgs): Launch {
  const op = 'cuda sample';
  const { logits, uniforms, out, temperature } = parseArgs(op, SampleArgs, args);
  checkTensor(op, 'logits', logits, CUDA_FLOAT_DTYPES, 2);
  const [rows, V] = logits.shape;
  if (V === 0) throw new TensorError(op, 'logits need at least one category');
  checkInt32(op, 'rows', rows);
  checkInt32(op, 'V', V);
  checkTensor(op, 'uniforms', uniforms, ['f64']);
  checkShape(op, 'uniforms', uniforms, [rows]);
  checkTensor(op, 'out', out, ['i32']);
  checkShape(op, 'out', out, [rows]);
  return {
    kernel: 'sample',
    version: 1,
    buffers: [...bufferArg(logits), ...bufferArg(uniforms), ...bufferArg(out)],
    params: [DTYPE_CODE[logits.dtype as CudaFloatDType], numel(logits.shape) / V, V, temperature],
  };
}
