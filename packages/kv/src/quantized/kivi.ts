/**
 * @file KIVI's quantizer (arXiv:2402.02750, "KIVI: A Tuning-Free Asymmetric 2bit Quantization for
 * KV Cache"), as readable reference loops in f64: asymmetric min/max quantization to b ∈ {8, 4, 2}
 * bits with round-to-nearest.
 *
 * - Keys are quantized per CHANNEL: for each channel, one (scale, min) pair per group of G
 *   consecutive tokens (keys have outlier channels; grouping along tokens keeps them apart).
 * - Values are quantized per TOKEN: for each token, one pair per group of G consecutive channels.
 *
 * One head's [T, D] rows are quantized at a time (row-major, token t channel c at t·D + c). A last
 * group may be short (T or D not a multiple of G). Codes are packed little-end first into bytes
 * (2 per byte at 4 bits, 4 per byte at 2 bits); scale and min are f32.
 *
 * Rounding direction of the stored f32 pair: min is rounded down and scale up, so every element lies
 * in [min, min + (2^b − 1)·scale], needs no clamping, and |x − x̂| ≤ scale/2 (plus the f32 rounding
 * of x̂ itself). A constant group has scale 0 and dequantizes exactly.
 */

export type KiviBits = 8 | 4 | 2;

/** One head's [rows, cols] block, quantized. */
export interface QuantizedBlock {
  bits: KiviBits;
  rows: number;
  cols: number;
  groupSize: number;
  /** 'channel': groups of `groupSize` rows per column (keys); 'token': groups of columns per row (values). */
  axis: 'channel' | 'token';
  /** rows·cols codes, packed `8 / bits` to a byte. */
  codes: Uint8Array;
  /** Per group: the step between codes. */
  scale: Float32Array;
  /** Per group: the value code 0 stands for (the zero-point). */
  min: Float32Array;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The largest f32 ≤ x (finite x). */
function f32Down(x: number): number {
  const r = Math.fround(x);
  if (r <= x) return r;
  return nextF32(r, -1);
}

/** The smallest f32 ≥ x (finite x ≥ 0). */
function f32Up(x: number): number {
  const r = Math.fround(x);
  if (r >= x) return r;
  return nextF32(r, 1);
}

function nextF32(r: number, dir: 1 | -1): number {
  if (r === 0) return dir * 1.401298464324817e-45;
  f32[0] = r;
  // Away from zero when the direction matches the sign, towards zero otherwise.
  u32[0] += r > 0 === dir > 0 ? 1 : -1;
  return f32[0];
}

/** Bytes holding n packed codes of `bits` bits. */
export function packedBytes(n: number, bits: KiviBits): number {
  return Math.ceil((n * bits) / 8);
}

function setCode(codes: Uint8Array, i: number, bits: KiviBits, q: number): void {
  const per = 8 / bits;
  const byte = (i / per) | 0;
  const shift = (i % per) * bits;
  codes[byte] = (codes[byte] & ~(((1 << bits) - 1) << shift)) | (q << shift);
}

/** The i-th code of a packed array. */
export function getCode(codes: Uint8Array, i: number, bits: KiviBits): number {
  const per = 8 / bits;
  return (codes[(i / per) | 0] >> ((i % per) * bits)) & ((1 << bits) - 1);
}

/** Number of groups of [rows, cols] along `axis`. */
export function groupCount(rows: number, cols: number, groupSize: number, axis: 'channel' | 'token'): number {
  return axis === 'channel' ? Math.ceil(rows / groupSize) * cols : rows * Math.ceil(cols / groupSize);
}

/** The group element (t, c) belongs to. */
function groupOf(t: number, c: number, cols: number, groupSize: number, axis: 'channel' | 'token'): number {
  return axis === 'channel'
    ? ((t / groupSize) | 0) * cols + c
    : t * Math.ceil(cols / groupSize) + ((c / groupSize) | 0);
}

function checkArgs(op: string, rows: number, cols: number, bits: number, groupSize: number): void {
  if (bits !== 8 && bits !== 4 && bits !== 2)
    throw new RangeError(`${op}: bits must be 8, 4 or 2, got ${bits}`);
  if (!Number.isInteger(groupSize) || groupSize <= 0)
    throw new RangeError(`${op}: groupSize must be a positive integer, got ${groupSize}`);
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols <= 0)
    throw new RangeError(`${op}: bad shape [${rows}, ${cols}]`);
}

