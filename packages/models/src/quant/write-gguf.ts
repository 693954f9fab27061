/**
 * @file A small GGUF v3 writer (isomorphic), for exporting our fixtures and for testing loadGGUF,
 * since no GGUF file can be downloaded here. Format facts from the GGUF specification
 * (ggml-org/ggml docs/gguf.md):
 *   header: u32 magic "GGUF" (bytes 47 47 55 46), u32 version (3), u64 tensor_count, u64 kv_count;
 *   kv: gguf_string key (u64 length + UTF-8 bytes, no NUL), u32 value_type, value
 *       (UINT8 0, INT8 1, UINT16 2, INT16 3, UINT32 4, INT32 5, FLOAT32 6, BOOL 7, STRING 8,
 *        ARRAY 9 = u32 item type + u64 count + items, UINT64 10, INT64 11, FLOAT64 12);
 *   tensor info: gguf_string name, u32 n_dimensions, u64 dimensions[n] (ne[0] first: the
 *       contiguous axis, so a row-major [N, K] matrix is written [K, N]), u32 ggml_type,
 *       u64 offset (from the start of the tensor data, a multiple of `general.alignment`);
 *   padding to `general.alignment` (default 32), then the tensor data, each tensor padded to it.
 * All little-endian. ggml_type: F32 0, F16 1, Q4_0 2, Q8_0 8, Q4_K 12, Q6_K 14, BF16 30 (ggml.h).
 */
import { GGUF_BLOCK } from '@hasten/core-tensor';
import { z } from 'zod';
import { ModelError } from '../errors';
import { parseOptions } from '../options';

export const GGML_TYPES = { F32: 0, F16: 1, Q4_0: 2, Q8_0: 8, Q4_K: 12, Q6_K: 14, BF16: 30 } as const;
export type GGMLTypeName = keyof typeof GGML_TYPES;

/** Bytes of one row of `k` elements of a ggml type. */
export function ggmlRowBytes(type: GGMLTypeName, k: number): number {
  if (type === 'F32') return 4 * k;
  if (type === 'F16' || type === 'BF16') return 2 * k;
  const b = GGUF_BLOCK[type.toLowerCase() as keyof typeof GGUF_BLOCK];
  if (k % b.elements !== 0)
    throw new ModelError(
      'input',
      `GGUF ${type}: a row of ${k} elements is not whole ${b.elements}-element blocks`,
    );
  return (k / b.elements) * b.bytes;
}

export type GGUFValue =
  | { type: 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'f64' | 'u64' | 'i64'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'array'; itemType: 'string'; value: string[] }
  | { type: 'array'; itemType: 'i32' | 'u32' | 'f32'; value: number[] };

export interface GGUFTensorInput {
  name: string;
  /** Row-major shape, outermost first (e.g. [N, K] for a linear weight); written reversed. */
  shape: number[];
  type: GGMLTypeName;
  data: Uint8Array;
}

const VALUE_TYPE = {
  u8: 0,
  i8: 1,
  u16: 2,
  i16: 3,
  u32: 4,
  i32: 5,
  f32: 6,
  bool: 7,
  string: 8,
  array: 9,
  u64: 10,
  i64: 11,
  f64: 12,
} as const;

const Options = z.strictObject({
  /** `general.alignment`: a power of two (default 32, the spec's default). */
  alignment: z
    .number()
    .int()
    .positive()
    .refine((a) => (a & (a - 1)) === 0, 'must be a power of two')
    .default(32),
});
export type WriteGGUFOptions = z.input<typeof Options>;

