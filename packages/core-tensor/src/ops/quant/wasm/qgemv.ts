// @ts-nocheck -- AssemblyScript, not TypeScript: `v128`, `f32x4`, `usize`, `i32` are AssemblyScript
// builtins. Compiled by `npm run build:wasm` (scripts/build-wasm.mjs) into qgemv-wasm.generated.ts.
/**
 * @file Weight-only quantized matrix-vector / few-row products in WebAssembly SIMD:
 * y[r, n] = sum_k x[r, k] * W[n, k] for r < m (m <= 8), W dequantised inside the kernel.
 *
 * Structure (one pass over the packed weight per call, whatever m is):
 * - for each output column n in [n0, n1) (a thread may take a range), the row of W is walked once.
 *   One input row (m = 1, decode): the weights are decoded in registers and multiplied at once
 *   (rowDotInt, rowDotHalf), no scratch. 2-8 rows: spans of at most 256 weights are decoded once
 *   into a scratch in L1, and every one of the m rows takes its dot product with that scratch, so
 *   the rows share each weight load and each decode; per-row partial sums stay in a small
 *   accumulator block until the column ends.
 * - Integer formats (int8, int8/int4 groups, Q8_0, Q4_0): the span is decoded to 16-bit integer
 *   codes q - z, one run of 32 weights at a time with the run's weight scale beside it; x comes
 *   rounded to 16-bit integers with one f32 scale per run of 32 (qgemv-runtime.ts, like the 8-bit
 *   activation blocks of ggml's Q8 dot products but with 16 bits), so each run is an exact integer
 *   dot product (i32x4.dot_i16x8_s: 8 weights per instruction, no conversion per weight), then one
 *   convert and one multiply-add by (weight scale x x scale). |q - z| <= 255 and |x| <= 32767, so a
 *   run's sum stays below 2^27: no overflow.
 * - f16 / bf16: converted to f32 (the span for 2-8 rows, in registers for one row).
 * Layouts are those of quantized-weight.ts after `uploadWeight` (qgemv-runtime.ts): rows padded to
 * `kp` weights (a multiple of 32); x rows `kp` elements apart with zeros past K.
 *
 * f16 -> f32 without a conversion instruction: the 15 magnitude bits shifted left by 13 are an f32
 * whose value is the f16 value times 2^-112, exact for normal and subnormal halves (WebAssembly keeps
 * subnormals); a multiply by 2^112 restores it. Infinity and NaN halves are not handled (weights are
 * finite). bf16 -> f32 is a 16-bit shift.
 *
 * With the relaxed-simd feature the multiply-add is one fused `f32x4.relaxed_madd`; without it,
 * f32x4.mul + f32x4.add. The build emits both variants.
 *
 * Every pointer is a byte offset into the imported linear memory.
 */

/** Format codes, shared with qgemv-runtime.ts (FORMAT_CODE). */
const F16: i32 = 0;
const BF16: i32 = 1;
const INT8_CHANNEL: i32 = 2;
const INT8_GROUP: i32 = 3;
const INT4_GROUP: i32 = 4;
const Q8_0: i32 = 5;
const Q4_0: i32 = 6;

const SPAN: i32 = 256;
const TWO_112: f32 = 5.192296858534828e33;

function madd(acc: v128, a: v128, b: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(acc, f32x4.mul(a, b));
}

/** One f16 bit pattern (low 16 bits of h) as f32. */
function halfToF32(h: u32): f32 {
  // The sign is or-ed in, not chosen by a branch: Q4_0's scales take either sign at random, and a
  // mispredicted branch per block of 32 weights cost more than half of that format's speed.
  const v = reinterpret<u32>(reinterpret<f32>((h & 0x7fff) << 13) * TWO_112);
  return reinterpret<f32>(v | ((h & 0x8000) << 16));
}

/**
 * Four f16 bit patterns, sign-extended to i32 lanes (i32x4.extend_*_i16x8_s), as f32x4: shifting
 * left by 13 puts the 15 magnitude bits where an f32's go and copies of the sign into bits 28-31;
 * clearing bits 28-30 leaves sign | magnitude, times 2^112 as explained in the file comment.
 */
