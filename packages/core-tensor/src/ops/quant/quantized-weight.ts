/**
 * @file The QuantizedWeight: a linear layer's weight [N, K] (out features, in features: the layout
 * of `linear(x, w)`'s w) kept in a weight-only quantized or 16-bit format, as raw little-endian
 * bytes, and the byte sizes each format must have. The layouts are documented in the core-tensor
 * README ("Quantized weight formats"); they are what the models package saves and loads.
 *
 * Formats:
 * - 'f16', 'bf16': the weights as stored, 2 bytes each, row-major [N, K].
 * - 'int8': symmetric int8 per output channel, w = scale[n] * q; scales f32 or f16 (`scaleDtype`).
 * - 'int8-group', 'int4-group': groups of `groupSize` (32, 64, 128) consecutive weights along K
 *   with an f16 scale each; symmetric, or asymmetric when `zeros` (one u8 per group) is given.
 * - 'q8_0', 'q4_0', 'q4_k', 'q6_k': the GGUF block formats, bytes exactly as in a GGUF file
 *   (ggml-org/llama.cpp ggml/src/ggml-common.h block_q8_0 ... block_q6_K).
 */
import { z } from 'zod';
import { TensorError } from '../../errors';
import { f16BitsToF32, f32ToF16Bits } from '../../f16';
import { parseOptionsWith } from '../../options';

export const QUANT_FORMATS = [
  'f16',
  'bf16',
  'int8',
  'int8-group',
  'int4-group',
  'q8_0',
  'q4_0',
  'q4_k',
  'q6_k',
] as const;
export type QuantFormat = (typeof QUANT_FORMATS)[number];
export const GROUP_SIZES = [32, 64, 128] as const;
export type GroupSize = (typeof GROUP_SIZES)[number];

export interface QuantizedWeight {
  readonly format: QuantFormat;
  /** [N, K]: out features, in features (HF Linear's weight layout). */
  readonly shape: readonly [number, number];
  /** Quantized values (or f16/bf16 weights), little-endian; layout per format (README). */
  readonly data: Uint8Array;
  /** Group formats: weights per scale along K. */
  readonly groupSize?: GroupSize;
  /** 'int8' and the group formats: the scales, little-endian f16 (or f32 for 'int8' if scaleDtype is 'f32'). */
  readonly scales?: Uint8Array;
  /** 'int8' only: dtype of the per-channel scales (default 'f16'). */
  readonly scaleDtype?: 'f16' | 'f32';
  /** Group formats, asymmetric: one u8 zero point per group; absent: symmetric. */
  readonly zeros?: Uint8Array;
}

/** Elements per block of each GGUF format, and bytes per block (ggml-common.h). */
export const GGUF_BLOCK: Record<'q8_0' | 'q4_0' | 'q4_k' | 'q6_k', { elements: number; bytes: number }> = {
  q8_0: { elements: 32, bytes: 34 }, // f16 d + 32 int8
  q4_0: { elements: 32, bytes: 18 }, // f16 d + 16 bytes of nibbles
  q4_k: { elements: 256, bytes: 144 }, // f16 d, f16 dmin, 12 bytes of 6-bit scales/mins, 128 bytes of nibbles
  q6_k: { elements: 256, bytes: 210 }, // 128 ql, 64 qh, 16 int8 scales, f16 d
};

export const isGguf = (f: QuantFormat): f is keyof typeof GGUF_BLOCK => f in GGUF_BLOCK;
export const isGroupFormat = (f: QuantFormat): f is 'int8-group' | 'int4-group' =>
  f === 'int8-group' || f === 'int4-group';

/** Groups per row of a group format: ceil(K / groupSize) (the last group is zero-padded). */
export const groupsPerRow = (k: number, g: number) => Math.ceil(k / g);

/** Bytes of data, scales and zeros a weight of this format and shape must have. */
export function expectedBytes(qw: Omit<QuantizedWeight, 'data' | 'scales' | 'zeros'>): {
  data: number;
  scales: number;
  zeros: number;
} {
  const [n, k] = qw.shape;
  const f = qw.format;
  if (f === 'f16' || f === 'bf16') return { data: 2 * n * k, scales: 0, zeros: 0 };
  if (f === 'int8') return { data: n * k, scales: n * (qw.scaleDtype === 'f32' ? 4 : 2), zeros: 0 };
  if (isGroupFormat(f)) {
    const g = qw.groupSize ?? 0;
    const G = groupsPerRow(k, g);
    return { data: (n * G * g) / (f === 'int4-group' ? 2 : 1), scales: 2 * n * G, zeros: n * G };
  }
  const b = GGUF_BLOCK[f];
  return { data: n * (k / b.elements) * b.bytes, scales: 0, zeros: 0 };
}

const bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'expected a Uint8Array');
const QuantizedWeightSchema = z.strictObject({
  format: z.enum(QUANT_FORMATS),
  shape: z.tuple([z.number().int().positive(), z.number().int().positive()]),
  data: bytes,
  groupSize: z.union([z.literal(32), z.literal(64), z.literal(128)]).optional(),
  scales: bytes.optional(),
  scaleDtype: z.enum(['f16', 'f32']).optional(),
  zeros: bytes.optional(),
});

/** Checks a QuantizedWeight's fields and byte lengths; throws a TensorError naming the field. */
export function validateQuantizedWeight(op: string, qw: QuantizedWeight): void {
  parseOptionsWith(QuantizedWeightSchema, qw, (p) => new TensorError(op, `quantized weight: ${p}`));
  const f = qw.format;
  const [, k] = qw.shape;
  const bad = (msg: string) => new TensorError(op, `quantized weight (${f}, shape [${qw.shape}]): ${msg}`);
  if (isGroupFormat(f) !== (qw.groupSize !== undefined)) {
    throw bad(
      isGroupFormat(f) ? "'groupSize' (32, 64 or 128) is required" : "'groupSize' is only for group formats",
    );
  }
  if (qw.scaleDtype !== undefined && f !== 'int8') throw bad("'scaleDtype' is only for the 'int8' format");
  if (qw.zeros && !isGroupFormat(f)) throw bad("'zeros' is only for the group formats");
  const hasScales = f === 'int8' || isGroupFormat(f);
  if (hasScales !== (qw.scales !== undefined)) {
    throw bad(hasScales ? "'scales' is required" : "'scales' is not used by this format");
  }
  if (isGguf(f) && k % GGUF_BLOCK[f].elements !== 0) {
    throw bad(
      `K = ${k} must be a multiple of the ${f} block size ${GGUF_BLOCK[f].elements} (GGUF rows are whole blocks)`,
    );
  }
  const want = expectedBytes(qw);
  if (qw.data.length !== want.data) throw bad(`'data' has ${qw.data.length} bytes, expected ${want.data}`);
  if (qw.scales && qw.scales.length !== want.scales)
    throw bad(`'scales' has ${qw.scales.length} bytes, expected ${want.scales}`);
  if (qw.zeros && qw.zeros.length !== want.zeros)
    throw bad(`'zeros' has ${qw.zeros.length} bytes, expected ${want.zeros}`);
}

/** The little-endian f16 at byte `o` of `b`, as a number. */
export const halfAt = (b: Uint8Array, o: number): number => f16BitsToF32(b[o] | (b[o + 1] << 8));

/** Store an f16 bit pattern little-endian at byte `o` of `b`. */
export function putHalf(b: Uint8Array, o: number, bits: number): void {
  b[o] = bits & 0xff;
  b[o + 1] = bits >>> 8;
}

/**
 * The f16 bit pattern of the smallest f16 >= s (s >= 0, finite, below 65504): a round-to-nearest
 * quantizer that divides by the stored scale never has to clamp, so its error stays <= scale / 2.
 */
export function halfScaleAtLeast(s: number): number {
  let h = f32ToF16Bits(s);
  if (f16BitsToF32(h) < s) h++;
  return h;
}

/** Checks values given row-major for [N, K], with a clear error when the count or a value is wrong. */
export function checkValues(op: string, values: ArrayLike<number>, shape: readonly [number, number]): void {
  const [n, k] = shape;
  if (!(Number.isInteger(n) && n > 0 && Number.isInteger(k) && k > 0))
    throw new TensorError(op, `shape must be [N, K] of positive integers, got [${shape}]`);
  if (values.length !== n * k)
    throw new TensorError(op, `got ${values.length} values for shape [${n}, ${k}] (${n * k} expected)`);
  for (let i = 0; i < values.length; i++) {
    if (!(Math.abs(values[i]) <= 65504))
      throw new TensorError(
        op,
        `value ${i} is ${values[i]}: weights must be finite, within the f16 range (|w| <= 65504)`,
      );
  }
}