/** Growable little-endian byte sink. */
class Sink {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  length = 0;
  private need(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(x: number) {
    this.need(1);
    this.view.setUint8(this.length++, x);
  }
  bytes(b: Uint8Array): void {
    this.need(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  string(s: string): void {
    const b = new TextEncoder().encode(s);
    this.u64(b.length);
    this.bytes(b);
  }
  u32(x: number) {
    this.need(4);
    this.view.setUint32(this.length, x, true);
    this.length += 4;
  }
  u64(x: number) {
    this.need(8);
    this.view.setBigUint64(this.length, BigInt(x), true);
    this.length += 8;
  }
  pad(alignment: number): void {
    const n = (alignment - (this.length % alignment)) % alignment;
    this.need(n);
    this.buf.fill(0, this.length, this.length + n);
    this.length += n;
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Writes a scalar of a numeric GGUF value type. */
function scalar(
  s: Sink,
  type: Exclude<keyof typeof VALUE_TYPE, 'bool' | 'string' | 'array'>,
  x: number,
): void {
  if (!Number.isFinite(x)) throw new ModelError('input', `writeGGUF: value ${x} is not finite`);
  const bytes = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, f64: 8, u64: 8, i64: 8 }[type];
  const b = new Uint8Array(bytes);
  const v = new DataView(b.buffer);
  if (type === 'u8') v.setUint8(0, x);
  else if (type === 'i8') v.setInt8(0, x);
  else if (type === 'u16') v.setUint16(0, x, true);
  else if (type === 'i16') v.setInt16(0, x, true);
  else if (type === 'u32') v.setUint32(0, x, true);
  else if (type === 'i32') v.setInt32(0, x, true);
  else if (type === 'f32') v.setFloat32(0, x, true);
  else if (type === 'f64') v.setFloat64(0, x, true);
  else if (type === 'u64') v.setBigUint64(0, BigInt(x), true);
  else v.setBigInt64(0, BigInt(x), true);
  s.bytes(b);
}

/** The bytes of a GGUF v3 file holding `metadata` (in order) and `tensors` (in order). */
export function writeGGUF(
  metadata: Record<string, GGUFValue>,
  tensors: GGUFTensorInput[],
  opts: WriteGGUFOptions = {},
): Uint8Array {
  const { alignment } = parseOptions(Options, opts, 'writeGGUF');
  const meta: Record<string, GGUFValue> = { ...metadata };
  if (alignment !== 32) meta['general.alignment'] = { type: 'u32', value: alignment };
  const s = new Sink();
  s.bytes(new TextEncoder().encode('GGUF'));
  s.u32(3);
  s.u64(tensors.length);
  s.u64(Object.keys(meta).length);
  for (const [key, v] of Object.entries(meta)) {
    s.string(key);
    s.u32(VALUE_TYPE[v.type]);
    if (v.type === 'string') s.string(v.value);
    else if (v.type === 'bool') s.u8(v.value ? 1 : 0);
    else if (v.type === 'array') {
      s.u32(VALUE_TYPE[v.itemType]);
      s.u64(v.value.length);
      for (const x of v.value) {
        if (v.itemType === 'string') s.string(x as string);
        else scalar(s, v.itemType, x as number);
      }
    } else scalar(s, v.type, v.value);
  }
  let offset = 0;
  for (const t of tensors) {
    if (t.shape.length < 1 || t.shape.length > 4 || t.shape.some((d) => !Number.isInteger(d) || d <= 0))
      throw new ModelError(
        'input',
        `writeGGUF: tensor ${t.name} has shape [${t.shape}]; need 1 to 4 positive dims`,
      );
    const k = t.shape[t.shape.length - 1];
    const rows = t.shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const want = rows * ggmlRowBytes(t.type, k);
    if (t.data.byteLength !== want)
      throw new ModelError(
        'input',
        `writeGGUF: tensor ${t.name} (${t.type} [${t.shape}]) has ${t.data.byteLength} bytes, expected ${want}`,
      );
    s.string(t.name);
    s.u32(t.shape.length);
    for (const d of [...t.shape].reverse()) s.u64(d);
    s.u32(GGML_TYPES[t.type]);
    s.u64(offset);
    offset += Math.ceil(want / alignment) * alignment;
  }
  s.pad(alignment);
  for (const t of tensors) {
    s.bytes(t.data);
    s.pad(alignment);
  }
  return s.result();
}
