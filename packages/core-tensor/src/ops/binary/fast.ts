/**
 * @file Fast f32 add, sub, mul and div for the 'cpu' backend. Both operands are read straight from
 * storage through their broadcast views (stride 0 along broadcast dimensions), a row of the output
 * at a time; the common cases (same-shape contiguous operands, a row vector such as a bias, a
 * scalar) get their own loops. Each element is the float64 result rounded once to f32, which for
 * these four operations is the correctly rounded f32 result, bit for bit the reference's. Other ops
 * and dtypes go to the reference kernel.
 */
import type { Backend } from '../../backend';
import { cpuStorage } from '../../backends/cpu';
import { rowOffsets } from '../../backends/cpu-rows';
import { Tensor } from '../../tensor';
import type { BinaryAttrs, BinaryOpName } from './binary';
import { binaryReference } from './reference';

const FAST_OPS: ReadonlySet<BinaryOpName> = new Set(['add', 'sub', 'mul', 'div']);

/** o[oo + j] = a[ao + j·as] (op) b[bo + j·bs] for j < n. */
function row(
  op: BinaryOpName,
  A: Float32Array,
  ao: number,
  as: number,
  B: Float32Array,
  bo: number,
  bs: number,
  O: Float32Array,
  oo: number,
  n: number,
): void {
  if (as === 1 && bs === 1) {
    if (op === 'add') for (let j = 0; j < n; j++) O[oo + j] = A[ao + j] + B[bo + j];
    else if (op === 'mul') for (let j = 0; j < n; j++) O[oo + j] = A[ao + j] * B[bo + j];
    else if (op === 'sub') for (let j = 0; j < n; j++) O[oo + j] = A[ao + j] - B[bo + j];
    else for (let j = 0; j < n; j++) O[oo + j] = A[ao + j] / B[bo + j];
    return;
  }
  if (op === 'add') for (let j = 0; j < n; j++) O[oo + j] = A[ao + j * as] + B[bo + j * bs];
  else if (op === 'mul') for (let j = 0; j < n; j++) O[oo + j] = A[ao + j * as] * B[bo + j * bs];
  else if (op === 'sub') for (let j = 0; j < n; j++) O[oo + j] = A[ao + j * as] - B[bo + j * bs];
  else for (let j = 0; j < n; j++) O[oo + j] = A[ao + j * as] / B[bo + j * bs];
}

export function binaryFast(inputs: Tensor[], attrs: BinaryAttrs, backend: Backend): Tensor {
  const [a, b] = inputs;
  const { op, shape } = attrs;
  if (a.dtype !== 'f32' || !FAST_OPS.has(op)) return binaryReference(inputs, attrs, backend);
  const out = Tensor.empty(backend, shape, 'f32');
  const O = cpuStorage(out) as Float32Array;
  const A = cpuStorage(a) as Float32Array;
  const B = cpuStorage(b) as Float32Array;
  if (out.size === 0) return out;
  // Same shape, both contiguous: one flat loop.
  if (a.size === out.size && b.size === out.size && a.isContiguous() && b.isContiguous()) {
    row(op, A, a.offset, 1, B, b.offset, 1, O, 0, out.size);
    return out;
  }
  const av = a.expand(shape);
  const bv = b.expand(shape);
  const r = shape.length;
  const n = r ? shape[r - 1] : 1;
  const as = r ? av.strides[r - 1] : 1;
  const bs = r ? bv.strides[r - 1] : 1;
  const aRows = rowOffsets(av.shape, av.strides, av.offset);
  const bRows = rowOffsets(bv.shape, bv.strides, bv.offset);
  av.dispose();
  bv.dispose();
  for (let i = 0; i < aRows.length; i++) row(op, A, aRows[i], as, B, bRows[i], bs, O, i * n, n);
  return out;
}
