/**
 * @file The Tensor: a shape, strides and an element offset over a reference-counted Storage on one
 * backend. Views (reshape, permute, slice, expand, squeeze, unsqueeze) share the storage and copy
 * nothing; `contiguous()` copies only when the layout requires it. Reading values is asynchronous
 * (`await t.data()`), because reading from a GPU is.
 *
 * Ownership: every tensor must be disposed (or created inside `scope`, which disposes what the
 * function does not return). Using a disposed tensor throws.
 */
import { type Backend, Storage } from './backend';
import { assertDType, BYTES_PER_ELEMENT, type DType, type StorageArray, storageView } from './dtype';
import { fmtShape, TensorError } from './errors';
import { bf16ArrayToF32, f16ArrayToF32 } from './f16';
import { getBackend, getKernel } from './registry';
import { trackTensor } from './scope';
import { contiguousStrides, normalizeAxis, type Shape, sizeOf, viewStrides } from './shape';

/** Values as JS sees them: f16/bf16 are widened to Float32Array, bool is 0/1 bytes. */
export type DataArray = Float32Array | Int32Array | Int8Array | Uint8Array;

export class Tensor {
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  /** Offset of element [0, 0, ...] in the storage, in elements. */
  readonly offset: number;
  readonly dtype: DType;
  private _storage: Storage | null;

  constructor(storage: Storage, shape: Shape, dtype: DType, strides?: Shape, offset = 0) {
    this._storage = storage;
    this.shape = Object.freeze(shape.slice());
    this.strides = Object.freeze((strides ?? contiguousStrides(shape)).slice());
    this.offset = offset;
    this.dtype = dtype;
    trackTensor(this);
  }

  /** A new zero-filled contiguous tensor on `backend`. Used by kernels to create outputs. */
  static empty(backend: Backend, shape: Shape, dtype: DType): Tensor {
    assertDType('Tensor.empty', dtype, () => `for shape ${fmtShape(shape)}`);
    const bytes = Math.max(sizeOf(shape) * BYTES_PER_ELEMENT[dtype], 4);
    return new Tensor(new Storage(backend, backend.alloc(bytes), bytes), shape, dtype);
  }

  get storage(): Storage {
    if (!this._storage)
      throw new TensorError('tensor', `use after dispose (shape ${fmtShape(this.shape)}, ${this.dtype})`);
    return this._storage;
  }

  get backend(): Backend {
    return this.storage.backend;
  }

  /** Name of the backend that holds the data. */
  get device(): string {
    return this.storage.backend.name;
  }

  get rank(): number {
    return this.shape.length;
  }

  get size(): number {
    return sizeOf(this.shape);
  }

  get disposed(): boolean {
    return this._storage === null;
  }

  /** Throws a clear error if the tensor was disposed; `op` names the caller. */
  assertLive(op: string): void {
    if (!this._storage) {
      throw new TensorError(
        op,
        `input tensor of shape ${fmtShape(this.shape)} (${this.dtype}) was used after dispose()`,
      );
    }
  }

  isContiguous(): boolean {
    let s = 1;
    for (let i = this.shape.length - 1; i >= 0; i--) {
      if (this.shape[i] !== 1 && this.strides[i] !== s) return false;
      s *= this.shape[i];
    }
    return true;
  }

  dispose(): void {
    if (!this._storage) return;
    this._storage.release();
    this._storage = null;
  }

  private view(op: string, shape: Shape, strides: Shape, offset: number): Tensor {
    this.assertLive(op);
    return new Tensor(this.storage.retain(), shape, this.dtype, strides, offset);
  }

  // ---------------------------------------------------------------- views

