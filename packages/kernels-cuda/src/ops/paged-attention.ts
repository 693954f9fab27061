/**
 * @file Paged attention on the device (PagedAttention, vLLM: arXiv:2309.06180;
 * native/kernels/paged_attention.cu) with core-tensor's pagedSdpa conventions: q [B, Hq, S, D];
 * keys [N, Hkv, blockSize, D] and values [N, Hkv, blockSize, Dv], a pool of N blocks, with any element
 * strides (`keyStrides` / `valueStrides`, default row-major; @hasten/kv's head-major pool
 * [Hkv, N, bs, D] passes its permuted strides and needs no copy); blockTable i32 [B, maxBlocks] on
 * the device plus its host copy `blockTableHost`, whose first ceil(length / blockSize) entries of each
 * row are checked against [0, N) before launch (a kernel must never read outside the pool); `length`
 * key positions per row. Causal / mask / scale / GQA as attention.ts.
 * Reference: core-tensor's pagedSdpa on its 'reference' backend.
 * Versions: 1 thread per query, 2 split-K (needs `partials` and `splits`; default).
 */
import { TensorError } from '@hasten/core-tensor';
import { z } from 'zod';
import { BYTES, type CudaTensor, numel } from '../cuda-tensor';
import { CUDA_FLOAT_DTYPES, type CudaFloatDType, DTYPE_CODE } from '../dtype-codes';
import { attentionOptionFields, attentionParams } from './attention-args';
import { bufferArg, checkSameDType, checkTensor, fmt, type Launch, parseArgs, tensorArg } from './checks';
import { splitKPartialsLength } from './decode-attention';

const strides4 = z.tuple([z.number().int(), z.number().int(), z.number().int(), z.number().int()]);

const PagedAttentionArgs = z.strictObject({
  q: tensorArg,
  keys: tensorArg,
  values: tensorArg,
  keyStrides: strides4.optional(),
  valueStrides: strides4.optional(),
  blockTable: tensorArg,
  blockTableHost: z.instanceof(Int32Array),
  length: z.number().int().nonnegative(),
  out: tensorArg,
  partials: tensorArg.optional(),
  splits: z.number().int().min(1).max(65535).optional(),
  ...attentionOptionFields,
  version: z.literal([1, 2]).default(2),
});
export type PagedAttentionArgs = z.input<typeof PagedAttentionArgs>;

const rowMajor = (s: readonly number[]) => [s[1] * s[2] * s[3], s[2] * s[3], s[3], 1];

/** A pool view with strides must stay inside its buffer (strides >= 0). */
function checkPool(op: string, name: string, t: CudaTensor, strides: number[]): void {
  if (strides.some((s) => s < 0))
    throw new TensorError(op, `${name} strides must be >= 0, got ${fmt(strides)}`);
  if (numel(t.shape) === 0) return;
  const last = (t.offset ?? 0) + t.shape.reduce((acc, d, i) => acc + (d - 1) * strides[i], 0);
  if ((last + 1) * BYTES[t.dtype] > t.buffer.byteLength) {
    throw new TensorError(
      op,
      `${name} ${fmt(t.shape)} with strides ${fmt(strides)} reaches past its buffer (${t.buffer.byteLength} bytes)`,
    );
  }
}

export function pagedAttentionLaunch(args: PagedAttentionArgs): Launch {
  const op = 'cuda pagedAttention';
  const a = parseArgs(op, PagedAttentionArgs, args);
  const {
    q,
    keys,
    values,
    blockTable,
    blockTableHost: host,
    length: T,
    out,
    mask,
    causal,
    scale,
    version,
  } = a;
  checkTensor(op, 'q', q, CUDA_FLOAT_DTYPES, 4);
  for (const [name, t] of [
    ['keys', keys],
    ['values', values],
  ] as const) {
    if (t.buffer.freed) throw new TensorError(op, `${name}'s buffer was freed`);
    if (t.shape.length !== 4)
      throw new TensorError(op, `${name} must be [blocks, Hkv, blockSize, dim], got ${fmt(t.shape)}`);
    checkSameDType(op, name, t, q, 'q');
  }
  const ks = a.keyStrides ?? rowMajor(keys.shape);
  const vs = a.valueStrides ?? rowMajor(values.shape);
  checkPool(op, 'keys', keys, ks);
  checkPool(op, 'values', values, vs);
  checkTensor(op, 'blockTable', blockTable, ['i32'], 2);
  const shapes = `q ${fmt(q.shape)}, keys ${fmt(keys.shape)}, values ${fmt(values.shape)}, blockTable ${fmt(blockTable.shape)}`;
  const [B, Hq, S, D] = q.shape;
  const [N, Hkv, blockSize, Dk] = keys.shape;
  const [Nv, Hv, bsV, Dv] = values.shape;
  if (Nv !== N || Hv !== Hkv || bsV !== blockSize || Dk !== D) {
    throw new TensorError(
      op,
      `expected keys [N, Hkv, blockSize, ${D}] and values [N, Hkv, blockSize, Dv] with the same N, Hkv and blockSize; got ${shapes}`,
    );
  }
  if (blockSize === 0) throw new TensorError(op, `block size must be positive; got ${shapes}`);
  const [Bt, maxBlocks] = blockTable.shape;
  if (Bt !== B) throw new TensorError(op, `blockTable must have one row per batch row (${B}); got ${shapes}`);
  if (T > maxBlocks * blockSize) {
    throw new TensorError(
      op,
      `length must be an integer in [0, ${maxBlocks * blockSize}] (blockTable columns × blockSize), got ${T}`,
    );
  }
  if (host.length !== B * maxBlocks) {
    throw new TensorError(
      op,
      `blockTableHost must be the host copy of blockTable (${B * maxBlocks} entries), got ${host.length}`,
    );
  }
  const used = Math.ceil(T / blockSize);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < used; i++) {
      const id = host[b * maxBlocks + i];
      if (!(id >= 0 && id < N)) {
        throw new TensorError(op, `blockTable[${b}, ${i}] = ${id} is not a block of the pool [0, ${N})`);
      }
    }
  }
  const params = attentionParams(op, q, out, { B, Hq, Hkv, S, T, D, Dv }, { mask, causal, scale }, shapes);
  let splits = 1;
  if (version === 2) {
    if (!a.partials || a.splits === undefined) {
      throw new TensorError(op, "version 2 (split-K) needs 'partials' (f32) and 'splits'");
    }
    splits = a.splits;
    checkTensor(op, 'partials', a.partials, ['f32']);
    const need = splitKPartialsLength(B * Hq * S, splits, Dv);
    if (numel(a.partials.shape) < need) {
      throw new TensorError(
        op,
        `partials must hold at least ${need} f32 (B*Hq*S*splits*(Dv+2)), got ${numel(a.partials.shape)}`,
      );
    }
  }
  return {
    kernel: 'pagedAttention',
    version,
    buffers: [
      ...bufferArg(q),
      ...bufferArg(keys),
      ...bufferArg(values),
      ...bufferArg(out),
      ...bufferArg(mask),
      ...bufferArg(blockTable),
      ...bufferArg(version === 2 ? a.partials : undefined),
    ],
    params: [DTYPE_CODE[q.dtype as CudaFloatDType], ...params, ...ks, ...vs, maxBlocks, blockSize, splits],
  };
}
