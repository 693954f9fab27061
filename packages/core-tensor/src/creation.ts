/**
 * @file Creating tensors from JS values: `tensor`, `zeros`, `ones`, `full`, `arange`, `fromArray`.
 * Values are converted to the dtype on the host, then uploaded once.
 */
import { z } from 'zod';
import { assertDType, BYTES_PER_ELEMENT, DTYPES, type DType, type StorageArray, storageView } from './dtype';
import { fmtShape, TensorError } from './errors';
import { f32ToBf16Bits, f32ToF16Bits } from './f16';
import { parseOptions as parseWith } from './ops/checks';
import { getBackend } from './registry';
import { assertShape, type Shape, sizeOf } from './shape';
import { Tensor } from './tensor';

const CreateOptions = z.strictObject({
  dtype: z.enum(DTYPES).optional(),
  device: z.string().optional(),
});
export type CreateOptions = z.input<typeof CreateOptions>;

function parseOptions(op: string, opts: CreateOptions | undefined) {
  return parseWith(op, CreateOptions, opts);
}

type Nested = number | boolean | Nested[];

function inferShape(v: Nested): number[] {
  const shape: number[] = [];
  let cur: Nested = v;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0] as Nested;
  }
  return shape;
}

function flatten(op: string, v: Nested, shape: number[], depth: number, out: number[]): void {
  if (depth === shape.length) {
    if (Array.isArray(v))
      throw new TensorError(op, `ragged nested array: expected a number at depth ${depth}`);
    out.push(typeof v === 'boolean' ? Number(v) : v);
    return;
  }
  if (!Array.isArray(v) || v.length !== shape[depth]) {
    throw new TensorError(
      op,
      `ragged nested array: expected length ${shape[depth]} at depth ${depth} (shape ${fmtShape(shape)})`,
    );
  }
  for (const x of v) flatten(op, x, shape, depth + 1, out);
}

/** Encode JS numbers into the raw storage array of `dtype`. */
export function encodeValues(values: ArrayLike<number>, dtype: DType): StorageArray {
  const n = values.length;
  const out = storageView(dtype, new ArrayBuffer(Math.max(n * BYTES_PER_ELEMENT[dtype], 4)), 0, n);
  if (dtype === 'f16') for (let i = 0; i < n; i++) out[i] = f32ToF16Bits(values[i]);
  else if (dtype === 'bf16') for (let i = 0; i < n; i++) out[i] = f32ToBf16Bits(values[i]);
  else if (dtype === 'bool') for (let i = 0; i < n; i++) out[i] = values[i] !== 0 ? 1 : 0;
  else for (let i = 0; i < n; i++) out[i] = values[i];
  return out;
}

/** Upload an already-encoded storage array (raw bits for f16/bf16) as a tensor. */
export function fromStorageArray(raw: StorageArray, shape: Shape, dtype: DType, device?: string): Tensor {
  const op = 'fromStorageArray';
  assertDType(op, dtype, () => `for shape ${fmtShape(shape)}`);
  if (sizeOf(shape) !== raw.length) {
    throw new TensorError(
      op,
      `shape ${fmtShape(shape)} holds ${sizeOf(shape)} elements but ${raw.length} were given`,
    );
  }
  if (raw.BYTES_PER_ELEMENT !== BYTES_PER_ELEMENT[dtype]) {
    throw new TensorError(op, `a ${raw.constructor.name} cannot hold raw ${dtype} data`);
  }
  const backend = getBackend(device);
  const t = Tensor.empty(backend, shape, dtype);
  backend.write(t.storage.handle, 0, raw);
  return t;
}

/**
 * A tensor from nested arrays, a flat array or a typed array. `shape` is required for flat data of
 * rank other than 1. Default dtype: f32 (i32 for Int32Array, u8 for Uint8Array).
 */
export function tensor(values: Nested | ArrayLike<number>, shape?: Shape, opts?: CreateOptions): Tensor {
  const op = 'tensor';
  const o = parseOptions(op, opts);
  let flat: ArrayLike<number>;
  let inferred: number[];
  if (typeof values === 'number' || typeof values === 'boolean') {
    flat = [Number(values)];
    inferred = [];
  } else if (Array.isArray(values)) {
    inferred = inferShape(values as Nested);
    const out: number[] = [];
    flatten(op, values as Nested, inferred, 0, out);
    flat = out;
  } else {
    flat = values as ArrayLike<number>;
    inferred = [flat.length];
  }
  const s = shape ? assertShape(op, shape) : inferred;
  if (sizeOf(s) !== flat.length) {
    throw new TensorError(
      op,
      `shape ${fmtShape(s)} holds ${sizeOf(s)} elements but ${flat.length} values were given`,
    );
  }
  const dtype: DType =
    o.dtype ??
    (values instanceof Int32Array
      ? 'i32'
      : values instanceof Uint8Array
        ? 'u8'
        : values instanceof Int8Array
          ? 'i8'
          : 'f32');
  for (let i = 0; i < flat.length; i++) {
    if (Number.isNaN(flat[i]) && !(dtype === 'f32' || dtype === 'f16' || dtype === 'bf16')) {
      throw new TensorError(op, `value at index ${i} is NaN, which ${dtype} cannot hold`);
    }
  }
  return fromStorageArray(encodeValues(flat, dtype), s, dtype, o.device);
}

export function full(shape: Shape, value: number, opts?: CreateOptions): Tensor {
  const s = assertShape('full', shape);
  return tensor(new Array<number>(sizeOf(s)).fill(value), s, opts);
}

export function zeros(shape: Shape, opts?: CreateOptions): Tensor {
  const o = parseOptions('zeros', opts);
  return Tensor.empty(getBackend(o.device), assertShape('zeros', shape), o.dtype ?? 'f32');
}

export function ones(shape: Shape, opts?: CreateOptions): Tensor {
  return full(shape, 1, opts);
}

/** [start, end) with `step`; default dtype i32 when all arguments are integers, else f32. */
export function arange(start: number, end?: number, step = 1, opts?: CreateOptions): Tensor {
  if (end === undefined) {
    end = start;
    start = 0;
  }
  if (step === 0 || !Number.isFinite(start) || !Number.isFinite(end) || !Number.isFinite(step)) {
    throw new TensorError(
      'arange',
      `start, end and step must be finite and step non-zero (got ${start}, ${end}, ${step})`,
    );
  }
  const n = Math.max(0, Math.ceil((end - start) / step));
  const vals = Array.from({ length: n }, (_, i) => start + i * step);
  const isInt = [start, end, step].every(Number.isInteger);
  return tensor(vals, [n], { dtype: isInt ? 'i32' : 'f32', ...opts });
}
