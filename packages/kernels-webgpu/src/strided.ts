/**
 * @file Strided views in shaders. Kernels read their inputs in place, whatever the view's strides
 * (a transpose, a slice, a broadcast with stride 0), so no op copies to make an input contiguous.
 * A view's shape and strides travel in the uniform block as two `array<vec4<u32>, 2>` (rank <= 8).
 */
import { type Tensor, TensorError } from '@hasten/core-tensor';

export const MAX_RANK = 8;

/** `values` padded with zeros to MAX_RANK slots, for an `array<vec4<u32>, 2>` uniform field. */
export function dims(op: string, values: readonly number[]): number[] {
  if (values.length > MAX_RANK) {
    throw new TensorError(
      op,
      `the webgpu backend supports tensors of rank <= ${MAX_RANK}, got rank ${values.length}`,
    );
  }
  return [...values, ...new Array<number>(MAX_RANK - values.length).fill(0)];
}

/**
 * Strides that read `t` as if expanded to `shape` (a broadcast dim gets stride 0), without creating
 * a view. `shape` must be a valid broadcast of `t.shape`; the public op checked that already.
 */
export function broadcastStrides(t: Tensor, shape: readonly number[]): number[] {
  const lead = shape.length - t.rank;
  return shape.map((_, i) => (i < lead || t.shape[i - lead] === 1 ? 0 : t.strides[i - lead]));
}

/** The tensor must be f32: this minimal backend has f32 kernels only. */
export function assertF32(op: string, t: Tensor, name = 'input'): void {
  if (t.dtype !== 'f32') {
    throw new TensorError(
      op,
      `${name} has dtype ${t.dtype}; the webgpu backend has f32 kernels only so far (move it with await t.to('cpu') and cast there)`,
    );
  }
}

/**
 * WGSL: the storage offset (in elements, from the view's offset) of the `index`-th element in
 * row-major order of a view with `rank` dims. The arrays are copied into `var`s because WGSL only
 * allows a runtime index into an array held in memory, not into an array value.
 */
export const STRIDED_OFFSET_WGSL = /* wgsl */ `
fn strided_offset(index: u32, rank: u32, shape_in: array<vec4<u32>, 2>, strides_in: array<vec4<u32>, 2>) -> u32 {
  var shape = shape_in;
  var strides = strides_in;
  var rest = index;
  var offset = 0u;
  for (var d = i32(rank) - 1; d >= 0; d--) {
    let n = shape[d / 4][d % 4];
    offset += (rest % n) * strides[d / 4][d % 4];
    rest /= n;
  }
  return offset;
}
`;
