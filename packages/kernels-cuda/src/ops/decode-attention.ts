/**
 * @file Split-K decode attention on the device (flash-decoding; native/attention_common.cuh): the
 * same attention as attention.ts for few queries over many keys. The T keys are cut into `splits`
 * chunks; pass 1 writes each chunk's (max m, sum l, unnormalised output) into `partials` (f32,
 * splitKPartialsLength elements), pass 2 merges them: M = max m_c, L = sum l_c e^(m_c - M),
 * out = sum acc_c e^(m_c - M) / L (reference: src/reference/split-k-combine-reference.ts; the whole
 * op's reference is core-tensor's sdpa on its 'reference' backend).
 */
import { TensorError } from '@hasten/core-tensor';
import { z } from 'zod';
import { numel } from '../cuda-tensor';
import { CUDA_FLOAT_DTYPES, type CudaFloatDType, DTYPE_CODE } from '../dtype-codes';
import { attentionOptionFields, attentionParams } from './attention-args';
import { bufferArg, checkSameDType, checkTensor, fmt, type Launch, parseArgs, tensorArg } from './checks';

/** f32 elements of the partials buffer for `queries` = B * Hq * S query rows. */
export const splitKPartialsLength = (queries: number, splits: number, Dv: number) =>
  queries * splits * (Dv + 2);

/** A default split count: about 256 keys a chunk, between 1 and 64 chunks. */
export const defaultSplits = (T: number) => Math.min(64, Math.max(1, Math.ceil(T / 256)));

const DecodeAttentionArgs = z.strictObject({
  q: tensorArg,
  k: tensorArg,
  v: tensorArg,
  out: tensorArg,
  partials: tensorArg,
  splits: z.number().int().min(1).max(65535),
  ...attentionOptionFields,
});
export type DecodeAttentionArgs = z.input<typeof DecodeAttentionArgs>;

export function decodeAttentionLaunch(args: DecodeAttentionArgs): Launch {
  const op = 'cuda decodeAttention';
  const { q, k, v, out, partials, splits, mask, causal, scale } = parseArgs(op, DecodeAttentionArgs, args);
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
  const params = attentionParams(op, q, out, { B, Hq, Hkv, S, T, D, Dv }, { mask, causal, scale }, shapes);
  checkTensor(op, 'partials', partials, ['f32']);
  const need = splitKPartialsLength(B * Hq * S, splits, Dv);
  if (numel(partials.shape) < need) {
    throw new TensorError(
      op,
      `partials must hold at least ${need} f32 (B*Hq*S*splits*(Dv+2)), got ${numel(partials.shape)}`,
    );
  }
  return {
    kernel: 'decodeAttention',
    version: 1,
    buffers: [
      ...bufferArg(q),
      ...bufferArg(k),
      ...bufferArg(v),
      ...bufferArg(out),
      ...bufferArg(mask),
      ...bufferArg(partials),
    ],
    params: [DTYPE_CODE[q.dtype as CudaFloatDType], ...params, splits],
  };
}
