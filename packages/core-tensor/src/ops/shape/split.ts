/**
 * @file split: cut a tensor along an axis into `count` equal parts or parts of the given `sizes`.
 * The parts are views of the input (no copy); dispose each one.
 */
import { fmtShape, TensorError } from '../../errors';
import { normalizeAxis } from '../../shape';
import type { Tensor } from '../../tensor';

export function split(t: Tensor, sizesOrCount: number | readonly number[], axis: number): Tensor[] {
  const op = 'split';
  t.assertLive(op);
  const ax = normalizeAxis(op, axis, t.rank);
  const n = t.shape[ax];
  let sizes: number[];
  if (typeof sizesOrCount === 'number') {
    const count = sizesOrCount;
    if (!Number.isInteger(count) || count < 1 || n % count !== 0) {
      throw new TensorError(
        op,
        `cannot split axis ${axis} of size ${n} (input ${fmtShape(t.shape)}) into ${count} equal parts`,
      );
    }
    sizes = new Array<number>(count).fill(n / count);
  } else {
    sizes = [...sizesOrCount];
    const total = sizes.reduce((a, b) => a + b, 0);
    if (sizes.length === 0 || sizes.some((s) => !Number.isInteger(s) || s < 0) || total !== n) {
      throw new TensorError(
        op,
        `sizes ${fmtShape(sizes)} must be non-negative integers summing to ${n} (axis ${axis} of ${fmtShape(t.shape)})`,
      );
    }
  }
  let start = 0;
  return sizes.map((s) => {
    const part = t.slice(ax, start, start + s);
    start += s;
    return part;
  });
}
