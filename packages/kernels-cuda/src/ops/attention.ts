/**
 * @file Prefill attention on the device (native/kernels/attention.cu): softmax(q k^T * scale +
 * masking) v with q [B, Hq, S, D], k [B, Hkv, T, D], v [B, Hkv, T, Dv] -> out [B, Hq, S, Dv];
 * grouped-query heads, causal (query i at position T - S + i), optional u8 mask broadcast to
 * [B, Hq, S, T] (tree masks; 1 = may attend). A query that may attend to nothing gets zeros.
 * Reference: core-tensor's sdpa on its 'reference' backend.
 * Versions: 1 thread per query, 2 flash attention, warp per query with shared K/V tiles (default).
 */

import { TensorError } from '@hasten/core-tensor';
import { z } from 'zod';
import { CUDA_FLOAT_DTYPES, type CudaFloatDType, DTYPE_CODE } from '../dtype-codes';
import { attentionOptionFields, attentionParams } from './attention-args';
import { bufferArg, checkSameDType, checkTensor, fmt, type Launch, parseArgs, tensorArg } from './checks';

const AttentionArgs = z.strictObject({
  q: tensorArg,
  k: tensorArg,
  v: tensorArg,
  out: tensorArg,
  ...attentionOptionFields,
  version: z.literal([1, 2]).default(2),
});
export type AttentionArgs = z.input<typeof AttentionArgs>;

export function attentionLaunch(args: AttentionArgs): Launch {
  const op = 'cuda attention';
  const { q, k, v, out, mask, causal, scale, version } = parseArgs(op, AttentionArgs, args);
  checkTensor(op, 'q', q, CUDA_FLOAT_DTYPES, 4);
  checkTensor(op, 'k', k, CUDA_FLOAT_DTYPES, 4);
  checkTensor(op, 'v', v, CUDA_FLOAT_DTYPES, 4);
  checkSameDType(op, 'k', k, q, 'q');
  checkSameDType(op, 'v', v, q, 'q');
  const shapes = `q ${fmt(q.shape)}, k ${fmt(k.shape)}, v ${fmt(v.shape)}`;
  const [B, Hq, S, D] = q.shape;
  const [Bk, Hkv, T, Dk] = k.shape;
  const [Bv, Hv, Tv, Dv] = v.shape;
  if (Bk !== B || Bv !== B || Hv !== Hkv || Tv !== T || Dk !== D) {
    throw new TensorError(
      op,
      `expected k [${B}, Hkv, T, ${D}] and v [${B}, Hkv, T, Dv] with the same Hkv and T; got ${shapes}`,
    );
  }
  if (version === 2 && B * Hq > 65535)
    throw new TensorError(op, `B * Hq = ${B * Hq} exceeds the grid limit 65535`);
  const params = attentionParams(op, q, out, { B, Hq, Hkv, S, T, D, Dv }, { mask, causal, scale }, shapes);
  return {
    kernel: 'attention',
    version,
    buffers: [...bufferArg(q), ...bufferArg(k), ...bufferArg(v), ...bufferArg(out), ...bufferArg(mask)],
    params: [DTYPE_CODE[q.dtype as CudaFloatDType], ...params],
  };
}
