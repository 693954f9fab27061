// @ts-nocheck -- AssemblyScript, not TypeScript: `v128`, `f32x4`, `usize`, `i32` are AssemblyScript
// builtins. Compiled by `npm run build:wasm` (scripts/build-wasm.mjs) into gemm-wasm.generated.ts.
/**
 * @file The f32 GEMM micro- and macro-kernel in WebAssembly SIMD: C = A @ B for C [m, n].
 *
 * The structure follows Goto & van de Geijn, "Anatomy of High-Performance Matrix Multiplication"
 * (ACM TOMS 34(3), 2008, https://doi.org/10.1145/1356052.1356053) and BLIS's register tile
 * (Van Zee & van de Geijn, https://doi.org/10.1145/2764454):
 * - B is packed once (weights) or per call (pack.ts) into K-blocks of `kcBlock` rows; inside a block,
 *   8-column panels of [kc][8] floats, zero-padded past n. One K-block of all panels is contiguous,
 *   so a decode step (m <= 8) streams B exactly once, front to back. A row-major B can also be read
 *   in place (`ldb`), which saves the packing pass when B changes every call.
 * - A is packed per call (pack.ts) into groups of 4 rows, interleaved [k][4], so one broadcast
 *   load (v128.load32_splat with a constant offset) feeds each row of the tile.
 * - The register tile is 4 rows x 8 columns: 8 f32x4 accumulators + 2 B vectors + 1 broadcast
 *   + 1 product temp = 12 of the 16 xmm registers V8 can use on x64 (it keeps one as scratch);
 *   5x8 or 6x8 would spill. All row groups of a panel run back to back, so the 8 KiB B chunk
 *   (256 x 8 floats) is read from memory once and from L1 for the other groups: m rows cost one
 *   pass over B, not m.
 * - C is [m, npad] row-major (npad = n rounded up to 8); the first K-block stores, the next ones
 *   accumulate, so a block's partial sums never leave the tile until it ends.
 * - Rows left over after the groups of 4 use 3x8 / 2x8 / 1x8 tiles. When m < 4 there are only those
 *   rows, and 8 columns give too few independent accumulators to hide the add latency, so wider
 *   tiles span several panels: 1x32 (8 accumulators), 2x16 (8), 3x8 (6).
 * - Tried and dropped: an 8x4 tile (all 8 decode rows in one pass over 4-column panels). V8 hoists
 *   the 8 broadcasts above the arithmetic, runs out of registers and spills an accumulator every
 *   iteration; it was slower hot and no faster with B streamed from DRAM. So was splitting K-blocks
 *   into 32-64 row steps to interleave the two row groups' passes more finely.
 *
 * With the relaxed-simd feature (Chrome 114+, Node 22+) the multiply-add is one fused
 * `f32x4.relaxed_madd`; without it, f32x4.mul + f32x4.add. The build emits both variants.
 *
 * Every pointer is a byte offset into the (imported, possibly shared) linear memory.
 */

/** acc + a * b, fused when the relaxed-simd feature is compiled in. */
function madd(acc: v128, a: v128, b: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(acc, f32x4.mul(a, b));
}

/** Store (first K-block) or accumulate a 4-float vector into C. */
function put(c: usize, v: v128, first: bool): void {
  v128.store(c, first ? v : f32x4.add(v, v128.load(c)));
}

/**
 * XOR of the words the 4x8 tile touches ahead (`pf` below), written once per tile. Nothing reads
 * it: the loads stay because a WebAssembly load may trap, so neither Binaryen (without
 * traps-never-happen) nor V8 may drop them; the global only keeps their values from looking
 * unused to a reader.
 */
// biome-ignore lint/correctness/noUnusedVariables: written on purpose, see above
let touchedAhead: i32 = 0;

/**
 * The 4x8 tile also reads one word of every 32-byte row of a panel further on (`pf`, advanced like
 * `b`; the caller points it two panels ahead): WebAssembly has no prefetch instruction, and without
 * it the first row group of a panel streamed from DRAM stalls on every line while the other groups,
 * reading it from L1, leave the memory idle. With it, later panels arrive while this one is
 * computed, so a multi-row product over weights that stream from memory costs about
 * max(compute, memory) instead of their sum: the bench case "8 rows vs 8 x 1 row, 1024x1024 weight,
 * streamed, 1 thread" of `npm run bench -w @hasten/core-tensor` went from 68.8 ms (commit be7a252)
 * to 46.1 ms per pass of 64 products (one row uses the 1x32 tile and is unchanged). The extra load
 * and xor are scalar (no vector port), one per k step.
 */
