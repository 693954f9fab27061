import { describe, expect, it } from 'vitest';
import {
  bf16ArrayToF32,
  bf16BitsToF32,
  f16ArrayToF32,
  f16BitsToF32,
  f32ArrayToBf16,
  f32ArrayToF16,
  f32ToBf16Bits,
  f32ToF16Bits,
} from './f16';
import { cast, fromStorageArray } from './index';
import { mulberry32 } from './test-utils';

/** binary16 decoded from its fields in float64, independently of f16.ts. */
function f16Value(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? Number.NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** bfloat16 decoded from its fields in float64. */
function bf16Value(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 7) & 0xff;
  const m = h & 0x7f;
  if (e === 0) return s * m * 2 ** -133;
  if (e === 255) return m ? Number.NaN : s * Infinity;
  return s * (1 + m / 128) * 2 ** (e - 127);
}

const isNaN16 = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
const isNaNbf = (h: number) => (h & 0x7f80) === 0x7f80 && (h & 0x7f) !== 0;

/**
 * A NaN comes back bit for bit, except that a JS engine may quieten a signalling NaN when it turns a
 * float32 into a JS number (V8 does, in some tiers): then only the quiet bit may be added.
 */
function sameOrQuieted(got: number, h: number, quietBit: number): boolean {
  return got === h || got === (h | quietBit);
}

/** Nearest representable value by search in a sorted table, ties to the even pattern (the IEEE rule). */
function nearestBits(x: number, table: Float64Array): number {
  let lo = 0;
  let hi = table.length - 1;
  if (x >= table[hi]) return hi;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (table[mid] <= x) lo = mid;
    else hi = mid;
  }
  const dl = x - table[lo];
  const dh = table[hi] - x;
  return dl < dh ? lo : dh < dl ? hi : lo % 2 === 0 ? lo : hi;
}

// Non-negative finite f16 values in bit order (monotonic), with 0x7c00 standing in as 2^16: IEEE
// rounds to Inf exactly when the value would round to 2^16 with an unbounded exponent.
const F16_TABLE = Float64Array.from({ length: 0x7c01 }, (_, h) => (h === 0x7c00 ? 65536 : f16Value(h)));

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const fromBits = (b: number) => {
  u32[0] = b;
  return f32[0];
};

