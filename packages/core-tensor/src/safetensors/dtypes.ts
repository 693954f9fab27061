/**
 * @file safetensors dtype codes and the decoding of a tensor's bytes into our storage arrays.
 * Format: https://github.com/huggingface/safetensors (README, "Format"): little-endian, row-major.
 *
 * Read and written as is: F32, F16, BF16, I32, I8, U8, BOOL (our f32 f16 bf16 i32 i8 u8 bool).
 * Read with a conversion, because checkpoints carry them and it is cheap: F64 -> f32 (rounded to
 * nearest) and I64 -> i32 (every value range-checked; out-of-range values are an error, never
 * wrapped). Every other code (F8_*, I16, U16, U32, U64, ...) is rejected with the list above.
 */
import { BYTES_PER_ELEMENT, type DType, type FloatDType, type StorageArray, storageView } from '../dtype';
import { bf16ArrayToF32, f16ArrayToF32, f32ArrayToBf16, f32ArrayToF16 } from '../f16';
import { SafetensorsError } from './errors';

/** The file code of each of our dtypes. */
export const SAFETENSORS_DTYPE: Record<DType, string> = {
  f32: 'F32',
  f16: 'F16',
  bf16: 'BF16',
  i32: 'I32',
  i8: 'I8',
  u8: 'U8',
  bool: 'BOOL',
};

/** What each readable file code loads as, and its size in the file. */
const READABLE: Record<string, { dtype: DType; bytes: number }> = {
  ...Object.fromEntries(
    Object.entries(SAFETENSORS_DTYPE).map(([d, code]) => [
      code,
      { dtype: d as DType, bytes: BYTES_PER_ELEMENT[d as DType] },
    ]),
  ),
  F64: { dtype: 'f32', bytes: 8 },
  I64: { dtype: 'i32', bytes: 8 },
};

export const SUPPORTED_DTYPES_MESSAGE =
  'supported: F32, F16, BF16, I32, I8, U8, BOOL, F64 (loaded as f32), I64 (loaded as i32, range-checked)';

export function readableDtype(code: string): { dtype: DType; bytes: number } | undefined {
  return Object.hasOwn(READABLE, code) ? READABLE[code] : undefined;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function assertLittleEndian(file: string | undefined): void {
  if (!LITTLE_ENDIAN)
    throw new SafetensorsError(
      file,
      'this platform is big-endian; safetensors data is little-endian and byte swapping is not implemented',
    );
}

/** `bytes` as an aligned standalone-or-view Uint8Array (copied only when misaligned). */
function aligned(bytes: Uint8Array, alignment: number): Uint8Array {
  return bytes.byteOffset % alignment === 0 ? bytes : bytes.slice();
}

/**
 * Decode one tensor's bytes (exactly count * size bytes) into the storage array of the dtype it
 * loads as. May return a view of `bytes` when no conversion is needed.
 */
export function decodeTensorBytes(
  bytes: Uint8Array,
  code: string,
  count: number,
  file: string | undefined,
  name: string,
): StorageArray {
  assertLittleEndian(file);
  const info = readableDtype(code);
  if (!info)
    throw new SafetensorsError(file, `dtype ${code} is not supported; ${SUPPORTED_DTYPES_MESSAGE}`, name);
  const a = aligned(bytes, info.bytes);
  if (code === 'F64') return Float32Array.from(new Float64Array(a.buffer, a.byteOffset, count));
  if (code === 'I64') {
    const v = new DataView(a.buffer, a.byteOffset, count * 8);
    const out = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const lo = v.getInt32(8 * i, true);
      const hi = v.getInt32(8 * i + 4, true);
      if (hi !== lo >> 31) {
        const value = v.getBigInt64(8 * i, true);
        throw new SafetensorsError(
          file,
          `I64 value ${value} at index ${i} does not fit in i32 (I64 tensors load as i32)`,
          name,
        );
      }
      out[i] = lo;
    }
    return out;
  }
  const out = storageView(info.dtype, a.buffer, a.byteOffset, count);
  if (info.dtype === 'bool') {
    const bad = (out as Uint8Array).findIndex((x) => x > 1);
    if (bad >= 0)
      throw new SafetensorsError(
        file,
        `BOOL byte at index ${bad} is ${out[bad]}; only 0 and 1 are valid`,
        name,
      );
  }
  return out;
}

/** Convert raw storage values to a float dtype (f32 via exact widening, then rounded to nearest even). */
export function convertToFloat(raw: StorageArray, from: DType, to: FloatDType): StorageArray {
  if (from === to) return raw;
  const f32 =
    from === 'f32'
      ? (raw as Float32Array)
      : from === 'f16'
        ? f16ArrayToF32(raw)
        : from === 'bf16'
          ? bf16ArrayToF32(raw)
          : Float32Array.from(raw);
  if (to === 'f32') return f32;
  return to === 'f16' ? f32ArrayToF16(f32) : f32ArrayToBf16(f32);
}