function tile4x8(a: usize, b: usize, rs: usize, c: usize, ldc: usize, kc: i32, first: bool, pf: usize): void {
  let touched: i32 = 0;
  let c00 = f32x4.splat(0);
  let c01 = c00;
  let c10 = c00;
  let c11 = c00;
  let c20 = c00;
  let c21 = c00;
  let c30 = c00;
  let c31 = c00;
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let x = v128.load32_splat(a);
    c00 = madd(c00, x, b0);
    c01 = madd(c01, x, b1);
    x = v128.load32_splat(a, 4);
    c10 = madd(c10, x, b0);
    c11 = madd(c11, x, b1);
    x = v128.load32_splat(a, 8);
    c20 = madd(c20, x, b0);
    c21 = madd(c21, x, b1);
    x = v128.load32_splat(a, 12);
    c30 = madd(c30, x, b0);
    c31 = madd(c31, x, b1);
    touched ^= load<i32>(pf);
    pf += rs;
    a += 16;
    b += rs;
  }
  put(c, c00, first);
  put(c + 16, c01, first);
  c += ldc;
  put(c, c10, first);
  put(c + 16, c11, first);
  c += ldc;
  put(c, c20, first);
  put(c + 16, c21, first);
  c += ldc;
  put(c, c30, first);
  put(c + 16, c31, first);
  touchedAhead ^= touched;
}

function tile3x8(a: usize, b: usize, rs: usize, c: usize, ldc: usize, kc: i32, first: bool): void {
  let c00 = f32x4.splat(0);
  let c01 = c00;
  let c10 = c00;
  let c11 = c00;
  let c20 = c00;
  let c21 = c00;
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let x = v128.load32_splat(a);
    c00 = madd(c00, x, b0);
    c01 = madd(c01, x, b1);
    x = v128.load32_splat(a, 4);
    c10 = madd(c10, x, b0);
    c11 = madd(c11, x, b1);
    x = v128.load32_splat(a, 8);
    c20 = madd(c20, x, b0);
    c21 = madd(c21, x, b1);
    a += 12;
    b += rs;
  }
  put(c, c00, first);
  put(c + 16, c01, first);
  c += ldc;
  put(c, c10, first);
  put(c + 16, c11, first);
  c += ldc;
  put(c, c20, first);
  put(c + 16, c21, first);
}

function tile2x8(a: usize, b: usize, rs: usize, c: usize, ldc: usize, kc: i32, first: bool): void {
  let c00 = f32x4.splat(0);
  let c01 = c00;
  let c10 = c00;
  let c11 = c00;
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let x = v128.load32_splat(a);
    c00 = madd(c00, x, b0);
    c01 = madd(c01, x, b1);
    x = v128.load32_splat(a, 4);
    c10 = madd(c10, x, b0);
    c11 = madd(c11, x, b1);
    a += 8;
    b += rs;
  }
  put(c, c00, first);
  put(c + 16, c01, first);
  c += ldc;
  put(c, c10, first);
  put(c + 16, c11, first);
}

function tile1x8(a: usize, b: usize, rs: usize, c: usize, kc: i32, first: bool): void {
  let c00 = f32x4.splat(0);
  let c01 = c00;
  for (let k = 0; k < kc; k++) {
    const x = v128.load32_splat(a);
    c00 = madd(c00, x, v128.load(b));
    c01 = madd(c01, x, v128.load(b, 16));
    a += 4;
    b += rs;
  }
  put(c, c00, first);
  put(c + 16, c01, first);
}

/** 2 rows x 2 panels: `ps` is the byte distance between consecutive panels of the K-block. */
function tile2x16(
  a: usize,
  b: usize,
  rs: usize,
  ps: usize,
  c: usize,
  ldc: usize,
  kc: i32,
  first: bool,
): void {
  let c00 = f32x4.splat(0);
  let c01 = c00;
  let c02 = c00;
  let c03 = c00;
  let c10 = c00;
  let c11 = c00;
  let c12 = c00;
  let c13 = c00;
  let q = b + ps;
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    const b2 = v128.load(q);
    const b3 = v128.load(q, 16);
    let x = v128.load32_splat(a);
    c00 = madd(c00, x, b0);
    c01 = madd(c01, x, b1);
    c02 = madd(c02, x, b2);
    c03 = madd(c03, x, b3);
    x = v128.load32_splat(a, 4);
    c10 = madd(c10, x, b0);
    c11 = madd(c11, x, b1);
    c12 = madd(c12, x, b2);
    c13 = madd(c13, x, b3);
    a += 8;
    b += rs;
    q += rs;
  }
  put(c, c00, first);
  put(c + 16, c01, first);
  put(c + 32, c02, first);
  put(c + 48, c03, first);
  c += ldc;
  put(c, c10, first);
  put(c + 16, c11, first);
  put(c + 32, c12, first);
  put(c + 48, c13, first);
}

