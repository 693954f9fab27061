// @ts-nocheck -- AssemblyScript, not TypeScript: `v128`, `f32x4`, `i32`, `f32` are its builtins.
/**
 * @file The arithmetic bound of 128-bit WebAssembly SIMD on this core, measured rather than assumed
 * (the CPU-decoding issue: a table of flops per cycle per microarchitecture was wrong here). Twelve
 * independent chains, all in registers (12 accumulators + a + b = 14 of the 16 xmm registers V8
 * allocates, so no spill), each depending only on its own last value, so the FP pipes, not latency,
 * bound them: with relaxed SIMD twelve fused multiply-add chains c = c * a + b (8 flops a vector op);
 * plain, six multiply chains c = c * a and six add chains d = d + b (4 flops a vector op: a chained
 * multiply-then-add would wait on two latencies). No memory traffic. Compiled at bench time with
 * AssemblyScript (bench/run.ts); `flopsPerIteration()` says how many flops one iteration does.
 */

/** Chain i: fused multiply-add (relaxed), else a multiply (even i) or an add (odd i). */
function step(c: v128, a: v128, b: v128, even: bool): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(c, a, b);
  return even ? f32x4.mul(c, a) : f32x4.add(c, b);
}

/** Flops of one iteration of `peak`: 12 vector ops x 4 lanes x (2 fused, 1 plain). */
export function flopsPerIteration(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 96 : 48;
}

/** Runs `iters` iterations of the 12 chains; returns a lane of their sum so nothing is dead code. */
export function peak(iters: i32, seed: f32): f32 {
  const a = f32x4.splat(0.9999999);
  const b = f32x4.splat(seed);
  let c0 = f32x4.splat(0.1);
  let c1 = f32x4.splat(0.2);
  let c2 = f32x4.splat(0.3);
  let c3 = f32x4.splat(0.4);
  let c4 = f32x4.splat(0.5);
  let c5 = f32x4.splat(0.6);
  let c6 = f32x4.splat(0.7);
  let c7 = f32x4.splat(0.8);
  let c8 = f32x4.splat(0.9);
  let c9 = f32x4.splat(1.0);
  let c10 = f32x4.splat(1.1);
  let c11 = f32x4.splat(1.2);
  for (let i = 0; i < iters; i++) {
    c0 = step(c0, a, b, true);
    c1 = step(c1, a, b, false);
    c2 = step(c2, a, b, true);
    c3 = step(c3, a, b, false);
    c4 = step(c4, a, b, true);
    c5 = step(c5, a, b, false);
    c6 = step(c6, a, b, true);
    c7 = step(c7, a, b, false);
    c8 = step(c8, a, b, true);
    c9 = step(c9, a, b, false);
    c10 = step(c10, a, b, true);
    c11 = step(c11, a, b, false);
  }
  const s = f32x4.add(
    f32x4.add(
      f32x4.add(f32x4.add(c0, c1), f32x4.add(c2, c3)),
      f32x4.add(f32x4.add(c4, c5), f32x4.add(c6, c7)),
    ),
    f32x4.add(f32x4.add(c8, c9), f32x4.add(c10, c11)),
  );
  return f32x4.extract_lane(s, 0);
}