/**
 * Quantize x [rows, cols] (row-major, starting at `offset`) along `axis`. Reference loops: two
 * passes, statistics then codes.
 */
export function quantize(
  x: ArrayLike<number>,
  rows: number,
  cols: number,
  bits: KiviBits,
  groupSize: number,
  axis: 'channel' | 'token',
  offset = 0,
): QuantizedBlock {
  checkArgs('quantize', rows, cols, bits, groupSize);
  const n = groupCount(rows, cols, groupSize, axis);
  const lo = new Float64Array(n).fill(Infinity);
  const hi = new Float64Array(n).fill(-Infinity);
  for (let t = 0; t < rows; t++) {
    for (let c = 0; c < cols; c++) {
      const g = groupOf(t, c, cols, groupSize, axis);
      const v = x[offset + t * cols + c];
      if (v < lo[g]) lo[g] = v;
      if (v > hi[g]) hi[g] = v;
    }
  }
  const levels = (1 << bits) - 1;
  const scale = new Float32Array(n);
  const min = new Float32Array(n);
  for (let g = 0; g < n; g++) {
    min[g] = f32Down(lo[g]);
    scale[g] = f32Up((hi[g] - min[g]) / levels);
  }
  const codes = new Uint8Array(packedBytes(rows * cols, bits));
  for (let t = 0; t < rows; t++) {
    for (let c = 0; c < cols; c++) {
      const g = groupOf(t, c, cols, groupSize, axis);
      const s = scale[g];
      const q = s === 0 ? 0 : Math.round((x[offset + t * cols + c] - min[g]) / s);
      setCode(codes, t * cols + c, bits, Math.min(levels, Math.max(0, q)));
    }
  }
  return { bits, rows, cols, groupSize, axis, codes, scale, min };
}

/** Write the dequantized [rows, cols] of `q` (min + code·scale, f64, then f32) into out at `offset`. */
export function dequantizeInto(q: QuantizedBlock, out: Float32Array, offset = 0): void {
  dequantizeRowsInto(q, 0, q.rows, out, offset);
}

/** Write dequantized rows [from, to) of `q` into out at `offset` (row `from` first). */
export function dequantizeRowsInto(
  q: QuantizedBlock,
  from: number,
  to: number,
  out: Float32Array,
  offset = 0,
): void {
  const { cols, groupSize, axis, bits, codes, scale, min } = q;
  offset -= from * cols;
  for (let t = from; t < to; t++) {
    for (let c = 0; c < cols; c++) {
      const g = groupOf(t, c, cols, groupSize, axis);
      out[offset + t * cols + c] = min[g] + getCode(codes, t * cols + c, bits) * scale[g];
    }
  }
}

export function dequantize(q: QuantizedBlock): Float32Array {
  const out = new Float32Array(q.rows * q.cols);
  dequantizeInto(q, out);
  return out;
}

/** Keys [T, D]: per channel, groups of G tokens (KIVI's key quantization). */
export function quantizeKeys(
  x: ArrayLike<number>,
  tokens: number,
  headDim: number,
  bits: KiviBits,
  groupSize: number,
  offset = 0,
): QuantizedBlock {
  return quantize(x, tokens, headDim, bits, groupSize, 'channel', offset);
}

/** Values [T, D]: per token, groups of G channels (KIVI's value quantization). */
export function quantizeValues(
  x: ArrayLike<number>,
  tokens: number,
  headDim: number,
  bits: KiviBits,
  groupSize: number,
  offset = 0,
): QuantizedBlock {
  return quantize(x, tokens, headDim, bits, groupSize, 'token', offset);
}

/** The step of the group element (t, c) of `q` belongs to: its error bound is half of it. */
export function scaleAt(q: QuantizedBlock, t: number, c: number): number {
  return q.scale[groupOf(t, c, q.cols, q.groupSize, q.axis)];
}

/** Bytes `q` occupies: codes, scales and mins. */
export function blockBytes(q: QuantizedBlock): number {
  return q.codes.byteLength + q.scale.byteLength + q.min.byteLength;
}
