/**
 * @file Reference kernel for the reductions: one pass over the input in row-major order, each element
 * accumulated (float64) into its output slot; logsumexp takes a second pass after the maxima.
 */

import type { Backend } from '../../backend';
import { readF64, writeValues } from '../../backends/cpu-access';
import { contiguousStrides, sizeOf } from '../../shape';
import { Tensor } from '../../tensor';
import type { ReduceAttrs } from './reduce';

/** For each input element (row-major), its output slot and its row-major index among the reduced axes. */
function slots(shape: readonly number[], axes: number[]): { out: Int32Array; inner: Int32Array } {
  const n = sizeOf(shape);
  const keptShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const keptStrides = contiguousStrides(keptShape).map((s, i) => (axes.includes(i) ? 0 : s));
  const redShape = shape.map((d, i) => (axes.includes(i) ? d : 1));
  const redStrides = contiguousStrides(redShape).map((s, i) => (axes.includes(i) ? s : 0));
  const out = new Int32Array(n);
  const inner = new Int32Array(n);
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    let o = 0;
    let r = 0;
    for (let d = 0; d < shape.length; d++) {
      o += idx[d] * keptStrides[d];
      r += idx[d] * redStrides[d];
    }
    out[i] = o;
    inner[i] = r;
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return { out, inner };
}

export function reduceReference(
  [t]: Tensor[],
  { op, axes, shape, dtype }: ReduceAttrs,
  backend: Backend,
): Tensor {
  const result = Tensor.empty(backend, shape, dtype);
  const x = readF64(t);
  const { out, inner } = slots(t.shape, axes);
  const m = sizeOf(shape);
  const count = axes.reduce((p, a) => p * t.shape[a], 1);
  const acc = new Float64Array(m);
  if (op === 'sum' || op === 'mean') {
    for (let i = 0; i < x.length; i++) acc[out[i]] += x[i];
    if (op === 'mean') for (let j = 0; j < m; j++) acc[j] /= count;
  } else if (op === 'max' || op === 'min') {
    const better = op === 'max' ? (a: number, b: number) => a > b : (a: number, b: number) => a < b;
    acc.fill(op === 'max' ? -Infinity : Infinity);
    for (let i = 0; i < x.length; i++) {
      const o = out[i];
      if (Number.isNaN(x[i]) || better(x[i], acc[o])) acc[o] = Number.isNaN(acc[o]) ? acc[o] : x[i];
    }
  } else if (op === 'argmax') {
    const best = new Float64Array(m).fill(Number.NaN);
    const seen = new Uint8Array(m);
    for (let i = 0; i < x.length; i++) {
      const o = out[i];
      const v = x[i];
      // First element, first NaN, or strictly greater (ties keep the earlier, lower index).
      if (!seen[o] || (!Number.isNaN(best[o]) && (Number.isNaN(v) || v > best[o]))) {
        seen[o] = 1;
        best[o] = v;
        acc[o] = inner[i];
      }
    }
  } else {
    const mx = new Float64Array(m).fill(-Infinity);
    for (let i = 0; i < x.length; i++) {
      const o = out[i];
      if (!Number.isNaN(mx[o]) && !(x[i] <= mx[o])) mx[o] = x[i]; // a NaN sticks
    }
    for (let i = 0; i < x.length; i++) {
      const o = out[i];
      // An all -Inf (or +Inf) set has nothing to shift by: its logsumexp is the maximum itself.
      if (Number.isFinite(mx[o])) acc[o] += Math.exp(x[i] - mx[o]);
    }
    for (let j = 0; j < m; j++) acc[j] = Number.isFinite(mx[j]) ? mx[j] + Math.log(acc[j]) : mx[j];
  }
  writeValues(result, acc);
  return result;
}