  /**
   * Same data, new shape (one dimension may be -1). A view whenever the strides allow it (always for
   * a contiguous tensor; for other views when only dimensions laid out together are split or merged,
   * see viewStrides), else a contiguous copy.
   */
  reshape(shape: Shape): Tensor {
    const op = 'reshape';
    this.assertLive(op);
    const out = shape.slice();
    const infer = out.indexOf(-1);
    if (out.filter((d) => d === -1).length > 1 || out.some((d) => !Number.isInteger(d) || d < -1)) {
      throw new TensorError(
        op,
        `invalid target shape ${fmtShape(shape)}: integers >= 0 and at most one -1 allowed`,
      );
    }
    if (infer >= 0) {
      const known = sizeOf(out.filter((d) => d !== -1));
      if (known === 0 || this.size % known !== 0) {
        throw new TensorError(
          op,
          `cannot infer -1 in ${fmtShape(shape)} for ${this.size} elements (input ${fmtShape(this.shape)})`,
        );
      }
      out[infer] = this.size / known;
    }
    if (sizeOf(out) !== this.size) {
      throw new TensorError(
        op,
        `cannot reshape ${fmtShape(this.shape)} (${this.size} elements) to ${fmtShape(shape)} (${sizeOf(out)} elements)`,
      );
    }
    if (this.isContiguous()) return this.view(op, out, contiguousStrides(out), this.offset);
    const strides = viewStrides(this.shape, this.strides, out);
    if (strides) return this.view(op, out, strides, this.offset);
    const c = this.contiguous();
    const v = c.reshape(out);
    c.dispose();
    return v;
  }

  /** Reorder dimensions: `axes` is a permutation of 0..rank-1. Always a view. */
  permute(axes: readonly number[]): Tensor {
    const op = 'permute';
    const ax = axes.map((a) => normalizeAxis(op, a, this.rank));
    if (ax.length !== this.rank || new Set(ax).size !== this.rank) {
      throw new TensorError(
        op,
        `axes ${fmtShape(axes)} are not a permutation of 0..${this.rank - 1} (input ${fmtShape(this.shape)})`,
      );
    }
    return this.view(
      op,
      ax.map((a) => this.shape[a]),
      ax.map((a) => this.strides[a]),
      this.offset,
    );
  }

  /** Swap two dimensions (default: the last two). A view. */
  transpose(a = -2, b = -1): Tensor {
    const ia = normalizeAxis('transpose', a, this.rank);
    const ib = normalizeAxis('transpose', b, this.rank);
    const axes = [...this.shape.keys()];
    axes[ia] = ib;
    axes[ib] = ia;
    return this.permute(axes);
  }

  /**
   * A view of `[start, end)` along `axis` with an optional positive step. Negative indices count
   * from the end. Always a view.
   */
  slice(axis: number, start: number, end?: number, step = 1): Tensor {
    const op = 'slice';
    const ax = normalizeAxis(op, axis, this.rank);
    const n = this.shape[ax];
    const s = start < 0 ? start + n : start;
    const e = end === undefined ? n : end < 0 ? end + n : end;
    if (
      !Number.isInteger(s) ||
      !Number.isInteger(e) ||
      s < 0 ||
      e > n ||
      s > e ||
      !Number.isInteger(step) ||
      step < 1
    ) {
      throw new TensorError(
        op,
        `range [${start}, ${end ?? n}) step ${step} is out of bounds for axis ${axis} of size ${n} (shape ${fmtShape(this.shape)})`,
      );
    }
    const shape = this.shape.slice();
    const strides = this.strides.slice();
    shape[ax] = Math.ceil((e - s) / step);
    strides[ax] = this.strides[ax] * step;
    return this.view(op, shape, strides, this.offset + s * this.strides[ax]);
  }

  /** Broadcast size-1 dimensions (and new leading ones) to `shape` with stride 0. Always a view. */
  expand(shape: Shape): Tensor {
    const op = 'expand';
    if (shape.length < this.rank) {
      throw new TensorError(
        op,
        `target ${fmtShape(shape)} has lower rank than input ${fmtShape(this.shape)}`,
      );
    }
    const lead = shape.length - this.rank;
    const strides = shape.map((d, i) => {
      if (i < lead) return 0;
      const src = this.shape[i - lead];
      if (src === d) return this.strides[i - lead];
      if (src === 1) return 0;
      throw new TensorError(
        op,
        `cannot expand ${fmtShape(this.shape)} to ${fmtShape(shape)}: dimension ${i} is ${src} (must be ${d} or 1)`,
      );
    });
    return this.view(op, shape, strides, this.offset);
  }

