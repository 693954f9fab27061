/**
 * @file Exact conversions between float32 and the two 16-bit float formats, bit for bit.
 * - IEEE 754 binary16 (f16): round to nearest, ties to even; overflow to ±Inf; subnormals kept;
 *   NaN payloads keep their top 10 bits, and a payload that would vanish becomes the quiet bit
 *   pattern 0x7c01 (as NumPy's npy_floatbits_to_halfbits does).
 * - bfloat16 (bf16): the top half of a float32, rounded to nearest even; a NaN keeps its top
 *   payload bits and is made quiet if they would all be zero.
 * Conversions from 16 bits to float32 are exact (every f16/bf16 value is a float32). A JS number
 * (float64) is rounded once, directly to the 16-bit format (f32ToF16Bits, f32ToBf16Bits), never
 * through a float32 rounding first.
 *
 * The array functions work on bit patterns (Uint32Array views) and never pass a value through a JS
 * number: V8 may set the quiet bit of a signalling NaN when a float32 becomes a number, so only the
 * bit-level path round-trips every one of the 65,536 patterns exactly.
 */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * The float32 bit pattern of a JS number rounded to odd: an exact value is kept, an inexact one
 * becomes the neighbour whose last bit is 1. Rounding that to nearest even in a format at least two
 * bits narrower equals rounding the number itself once (Boldo & Melquiond, "Emulation of FMA and
 * correctly rounded sums: proved algorithms using rounding to odd", IEEE Trans. Computers 2008).
 * Rounding to nearest float32 first would not: a float64 just above an f16 midpoint lands on the
 * midpoint and then ties to even, the wrong way.
 */
function f32BitsRoundedToOdd(x: number): number {
  f32[0] = x;
  const r = f32[0];
  let b = u32[0];
  // Inexact (NaN excluded): step one ulp toward x when the nearest pattern is even.
  if (r !== x && !Number.isNaN(x) && (b & 1) === 0) b += Math.abs(r) > Math.abs(x) ? -1 : 1;
  return b;
}

/** Any JS number to the nearest f16 (ties to even), rounded once from its exact float64 value. */
export function f32ToF16Bits(x: number): number {
  return f32BitsToF16Bits(f32BitsRoundedToOdd(x));
}

/** float32 bit pattern -> f16 bit pattern. */
export function f32BitsToF16Bits(b: number): number {
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) {
    if (mant === 0) return sign | 0x7c00;
    const payload = mant >>> 13;
    return sign | 0x7c00 | (payload === 0 ? 1 : payload);
  }
  const e = exp - 112; // rebias 127 -> 15
  if (e <= 0) {
    // f16 subnormal (or zero): value = m * 2^-24, m = mant24 >> (14 - e), rounded to nearest even.
    if (e < -10) return sign;
    const m24 = mant | 0x800000;
    const shift = 14 - e;
    let h = m24 >>> shift;
    const rem = m24 & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  if (e >= 31) return sign | 0x7c00;
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // a carry may roll into Inf, which is correct
  return sign | h;
}

export function f16BitsToF32(h: number): number {
  u32[0] = f16BitsToF32Bits(h);
  return f32[0];
}

/** f16 bit pattern -> float32 bit pattern (as an unsigned 32-bit number). */
export function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0) {
    if (mant === 0) return sign >>> 0;
    let e = 1;
    while ((mant & 0x400) === 0) {
      mant <<= 1;
      e--;
    }
    return (sign | ((e + 112) << 23) | ((mant & 0x3ff) << 13)) >>> 0;
  }
  if (exp === 31) return (sign | 0x7f800000 | (mant << 13)) >>> 0;
  return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
}

/** Any JS number to the nearest bf16 (ties to even), rounded once from its exact float64 value. */
export function f32ToBf16Bits(x: number): number {
  return f32BitsToBf16Bits(f32BitsRoundedToOdd(x));
}

/** float32 bit pattern -> bf16 bit pattern. */
export function f32BitsToBf16Bits(b: number): number {
  b >>>= 0;
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0) {
    const r = b >>> 16;
    return (r & 0x7f) === 0 ? r | 0x40 : r;
  }
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

export function bf16BitsToF32(h: number): number {
  u32[0] = (h & 0xffff) << 16;
  return f32[0];
}

/** Float32Array inputs are converted bit by bit (exact for NaN payloads); other inputs by value, rounded once. */
export function f32ArrayToF16(
  src: ArrayLike<number>,
  out: Uint16Array<ArrayBufferLike> = new Uint16Array(src.length),
): Uint16Array<ArrayBufferLike> {
  if (src instanceof Float32Array) {
    const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
    for (let i = 0; i < bits.length; i++) out[i] = f32BitsToF16Bits(bits[i]);
  } else {
    for (let i = 0; i < src.length; i++) out[i] = f32ToF16Bits(src[i]);
  }
  return out;
}

export function f16ArrayToF32(
  src: ArrayLike<number>,
  out: Float32Array<ArrayBufferLike> = new Float32Array(src.length),
): Float32Array<ArrayBufferLike> {
  const o = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < src.length; i++) o[i] = f16BitsToF32Bits(src[i]);
  return out;
}

export function f32ArrayToBf16(
  src: ArrayLike<number>,
  out: Uint16Array<ArrayBufferLike> = new Uint16Array(src.length),
): Uint16Array<ArrayBufferLike> {
  if (src instanceof Float32Array) {
    const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
    for (let i = 0; i < bits.length; i++) out[i] = f32BitsToBf16Bits(bits[i]);
  } else {
    for (let i = 0; i < src.length; i++) out[i] = f32ToBf16Bits(src[i]);
  }
  return out;
}

export function bf16ArrayToF32(
  src: ArrayLike<number>,
  out: Float32Array<ArrayBufferLike> = new Float32Array(src.length),
): Float32Array<ArrayBufferLike> {
  const o = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < src.length; i++) o[i] = (src[i] & 0xffff) << 16;
  return out;
}
