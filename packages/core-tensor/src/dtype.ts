/**
 * @file Element types. f16 and bf16 are stored as raw 16-bit patterns (Uint16Array); `bool` is one
 * byte per element (0 or 1). Every dtype can be held by every backend; which ops accept which dtypes
 * is decided per op.
 */
import { TensorError } from './errors';

export const DTYPES = ['f32', 'f16', 'bf16', 'i32', 'i8', 'u8', 'bool'] as const;
export type DType = (typeof DTYPES)[number];

export type FloatDType = 'f32' | 'f16' | 'bf16';
export const FLOAT_DTYPES: readonly DType[] = ['f32', 'f16', 'bf16'];

export const BYTES_PER_ELEMENT: Record<DType, number> = {
  f32: 4,
  f16: 2,
  bf16: 2,
  i32: 4,
  i8: 1,
  u8: 1,
  bool: 1,
};

/** The typed array that holds each dtype's raw storage on the CPU. */
export type StorageArray = Float32Array | Uint16Array | Int32Array | Int8Array | Uint8Array;

export function isDType(x: unknown): x is DType {
  return typeof x === 'string' && (DTYPES as readonly string[]).includes(x);
}

/** `x` must name a dtype; `context` says what it was for (e.g. "for shape [2, 3]"), built on failure only. */
export function assertDType(op: string, x: unknown, context?: () => string): DType {
  if (!isDType(x)) {
    const what = context ? ` ${context()}` : '';
    throw new TensorError(
      op,
      `unknown dtype ${JSON.stringify(x)}${what}; expected one of ${DTYPES.join(', ')}`,
    );
  }
  return x;
}

export function isFloat(d: DType): d is FloatDType {
  return d === 'f32' || d === 'f16' || d === 'bf16';
}

/** A typed-array view of `buffer` for dtype `d` (no copy). */
export function storageView(
  d: DType,
  buffer: ArrayBufferLike,
  byteOffset = 0,
  length?: number,
): StorageArray {
  switch (d) {
    case 'f32':
      return new Float32Array(buffer, byteOffset, length);
    case 'f16':
    case 'bf16':
      return new Uint16Array(buffer, byteOffset, length);
    case 'i32':
      return new Int32Array(buffer, byteOffset, length);
    case 'i8':
      return new Int8Array(buffer, byteOffset, length);
    case 'u8':
    case 'bool':
      return new Uint8Array(buffer, byteOffset, length);
  }
}