  /** Drop size-1 dimensions (all, or the one given). A view. */
  squeeze(axis?: number): Tensor {
    const op = 'squeeze';
    if (axis === undefined) {
      const keep = [...this.shape.keys()].filter((i) => this.shape[i] !== 1);
      return this.view(
        op,
        keep.map((i) => this.shape[i]),
        keep.map((i) => this.strides[i]),
        this.offset,
      );
    }
    const ax = normalizeAxis(op, axis, this.rank);
    if (this.shape[ax] !== 1) {
      throw new TensorError(
        op,
        `axis ${axis} has size ${this.shape[ax]}, not 1 (shape ${fmtShape(this.shape)})`,
      );
    }
    return this.view(
      op,
      this.shape.filter((_, i) => i !== ax),
      this.strides.filter((_, i) => i !== ax),
      this.offset,
    );
  }

  /** Insert a size-1 dimension at `axis` (may equal rank). A view. */
  unsqueeze(axis: number): Tensor {
    const ax = normalizeAxis('unsqueeze', axis, this.rank + 1);
    const shape = this.shape.slice();
    const strides = this.strides.slice();
    shape.splice(ax, 0, 1);
    strides.splice(ax, 0, ax < this.rank ? this.strides[ax] * this.shape[ax] : 1);
    return this.view('unsqueeze', shape, strides, this.offset);
  }

  /** A contiguous tensor with the same values: a new view on the same storage if already contiguous. */
  contiguous(): Tensor {
    this.assertLive('contiguous');
    if (this.isContiguous())
      return this.view('contiguous', this.shape, contiguousStrides(this.shape), this.offset);
    return getKernel('copy', this.device).fn([this], {}, this.backend) as Tensor;
  }

  // ---------------------------------------------------------------- reading back

  /** The raw storage elements in logical (row-major) order: f16/bf16 as their 16-bit patterns. */
  async raw(): Promise<StorageArray> {
    this.assertLive('raw');
    const c = this.contiguous();
    try {
      const bpe = BYTES_PER_ELEMENT[c.dtype];
      const bytes = await c.backend.read(c.storage.handle, c.offset * bpe, c.size * bpe);
      // Copy into a fresh, aligned buffer so the caller owns it.
      const own = new Uint8Array(bytes.byteLength);
      own.set(bytes);
      return storageView(c.dtype, own.buffer, 0, c.size);
    } finally {
      c.dispose();
    }
  }

  /** Values in logical order. f16 and bf16 are widened (exactly) to Float32Array. */
  async data(): Promise<DataArray> {
    const raw = await this.raw();
    if (this.dtype === 'f16') return f16ArrayToF32(raw);
    if (this.dtype === 'bf16') return bf16ArrayToF32(raw);
    return raw as DataArray;
  }

  /** Values as a plain number array (convenient in tests and small outputs). */
  async array(): Promise<number[]> {
    return Array.from(await this.data());
  }

  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1)
      throw new TensorError(
        'item',
        `tensor has ${this.size} elements (shape ${fmtShape(this.shape)}); item() needs exactly 1`,
      );
    return (await this.data())[0];
  }

  /** Copy to another backend (by name). Returns a new tensor; the source stays valid. */
  async to(device: string): Promise<Tensor> {
    const target = getBackend(device);
    const raw = await this.raw();
    const out = Tensor.empty(target, this.shape, this.dtype);
    target.write(out.storage.handle, 0, raw);
    return out;
  }

  toString(): string {
    return `Tensor(${fmtShape(this.shape)}, ${this.dtype}, ${this._storage ? this.device : 'disposed'})`;
  }
}