describe('f16 and bf16 conversions', () => {
  it('decode all 65,536 f16 patterns exactly and round-trip them through f32', () => {
    let quieted = 0;
    for (let h = 0; h < 65536; h++) {
      const v = f16BitsToF32(h);
      const want = f16Value(h);
      if (Number.isNaN(want)) expect(v).toBeNaN();
      else if (!Object.is(v, want)) expect.fail(`f16 0x${h.toString(16)} decodes to ${v}, expected ${want}`);
      const back = f32ToF16Bits(v);
      if (back === h) continue;
      if (isNaN16(h) && sameOrQuieted(back, h, 0x200)) quieted++;
      else expect.fail(`f16 0x${h.toString(16)} came back as 0x${back.toString(16)}`);
    }
    expect(quieted).toBeLessThanOrEqual(2 * 511); // signalling NaNs only
  });

  it('decode all 65,536 bf16 patterns exactly and round-trip them through f32', () => {
    for (let h = 0; h < 65536; h++) {
      const v = bf16BitsToF32(h);
      const want = bf16Value(h);
      if (Number.isNaN(want)) expect(v).toBeNaN();
      else if (!Object.is(v, want)) expect.fail(`bf16 0x${h.toString(16)} decodes to ${v}, expected ${want}`);
      const back = f32ToBf16Bits(v);
      if (back !== h && !(isNaNbf(h) && sameOrQuieted(back, h, 0x40))) {
        expect.fail(`bf16 0x${h.toString(16)} came back as 0x${back.toString(16)}`);
      }
    }
  });

  it('array conversions round-trip all 65,536 patterns bit for bit, signalling NaNs included', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    expect(f32ArrayToF16(f16ArrayToF32(all))).toEqual(all);
    expect(f32ArrayToBf16(bf16ArrayToF32(all))).toEqual(all);
  });

  it('round-trips every pattern through tensors: f16/bf16 -> cast f32 -> cast back', async () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    for (const dtype of ['f16', 'bf16'] as const) {
      const t = fromStorageArray(all, [256, 256], dtype);
      const back = (await cast(cast(t.transpose(), 'f32'), dtype).raw()) as Uint16Array;
      for (let i = 0; i < 65536; i++) {
        const h = ((i % 256) << 8) | (i >> 8); // transposed order
        // Casts between float formats convert bit patterns, so even signalling NaNs are exact.
        if (back[i] !== h) expect.fail(`${dtype} 0x${h.toString(16)} came back as 0x${back[i].toString(16)}`);
      }
    }
  });

  it('f32 -> f16 rounds ties to even, keeps subnormals and overflows to Inf', () => {
    expect(f32ToF16Bits(1 + 2 ** -11)).toBe(0x3c00); // halfway between 1 and 1 + 2^-10: even is 1
    expect(f32ToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // halfway, rounds up to the even mantissa 2
    expect(f32ToF16Bits(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01); // just above halfway
    expect(f32ToF16Bits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(f32ToF16Bits(2 ** -25)).toBe(0x0000); // tie between 0 and 2^-24: even is 0
    expect(f32ToF16Bits(2 ** -25 + 2 ** -40)).toBe(0x0001);
    expect(f32ToF16Bits(3 * 2 ** -25)).toBe(0x0002); // tie between 1 and 2 ulps
    expect(f32ToF16Bits(2 ** -14 - 2 ** -25)).toBe(0x0400); // tie at the subnormal/normal border
    expect(f32ToF16Bits(-(2 ** -30))).toBe(0x8000); // underflows to -0
    expect(f32ToF16Bits(65504)).toBe(0x7bff);
    expect(f32ToF16Bits(65519.99)).toBe(0x7bff);
    expect(f32ToF16Bits(65520)).toBe(0x7c00); // the tie above the largest finite value goes to Inf
    expect(f32ToF16Bits(-1e10)).toBe(0xfc00);
    expect(f32ToF16Bits(-Infinity)).toBe(0xfc00);
    expect(isNaN16(f32ToF16Bits(Number.NaN))).toBe(true);
    expect(isNaN16(f32ToF16Bits(fromBits(0x7f800001)))).toBe(true); // payload below f16's bits stays NaN
  });

  it('f32 -> f16 equals the float64 nearest-even value at every midpoint and for random floats', () => {
    // Every midpoint between consecutive f16 values (both signs): the exhaustive tie test.
    for (let h = 0; h < 0x7c00; h++) {
      const mid = (F16_TABLE[h] + F16_TABLE[h + 1]) / 2;
      const want = h % 2 === 0 ? h : h + 1;
      const got = f32ToF16Bits(mid);
      if (got !== want || f32ToF16Bits(-mid) !== (want | 0x8000)) {
        expect.fail(`midpoint ${mid}: got 0x${got.toString(16)}, expected 0x${want.toString(16)}`);
      }
    }
    // Random float32 values with exponents from deep subnormal to past overflow.
    const rng = mulberry32(2024);
    for (let i = 0; i < 200_000; i++) {
      const exp = 100 + Math.floor(rng() * 46); // 2^-27 .. 2^18
      const bits = ((rng() < 0.5 ? 1 : 0) << 31) | (exp << 23) | Math.floor(rng() * 2 ** 23);
      const x = fromBits(bits >>> 0);
      const want = nearestBits(Math.abs(x), F16_TABLE) | (x < 0 ? 0x8000 : 0);
      const got = f32ToF16Bits(x);
      if (got !== want) expect.fail(`f32 ${x}: got 0x${got.toString(16)}, expected 0x${want.toString(16)}`);
    }
  });

  it('a float64 number is rounded once: values a hair off every f16 and bf16 midpoint go to the nearer side', () => {
    // mid ± a relative 2^-30 is exact in float64 but not in float32. Rounding to float32 first lands
    // on the midpoint itself, whose tie then goes to the even side: one value of each pair would be
    // rounded the wrong way by a float32 intermediate.
    const eps = 2 ** -30;
    for (let h = 0; h < 0x7c00; h++) {
      const mid = (F16_TABLE[h] + F16_TABLE[h + 1]) / 2;
      const up = f32ToF16Bits(mid * (1 + eps));
      const down = f32ToF16Bits(mid * (1 - eps));
      if (up !== h + 1 || down !== h || f32ToF16Bits(-mid * (1 + eps)) !== ((h + 1) | 0x8000)) {
        expect.fail(`f16 midpoint ${mid} +/- eps: got 0x${up.toString(16)} / 0x${down.toString(16)}`);
      }
    }
    for (let t = 0; t < 0x7f80; t++) {
      const lo = bf16Value(t);
      const mid = (lo + (t + 1 === 0x7f80 ? 2 ** 128 : bf16Value(t + 1))) / 2;
      // Below the smallest f32 subnormal, float64 holds values float32 cannot; check them too.
      const up = f32ToBf16Bits(mid * (1 + eps));
      const down = f32ToBf16Bits(mid * (1 - eps));
      if (up !== t + 1 || down !== t || f32ToBf16Bits(-mid * (1 + eps)) !== ((t + 1) | 0x8000)) {
        expect.fail(`bf16 midpoint ${mid} +/- eps: got 0x${up.toString(16)} / 0x${down.toString(16)}`);
      }
      // The exact midpoint (a float32) ties to the even pattern: every bf16 tie, exhaustively.
      const tie = f32ToBf16Bits(mid);
      if (tie !== (t % 2 === 0 ? t : t + 1)) expect.fail(`bf16 tie ${mid}: got 0x${tie.toString(16)}`);
    }
    // The array path rounds the same way as the scalar one.
    const x = (1 + 2 ** -11) * (1 + eps); // just above the midpoint of 1 and 1 + 2^-10
    expect(f32ToF16Bits(x)).toBe(0x3c01);
    expect(f32ArrayToF16([x])[0]).toBe(0x3c01); // a plain array holds float64 numbers
  });

  it('f32 -> bf16 equals the float64 nearest-even value for random floats and ties', () => {
    const rng = mulberry32(7);
    for (let i = 0; i < 200_000; i++) {
      // Half of them exact ties (low 16 bits = 0x8000), including near the overflow border.
      const exp = i % 97 === 0 ? 254 : Math.floor(rng() * 255);
      const hi = ((rng() < 0.5 ? 1 : 0) << 15) | (exp << 7) | Math.floor(rng() * 128);
      const lo = i % 2 ? 0x8000 : Math.floor(rng() * 65536);
      const x = fromBits(((hi << 16) | lo) >>> 0);
      const t = hi & 0x7fff;
      const below = bf16Value(t);
      const above = t + 1 === 0x7f80 ? 2 ** 128 : bf16Value(t + 1); // IEEE: overflow rounds via 2^128
      const a = Math.abs(x);
      const pick = a - below < above - a ? t : above - a < a - below ? t + 1 : t % 2 === 0 ? t : t + 1;
      const want = pick | (hi & 0x8000);
      const got = f32ToBf16Bits(x);
      if (got !== want)
        expect.fail(
          `f32 ${x} (0x${u32[0].toString(16)}): got 0x${got.toString(16)}, expected 0x${want.toString(16)}`,
        );
    }
    expect(f32ToBf16Bits(fromBits(0x7f7fffff))).toBe(0x7f80); // FLT_MAX rounds up to Inf
  });
});
