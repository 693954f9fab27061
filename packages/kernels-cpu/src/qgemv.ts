/**
 * @file qgemvNative: y[m, N] = x[m, K] W^T on the native kernels, for W an f32 [N, K] matrix or any
 * core-tensor QuantizedWeight, read in place (the bytes as stored: no repacking, no copy). The
 * addon decodes each weight row once per 8 rows of x into an L1-resident buffer (scales and zero
 * points applied) and dots it with those rows in f32 (AVX-512, AVX2+FMA or scalar), optionally on
 * two threads that split N. Accumulation is f32: each output is within about K·2^-23·Σ|x w| of the
 * float64 reference, which the tests check. With dot 'int8' (configureCpuKernels, or per call) the
 * integer formats (int8, int8 / int4 groups, Q8_0, Q4_0, Q4_K, Q6_K) run the integer-dot kernels instead: x
 * rounded to int8 per block of 32, exact integer sums per weight block (int8-dot-reference.ts).
 */
import {
  type QuantFormat,
  type QuantizedWeight,
  TensorError,
  validateQuantizedWeight,
} from '@hasten/core-tensor';
import { ISAS, loadAddon } from './addon';
import type { CpuKernelsOptions } from './options';
import { currentSettings, parseOptions, resolveIsa, resolveThreads } from './options';

/** An f32 weight [N, K] (the layout of linear()'s w), row-major. */
export interface F32Weight {
  format: 'f32';
  shape: readonly [number, number];
  data: Float32Array;
}

/** Format codes of native/kernels.h. */
export const FORMAT_CODES: Record<QuantFormat | 'f32', number> = {
  f32: 0,
  f16: 1,
  bf16: 2,
  int8: 3,
  'int8-group': 4,
  'int4-group': 5,
  q8_0: 6,
  q4_0: 7,
  q4_k: 8,
  q6_k: 9,
};

const validated = new WeakSet<QuantizedWeight>();
/** int4-group weights whose zero points were checked to be codes (0..15), which dot 'int8' relies on. */
const int4ZerosChecked = new WeakSet<QuantizedWeight>();
/** Options objects already parsed (a caller reusing one object per setting pays the check once). */
const parsedOptions = new WeakMap<object, CpuKernelsOptions>();

/** Per-call choices; unset ones come from configureCpuKernels (or HASTEN_CPU_ISA). */
export type QgemvOptions = Pick<CpuKernelsOptions, 'isa' | 'threads' | 'dot'>;

/**
 * y = x W^T for x [m, K] (contiguous f32, m >= 0) into `out` (or a new [m, N] array). Throws a
 * TensorError when the addon is not available: check isCpuAddonAvailable() first.
 */
export function qgemvNative(
  weight: QuantizedWeight | F32Weight,
  x: Float32Array,
  m: number,
  options?: QgemvOptions,
  out?: Float32Array,
): Float32Array {
  const op = 'qgemvNative';
  const load = loadAddon();
  if (!load.addon) throw new TensorError(op, load.reason);
  let o: CpuKernelsOptions = {};
  if (options) {
    o = parsedOptions.get(options) ?? parseOptions(op, options);
    parsedOptions.set(options, o);
  }
  if (o.twoThreadMinWeights !== undefined)
    throw new TensorError(op, "'twoThreadMinWeights' is a configureCpuKernels setting");
  const [n, k] = weight.shape;
  if (weight.format === 'f32') {
    if (!(weight.data instanceof Float32Array) || weight.data.length !== n * k)
      throw new TensorError(op, `f32 weight [${n}, ${k}] needs a Float32Array of ${n * k} values`);
  } else if (!validated.has(weight)) {
    validateQuantizedWeight(op, weight);
    validated.add(weight);
  }
  if (!(Number.isInteger(m) && m >= 0))
    throw new TensorError(op, `m must be a non-negative integer, got ${m}`);
  if (x.length !== m * k) throw new TensorError(op, `x has ${x.length} values, expected m * K = ${m * k}`);
  const y = out ?? new Float32Array(m * n);
  if (y.length !== m * n) throw new TensorError(op, `out has ${y.length} values, expected m * N = ${m * n}`);
  const s = currentSettings();
  const isa = resolveIsa(o.isa ?? s.isa);
  const threads = resolveThreads(o.threads ?? s.threads, n, k, s.twoThreadMinWeights);
  const q = weight.format === 'f32' ? null : weight;
  const dot = (o.dot ?? s.dot) === 'int8';
  if (dot && q?.format === 'int4-group' && q.zeros && !int4ZerosChecked.has(q)) {
    const bad = q.zeros.findIndex((z) => z > 15);
    if (bad >= 0)
      throw new TensorError(
        op,
        `int4-group zero point ${q.zeros[bad]} (group ${bad}) is not a 4-bit code (0..15), which dot 'int8' needs`,
      );
    int4ZerosChecked.add(q);
  }
  load.addon.qgemv(
    FORMAT_CODES[weight.format],
    n,
    k,
    q?.groupSize ?? 0,
    q?.scaleDtype === 'f32' ? 1 : 0,
    weight.data,
    q?.scales ?? null,
    q?.zeros ?? null,
    x,
    m,
    y,
    ISAS.indexOf(isa),
    threads,
    dot ? 1 : 0,
  );
  return y;
}