/** 1 row x 4 panels (the decode GEMV): 8 independent accumulators hide the add latency. */
function tile1x32(a: usize, b: usize, rs: usize, ps: usize, c: usize, kc: i32, first: bool): void {
  let c0 = f32x4.splat(0);
  let c1 = c0;
  let c2 = c0;
  let c3 = c0;
  let c4 = c0;
  let c5 = c0;
  let c6 = c0;
  let c7 = c0;
  let q = b + ps;
  let r = q + ps;
  let s = r + ps;
  for (let k = 0; k < kc; k++) {
    const x = v128.load32_splat(a);
    c0 = madd(c0, x, v128.load(b));
    c1 = madd(c1, x, v128.load(b, 16));
    c2 = madd(c2, x, v128.load(q));
    c3 = madd(c3, x, v128.load(q, 16));
    c4 = madd(c4, x, v128.load(r));
    c5 = madd(c5, x, v128.load(r, 16));
    c6 = madd(c6, x, v128.load(s));
    c7 = madd(c7, x, v128.load(s, 16));
    a += 4;
    b += rs;
    q += rs;
    r += rs;
    s += rs;
  }
  put(c, c0, first);
  put(c + 16, c1, first);
  put(c + 32, c2, first);
  put(c + 48, c3, first);
  put(c + 64, c4, first);
  put(c + 80, c5, first);
  put(c + 96, c6, first);
  put(c + 112, c7, first);
}

/** The remainder rows (fewer than 4) of one panel. */
function tileRest(r: i32, a: usize, b: usize, rs: usize, c: usize, ldc: usize, kc: i32, first: bool): void {
  if (r === 3) tile3x8(a, b, rs, c, ldc, kc, first);
  else if (r === 2) tile2x8(a, b, rs, c, ldc, kc, first);
  else tile1x8(a, b, rs, c, kc, first);
}

/** Row groups per macro block: the A block (256 rows x kc floats, 256 KiB at kc = 256) stays in L2. */
const MC_GROUPS: i32 = 64;

/**
 * C[0:m, 8*p0 : 8*p1] = A[0:m, 0:k] @ B[0:k, 8*p0 : 8*p1], panels p0..p1 (one thread's share).
 * - `aP`: A packed by pack.ts (groups of 4 rows interleaved [k][4], then the rest [k][m % 4]).
 * - `bP`: B packed by pack.ts (ldb = 0): K-blocks of `kcBlock` rows, each holding every 8-column
 *   panel as [kc][8]; or (ldb > 0) plain row-major B with a row stride of `ldb` bytes, read in
 *   place (then up to 7 floats past the end of the last row are read: the caller leaves that slack,
 *   and the columns they feed are never copied out).
 * - `c`: C, row-major with `npad` floats per row (npad = n rounded up to 8).
 */
export function gemm(
  aP: usize,
  bP: usize,
  c: usize,
  m: i32,
  k: i32,
  npad: i32,
  kcBlock: i32,
  p0: i32,
  p1: i32,
  ldb: i32,
): void {
  const ldc = (<usize>npad) << 2;
  const groups = m >> 2;
  const rest = m & 3;
  const restA = aP + <usize>groups * <usize>k * 16;
  const packed = ldb === 0;
  const rs: usize = packed ? 32 : <usize>ldb; // bytes from one k row of a panel to the next
  for (let kb = 0; kb < k; kb += kcBlock) {
    const kc = min(kcBlock, k - kb);
    const first = kb === 0;
    const bBlock = packed ? bP + ((<usize>kb * <usize>npad) << 2) : bP + <usize>kb * rs;
    const ps: usize = packed ? (<usize>kc) << 5 : 32; // bytes from one panel to the next
    if (groups === 0) {
      // m < 4: only remainder rows; span several panels per tile.
      const a = restA + <usize>kb * <usize>rest * 4;
      let p = p0;
      if (rest === 1) {
        for (; p + 4 <= p1; p += 4)
          tile1x32(a, bBlock + <usize>p * ps, rs, ps, c + ((<usize>p) << 5), kc, first);
      } else if (rest === 2) {
        for (; p + 2 <= p1; p += 2)
          tile2x16(a, bBlock + <usize>p * ps, rs, ps, c + ((<usize>p) << 5), ldc, kc, first);
      }
      for (; p < p1; p++)
        tileRest(rest, a, bBlock + <usize>p * ps, rs, c + ((<usize>p) << 5), ldc, kc, first);
      continue;
    }
    for (let g0 = 0; g0 < groups; g0 += MC_GROUPS) {
      const g1 = min(groups, g0 + MC_GROUPS);
      const lastBlock = g1 === groups;
      for (let p = p0; p < p1; p++) {
        const b = bBlock + <usize>p * ps;
        const cp = c + ((<usize>p) << 5);
        // The panel to touch ahead: two on in this share (the last two touch themselves again).
        const ahead = p + 2 < p1 ? b + 2 * ps : b;
        for (let g = g0; g < g1; g++) {
          const a = aP + (<usize>g * <usize>k + <usize>kb) * 16;
          tile4x8(a, b, rs, cp + <usize>g * 4 * ldc, ldc, kc, first, ahead);
        }
        if (lastBlock && rest !== 0) {
          const a = restA + <usize>kb * <usize>rest * 4;
          tileRest(rest, a, b, rs, cp + <usize>groups * 4 * ldc, ldc, kc, first);
        }
      }
    }
  }
}
