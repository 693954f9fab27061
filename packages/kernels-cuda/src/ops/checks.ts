/**
 * @file Argument checking shared by the kernel wrappers (src/ops/*.ts). Every check runs in
 * TypeScript before the addon is called, so a bad call is an error naming the op, the argument and
 * what is allowed, never a kernel reading outside its buffers.
 */
import { parseOptionsWith, TensorError } from '@hasten/core-tensor';
import { z } from 'zod';
import { BYTES, type CudaDType, type CudaTensor, isCudaTensor, numel } from '../cuda-tensor';

/** One kernel launch, as the addon takes it (native/binding.cc). */
export interface Launch {
  kernel: string;
  version: number;
  /** [id, byteOffset] pairs; id -1 for an absent optional buffer. */
  buffers: number[];
  params: number[];
}

export const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

export const tensorArg = z.custom<CudaTensor>(
  isCudaTensor,
  'expected a CudaTensor { buffer, dtype, shape, offset? }',
);

/** Parse `value` with a strict zod schema; a failure is a TensorError naming the op and field. */
export function parseArgs<S extends z.ZodType>(op: string, schema: S, value: unknown): z.output<S> {
  return parseOptionsWith(schema, value, (problem) => new TensorError(op, problem));
}

export function versionArg(allowed: readonly number[], fallback: number) {
  return z
    .number()
    .int()
    .refine((v) => allowed.includes(v), `version must be one of ${allowed.join(', ')}`)
    .default(fallback);
}

/**
 * `t` must be a live tensor of one of `dtypes`, of rank `rank` (if given), with integer dims >= 0,
 * lying inside its buffer.
 */
export function checkTensor(
  op: string,
  name: string,
  t: CudaTensor,
  dtypes: readonly CudaDType[],
  rank?: number,
): void {
  if (t.buffer.freed) throw new TensorError(op, `${name}'s buffer was freed`);
  if (!dtypes.includes(t.dtype)) {
    throw new TensorError(op, `${name} must be ${dtypes.join(' or ')}, got ${t.dtype}`);
  }
  if (rank !== undefined && t.shape.length !== rank) {
    throw new TensorError(op, `${name} must have rank ${rank}, got shape ${fmt(t.shape)}`);
  }
  if (!t.shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new TensorError(op, `${name}'s shape ${fmt(t.shape)} must hold integers >= 0`);
  }
  const offset = t.offset ?? 0;
  if (!Number.isInteger(offset) || offset < 0) {
    throw new TensorError(op, `${name}'s offset must be an integer >= 0, got ${offset}`);
  }
  const end = (offset + numel(t.shape)) * BYTES[t.dtype];
  if (end > t.buffer.byteLength) {
    throw new TensorError(
      op,
      `${name} ${t.dtype} ${fmt(t.shape)} at element offset ${offset} needs ${end} bytes but its buffer has ${t.buffer.byteLength}`,
    );
  }
}

/** `t`'s shape must equal `want` (a -1 entry matches anything). */
export function checkShape(op: string, name: string, t: CudaTensor, want: readonly number[]): void {
  const ok = t.shape.length === want.length && want.every((w, i) => w === -1 || w === t.shape[i]);
  if (!ok)
    throw new TensorError(
      op,
      `${name} must be ${fmt(want.map((w) => (w === -1 ? '*' : w) as number))}, got ${fmt(t.shape)}`,
    );
}

export function checkSameDType(
  op: string,
  name: string,
  t: CudaTensor,
  like: CudaTensor,
  likeName: string,
): void {
  if (t.dtype !== like.dtype) {
    throw new TensorError(op, `${name} must have ${likeName}'s dtype ${like.dtype}, got ${t.dtype}`);
  }
}

/** Kernels index with 32-bit ints in places: each dimension must stay below 2^31. */
export function checkInt32(op: string, what: string, n: number): void {
  if (n > 0x7fffffff) throw new TensorError(op, `${what} = ${n} exceeds 2^31 - 1`);
}

/** The [id, byteOffset] pair of a tensor, or of nothing. */
export function bufferArg(t: CudaTensor | undefined): [number, number] {
  if (!t) return [-1, 0];
  return [t.buffer.id, (t.offset ?? 0) * BYTES[t.dtype]];
}