function halvesToF32(h: v128): v128 {
  return f32x4.mul(v128.and(i32x4.shl(h, 13), i32x4.splat(0x8fffffff)), f32x4.splat(TWO_112));
}

/** 32 signed bytes (a, b) as i16 codes at dst. */
function storeSigned(dst: usize, a: v128, b: v128): void {
  v128.store(dst, i16x8.extend_low_i8x16_s(a));
  v128.store(dst, i16x8.extend_high_i8x16_s(a), 16);
  v128.store(dst, i16x8.extend_low_i8x16_s(b), 32);
  v128.store(dst, i16x8.extend_high_i8x16_s(b), 48);
}

/** 32 unsigned bytes (a, b) minus the zero point z as i16 codes at dst. */
function storeUnsigned(dst: usize, a: v128, b: v128, z: i32): void {
  const zz = i16x8.splat(<i16>z);
  v128.store(dst, i16x8.sub(i16x8.extend_low_i8x16_u(a), zz));
  v128.store(dst, i16x8.sub(i16x8.extend_high_i8x16_u(a), zz), 16);
  v128.store(dst, i16x8.sub(i16x8.extend_low_i8x16_u(b), zz), 32);
  v128.store(dst, i16x8.sub(i16x8.extend_high_i8x16_u(b), zz), 48);
}

/** 16 bytes of nibbles (byte j: weight j low, weight j + 16 high) minus z as 32 i16 codes at dst. */
function storeNibbles(dst: usize, v: v128, z: i32): void {
  storeUnsigned(dst, v128.and(v, i8x16.splat(0x0f)), i8x16.shr_u(v, 4), z);
}

/**
 * Decode `runs` runs of 32 weights of one row, from weight c0, to i16 codes q - z at dst (64 bytes a
 * run) and each run's weight scale at scales (f32). One loop per format, so the loops have no
 * branches; `gShift` is log2 of the group size.
 */
function decodeIntSpan(
  fmt: i32,
  row: usize,
  sRow: usize,
  zRow: usize,
  gShift: i32,
  c0: i32,
  runs: i32,
  dst: usize,
  scales: usize,
): void {
  if (fmt === INT8_CHANNEL) {
    const s = load<f32>(sRow);
    for (let t = 0; t < runs; t++) {
      const src = row + <usize>(c0 + (t << 5));
      storeSigned(dst + ((<usize>t) << 6), v128.load(src), v128.load(src, 16));
      store<f32>(scales + ((<usize>t) << 2), s);
    }
  } else if (fmt === Q8_0) {
    for (let t = 0; t < runs; t++) {
      const blk = row + <usize>((c0 >> 5) + t) * 34;
      storeSigned(dst + ((<usize>t) << 6), v128.load(blk, 2), v128.load(blk, 18));
      store<f32>(scales + ((<usize>t) << 2), halfToF32(<u32>load<u16>(blk)));
    }
  } else if (fmt === Q4_0) {
    for (let t = 0; t < runs; t++) {
      const blk = row + <usize>((c0 >> 5) + t) * 18;
      storeNibbles(dst + ((<usize>t) << 6), v128.load(blk, 2), 8);
      store<f32>(scales + ((<usize>t) << 2), halfToF32(<u32>load<u16>(blk)));
    }
  } else if (fmt === INT8_GROUP) {
    for (let t = 0; t < runs; t++) {
      const i = c0 + (t << 5);
      const gi = <usize>(i >> gShift);
      const src = row + <usize>i;
      if (zRow)
        storeUnsigned(dst + ((<usize>t) << 6), v128.load(src), v128.load(src, 16), <i32>load<u8>(zRow + gi));
      else storeSigned(dst + ((<usize>t) << 6), v128.load(src), v128.load(src, 16));
      store<f32>(scales + ((<usize>t) << 2), halfToF32(<u32>load<u16>(sRow + (gi << 1))));
    }
  } else {
    for (let t = 0; t < runs; t++) {
      const i = c0 + (t << 5); // INT4_GROUP
      const gi = <usize>(i >> gShift);
      const z = zRow ? <i32>load<u8>(zRow + gi) : 8;
      storeNibbles(dst + ((<usize>t) << 6), v128.load(row + (<usize>i >> 1)), z);
      store<f32>(scales + ((<usize>t) << 2), halfToF32(<u32>load<u16>(sRow + (gi << 1))));
    }
  }
}

