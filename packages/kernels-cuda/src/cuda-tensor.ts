/**
 * @file Device memory as the kernels see it. A `CudaBuffer` is an opaque handle to one device
 * allocation of a backend (no pointer reaches JavaScript); a `CudaTensor` is a typed, row-major
 * contiguous view of one: { buffer, dtype, shape, offset (elements) }.
 */
export type CudaDType = 'f32' | 'f16' | 'bf16' | 'i32' | 'i8' | 'u8' | 'f64';

export const BYTES: Record<CudaDType, number> = { f32: 4, f16: 2, bf16: 2, i32: 4, i8: 1, u8: 1, f64: 8 };

export class CudaBuffer {
  freed = false;
  /** `owner` is the backend (its context) that allocated it; launches check it. */
  constructor(
    readonly id: number,
    readonly byteLength: number,
    readonly owner: object,
  ) {}
}

export interface CudaTensor {
  buffer: CudaBuffer;
  dtype: CudaDType;
  shape: readonly number[];
  /** Element offset into the buffer (default 0). */
  offset?: number;
}

export const isCudaTensor = (t: unknown): t is CudaTensor =>
  typeof t === 'object' &&
  t !== null &&
  (t as CudaTensor).buffer instanceof CudaBuffer &&
  typeof (t as CudaTensor).dtype === 'string' &&
  Array.isArray((t as CudaTensor).shape);

export const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
