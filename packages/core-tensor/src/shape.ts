/** @file Shape arithmetic: sizes, strides, broadcasting and axis normalisation. */
import { fmtShape, TensorError } from './errors';

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

export function assertShape(op: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new TensorError(
      op,
      `shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`,
    );
  }
  return shape.slice();
}

/**
 * Strides that present a view with `shape`/`strides` as `target` (same element count) without
 * moving data, or null when no strides can. The source's non-size-1 dimensions fall into runs that
 * are laid out one inside the other (strides[d] = strides[d + 1] · shape[d + 1]); a run behaves like
 * one flat dimension, so the target may split or merge dimensions inside a run but never across two.
 * Example: a [4, 6] tensor sliced to its first 3 columns is [4, 3] with strides [6, 1]: it views as
 * [2, 2, 3] (strides [12, 6, 1]) but not as [12]. Size-1 target dimensions take any stride.
 */
export function viewStrides(shape: Shape, strides: Shape, target: Shape): number[] | null {
  if (sizeOf(shape) === 0) return contiguousStrides(target); // nothing is addressed
  const dims: number[] = [];
  const dimStrides: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue; // a size-1 dimension's stride never matters
    dims.push(shape[d]);
    dimStrides.push(strides[d]);
  }
  const out = new Array<number>(target.length).fill(1);
  let t = target.length - 1; // next target dimension to place, from the right
  let d = dims.length - 1;
  while (d >= 0) {
    // One run, dims[lo..d]: its innermost stride and its element count.
    const base = dimStrides[d];
    let count = dims[d];
    let lo = d;
    while (lo > 0 && dimStrides[lo - 1] === dimStrides[lo] * dims[lo]) count *= dims[--lo];
    // Target dimensions from the right fill the run exactly, or the layout cannot be viewed.
    let placed = 1;
    while (t >= 0 && placed < count) {
      out[t] = base * placed;
      placed *= target[t--];
    }
    if (placed !== count) return null;
    d = lo - 1;
  }
  for (; t >= 0; t--) if (target[t] !== 1) return null;
  return out;
}

/** NumPy broadcasting of two shapes; throws naming the op and both shapes. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new TensorError(
        op,
        `cannot broadcast shapes ${fmtShape(a)} and ${fmtShape(b)}: dimension ${i} is ${da} vs ${db} (must be equal or 1)`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Map a possibly negative axis into [0, rank). */
export function normalizeAxis(op: string, axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new TensorError(
      op,
      `axis ${axis} is out of range for a tensor of rank ${rank} (allowed ${-rank}..${rank - 1})`,
    );
  }
  return axis < 0 ? axis + rank : axis;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