/** Exact integer dot product of 32 i16 codes at w with 32 i16 inputs at xq, as 4 i32 lanes. */
function dotRun(w: usize, xq: usize): v128 {
  const a = i32x4.add(
    i32x4.dot_i16x8_s(v128.load(w), v128.load(xq)),
    i32x4.dot_i16x8_s(v128.load(w, 16), v128.load(xq, 16)),
  );
  const b = i32x4.add(
    i32x4.dot_i16x8_s(v128.load(w, 32), v128.load(xq, 32)),
    i32x4.dot_i16x8_s(v128.load(w, 48), v128.load(xq, 48)),
  );
  return i32x4.add(a, b);
}

/** f16 / bf16 weights [c0, c0 + len) of a row as f32 into scr. */
function decodeHalfSpan(fmt: i32, row: usize, c0: i32, len: i32, scr: usize): void {
  for (let i = 0; i < len; i += 8) {
    const v = v128.load(row + ((<usize>(c0 + i)) << 1));
    const d = scr + ((<usize>i) << 2);
    if (fmt === F16) {
      v128.store(d, halvesToF32(i32x4.extend_low_i16x8_s(v)));
      v128.store(d, halvesToF32(i32x4.extend_high_i16x8_s(v)), 16);
    } else {
      v128.store(d, i32x4.shl(i32x4.extend_low_i16x8_u(v), 16));
      v128.store(d, i32x4.shl(i32x4.extend_high_i16x8_u(v), 16), 16);
    }
  }
}

/** sum over len floats (a multiple of 16) of a[i] * b[i], as 4 partial lanes. */
function dot(a: usize, b: usize, len: i32): v128 {
  let s0 = f32x4.splat(0);
  let s1 = s0;
  let s2 = s0;
  let s3 = s0;
  for (let i = 0; i < len; i += 16) {
    s0 = madd(s0, v128.load(a), v128.load(b));
    s1 = madd(s1, v128.load(a, 16), v128.load(b, 16));
    s2 = madd(s2, v128.load(a, 32), v128.load(b, 32));
    s3 = madd(s3, v128.load(a, 48), v128.load(b, 48));
    a += 64;
    b += 64;
  }
  return f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3));
}

/** One row (m = 1) of f16 / bf16 weights: converted in registers and multiplied by x, no scratch. */
function rowDotHalf(fmt: i32, row: usize, x: usize, kp: i32): v128 {
  let acc0 = f32x4.splat(0);
  let acc1 = acc0;
  for (let i = 0; i < kp; i += 8) {
    const v = v128.load(row + ((<usize>i) << 1));
    const xp = x + ((<usize>i) << 2);
    if (fmt === F16) {
      acc0 = madd(acc0, halvesToF32(i32x4.extend_low_i16x8_s(v)), v128.load(xp));
      acc1 = madd(acc1, halvesToF32(i32x4.extend_high_i16x8_s(v)), v128.load(xp, 16));
    } else {
      acc0 = madd(acc0, i32x4.shl(i32x4.extend_low_i16x8_u(v), 16), v128.load(xp));
      acc1 = madd(acc1, i32x4.shl(i32x4.extend_high_i16x8_u(v), 16), v128.load(xp, 16));
    }
  }
  return f32x4.add(acc0, acc1);
}

