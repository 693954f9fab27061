/**
 * @file Helpers of the device tests (kernels.gpu.test.ts): moving random values to the device in a
 * dtype and back as f32, rounding host values the way the device stores them, and the error measure.
 */
import { bf16ArrayToF32, f16ArrayToF32, f32ArrayToBf16, f32ArrayToF16 } from '@hasten/core-tensor';
import type { CudaBackend } from './backend';
import type { CudaDType, CudaTensor } from './cuda-tensor';

/** `values` as stored in `dtype` and read back as numbers (f16/bf16 rounding, f32 rounding). */
export function roundTo(dtype: 'f32' | 'f16' | 'bf16', values: ArrayLike<number>): Float32Array {
  const f = Float32Array.from(values);
  if (dtype === 'f16') return f16ArrayToF32(f32ArrayToF16(f));
  if (dtype === 'bf16') return bf16ArrayToF32(f32ArrayToBf16(f));
  return f;
}

/** A device tensor of `dtype` holding `values` (rounded to the dtype). */
export function toDevice(
  backend: CudaBackend,
  dtype: CudaDType,
  shape: readonly number[],
  values: ArrayLike<number>,
): CudaTensor {
  let data: ArrayBufferView;
  if (dtype === 'f16') data = f32ArrayToF16(Float32Array.from(values));
  else if (dtype === 'bf16') data = f32ArrayToBf16(Float32Array.from(values));
  else if (dtype === 'f32') data = Float32Array.from(values);
  else if (dtype === 'f64') data = Float64Array.from(values);
  else if (dtype === 'i32') data = Int32Array.from(values);
  else if (dtype === 'i8') data = Int8Array.from(values);
  else data = Uint8Array.from(values);
  return backend.upload(dtype, shape, data);
}

/** The tensor's values as numbers (f16/bf16 widened exactly). */
export async function fromDevice(backend: CudaBackend, t: CudaTensor): Promise<Float64Array> {
  const raw = await backend.download(t);
  if (t.dtype === 'f16') return Float64Array.from(f16ArrayToF32(raw as Uint16Array));
  if (t.dtype === 'bf16') return Float64Array.from(bf16ArrayToF32(raw as Uint16Array));
  return Float64Array.from(raw as unknown as ArrayLike<number>);
}

/** max_i |got_i - want_i| / (atol + rtol |want_i|): at most 1 means within tolerance everywhere. */
export function worstError(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  atol: number,
  rtol: number,
): number {
  if (got.length !== want.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs(got[i] - want[i]) / (atol + rtol * Math.abs(want[i]));
    if (!(e <= worst)) worst = Number.isNaN(e) ? Number.POSITIVE_INFINITY : Math.max(worst, e);
  }
  return worst;
}

/** Tolerances per storage dtype: output rounding plus f32 accumulation. */
export const TOL: Record<'f32' | 'f16' | 'bf16', { atol: number; rtol: number }> = {
  f32: { atol: 1e-4, rtol: 1e-4 },
  f16: { atol: 2e-3, rtol: 4e-3 },
  bf16: { atol: 1.6e-2, rtol: 1.6e-2 },
};
