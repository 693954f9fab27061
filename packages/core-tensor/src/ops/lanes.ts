/**
 * @file Lanes along one axis of a contiguous row-major layout: the reference kernels that work along
 * an axis (softmax, cumsum, topk, concat) visit each lane as (base, stride, length).
 */
import type { Shape } from '../shape';

export interface Lanes {
  /** Elements before the axis (product of leading dims). */
  outer: number;
  /** Length of the axis. */
  n: number;
  /** Elements after the axis (product of trailing dims); also the stride along the axis. */
  inner: number;
}

export function lanesOf(shape: Shape, axis: number): Lanes {
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i];
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i];
  return { outer, n: shape[axis], inner };
}

/** Calls fn(base, stride) once per lane; element j of the lane sits at base + j * stride. */
export function forEachLane(
  shape: Shape,
  axis: number,
  fn: (base: number, stride: number, n: number) => void,
): void {
  const { outer, n, inner } = lanesOf(shape, axis);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) fn(o * n * inner + i, inner, n);
  }
}