/** Exact dot product of 32 bytes (a, b: signed, or unsigned minus z when z >= 0) with 32 i16 at xq. */
function dotBytes(a: v128, b: v128, z: i32, xq: usize): v128 {
  let q0: v128;
  let q1: v128;
  let q2: v128;
  let q3: v128;
  if (z < 0) {
    q0 = i16x8.extend_low_i8x16_s(a);
    q1 = i16x8.extend_high_i8x16_s(a);
    q2 = i16x8.extend_low_i8x16_s(b);
    q3 = i16x8.extend_high_i8x16_s(b);
  } else {
    const zz = i16x8.splat(<i16>z);
    q0 = i16x8.sub(i16x8.extend_low_i8x16_u(a), zz);
    q1 = i16x8.sub(i16x8.extend_high_i8x16_u(a), zz);
    q2 = i16x8.sub(i16x8.extend_low_i8x16_u(b), zz);
    q3 = i16x8.sub(i16x8.extend_high_i8x16_u(b), zz);
  }
  return i32x4.add(
    i32x4.add(i32x4.dot_i16x8_s(q0, v128.load(xq)), i32x4.dot_i16x8_s(q1, v128.load(xq, 16))),
    i32x4.add(i32x4.dot_i16x8_s(q2, v128.load(xq, 32)), i32x4.dot_i16x8_s(q3, v128.load(xq, 48))),
  );
}

/**
 * One row (m = 1) of an integer format, decoded in registers (no scratch): per run of 32, an exact
 * integer dot product, then one multiply-add by (weight scale x x scale).
 */
function rowDotInt(
  fmt: i32,
  row: usize,
  sRow: usize,
  zRow: usize,
  gShift: i32,
  xq: usize,
  xs: usize,
  kp: i32,
): v128 {
  let p = f32x4.splat(0);
  const runs = kp >> 5;
  for (let t = 0; t < runs; t++) {
    const i = t << 5;
    const x = xq + ((<usize>t) << 6);
    let d: v128;
    let s: f32;
    if (fmt === INT8_CHANNEL) {
      const src = row + <usize>i;
      d = dotBytes(v128.load(src), v128.load(src, 16), -1, x);
      s = load<f32>(sRow);
    } else if (fmt === Q8_0) {
      const blk = row + <usize>t * 34;
      d = dotBytes(v128.load(blk, 2), v128.load(blk, 18), -1, x);
      s = halfToF32(<u32>load<u16>(blk));
    } else if (fmt === Q4_0) {
      const blk = row + <usize>t * 18;
      const v = v128.load(blk, 2);
      d = dotBytes(v128.and(v, i8x16.splat(0x0f)), i8x16.shr_u(v, 4), 8, x);
      s = halfToF32(<u32>load<u16>(blk));
    } else {
      const gi = <usize>(i >> gShift);
      s = halfToF32(<u32>load<u16>(sRow + (gi << 1)));
      if (fmt === INT8_GROUP) {
        const src = row + <usize>i;
        d = dotBytes(v128.load(src), v128.load(src, 16), zRow ? <i32>load<u8>(zRow + gi) : -1, x);
      } else {
        const v = v128.load(row + (<usize>i >> 1));
        d = dotBytes(
          v128.and(v, i8x16.splat(0x0f)),
          i8x16.shr_u(v, 4),
          zRow ? <i32>load<u8>(zRow + gi) : 8,
          x,
        );
      }
    }
    p = madd(p, f32x4.convert_i32x4_s(d), f32x4.splat(s * load<f32>(xs + ((<usize>t) << 2))));
  }
  return p;
}

/**
 * y[r * ldy + n] = sum_k x[r, k] * W[n, k] for r < m, n0 <= n < n1.
 * fmt: a format code above; w: the packed rows, `rowBytes` apart; s: scales (f32 per row for
 * INT8_CHANNEL, f16 per group for the group formats, unused otherwise); z: u8 zero points per group
 * (0: symmetric); g: group size; x: the rows of x, kp elements apart (f32 for F16 / BF16, i16
 * otherwise); xs: integer formats, the f32 scale of each run of 32 of x, kp / 32 per row;
 * kp: padded row length (a multiple of 32); scr: 1 KiB scratch; acc: m * 16 bytes of accumulators.
 */
export function qgemv(
  fmt: i32,
  w: usize,
  rowBytes: usize,
  s: usize,
  z: usize,
  g: i32,
  x: usize,
  xs: usize,
  kp: i32,
  m: i32,
  y: usize,
  ldy: i32,
  n0: i32,
  n1: i32,
  scr: usize,
  acc: usize,
): void {
  const half = fmt === F16 || fmt === BF16;
  const groups = <usize>(kp / g);
  const gShift = ctz<i32>(g); // g is 32, 64 or 128
  const runsPerRow = <usize>(kp >> 5);
  const runScale = scr + 512; // integer formats: the weight scale of each run of the span
  for (let n = n0; n < n1; n++) {
    const row = w + <usize>n * rowBytes;
    let sRow = s;
    let zRow = z;
    if (fmt === INT8_CHANNEL) sRow = s + ((<usize>n) << 2);
    else if (fmt === INT8_GROUP || fmt === INT4_GROUP) {
      sRow = s + ((<usize>n * groups) << 1);
      if (z) zRow = z + <usize>n * groups;
    }
    if (m === 1) {
      v128.store(
        acc,
        half ? rowDotHalf(fmt, row, x, kp) : rowDotInt(fmt, row, sRow, zRow, gShift, x, xs, kp),
      );
    } else {
      for (let r = 0; r < m; r++) v128.store(acc + ((<usize>r) << 4), f32x4.splat(0));
      for (let c0 = 0; c0 < kp; c0 += SPAN) {
        const len = min(SPAN, kp - c0);
        if (half) {
          decodeHalfSpan(fmt, row, c0, len, scr);
          for (let r = 0; r < m; r++) {
            const a = acc + ((<usize>r) << 4);
            v128.store(a, f32x4.add(v128.load(a), dot(scr, x + ((<usize>r * kp + c0) << 2), len)));
          }
        } else {
          const runs = len >> 5;
          decodeIntSpan(fmt, row, sRow, zRow, gShift, c0, runs, scr, runScale);
          for (let r = 0; r < m; r++) {
            const xq = x + ((<usize>r * kp + c0) << 1);
            const xsr = xs + ((<usize>r * runsPerRow + (c0 >> 5)) << 2);
            // Two accumulators (even and odd runs), so consecutive runs do not wait on each other.
            let p0 = f32x4.splat(0);
            let p1 = p0;
            let t = 0;
            for (; t + 1 < runs; t += 2) {
              const o = <usize>t;
              const d0 = f32x4.convert_i32x4_s(dotRun(scr + (o << 6), xq + (o << 6)));
              const d1 = f32x4.convert_i32x4_s(dotRun(scr + (o << 6) + 64, xq + (o << 6) + 64));
              p0 = madd(p0, d0, f32x4.splat(load<f32>(runScale + (o << 2)) * load<f32>(xsr + (o << 2))));
              p1 = madd(
                p1,
                d1,
                f32x4.splat(load<f32>(runScale + (o << 2), 4) * load<f32>(xsr + (o << 2), 4)),
              );
            }
            if (t < runs) {
              const o = <usize>t;
              const d0 = f32x4.convert_i32x4_s(dotRun(scr + (o << 6), xq + (o << 6)));
              p0 = madd(p0, d0, f32x4.splat(load<f32>(runScale + (o << 2)) * load<f32>(xsr + (o << 2))));
            }
            const a = acc + ((<usize>r) << 4);
            v128.store(a, f32x4.add(v128.load(a), f32x4.add(p0, p1)));
          }
        }
      }
    }
    for (let r = 0; r < m; r++) {
      const v = v128.load(acc + ((<usize>r) << 4));
      const t =
        f32x4.extract_lane(v, 0) +
        f32x4.extract_lane(v, 1) +
        (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
      store<f32>(y + ((<usize>r * ldy + n) << 2), t);
    }
  }
}
