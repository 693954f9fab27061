/**
 * @file Input checks shared by the ops: liveness, dtypes, axis lists and zod-validated options, each
 * throwing a TensorError that names the op, the shapes and what was expected.
 */
import type { z } from 'zod';
import { type DType, isFloat } from '../dtype';
import { fmtShape, TensorError } from '../errors';
import { parseOptionsWith } from '../options';
import { normalizeAxis } from '../shape';
import type { Tensor } from '../tensor';

/** `t` must be alive and of a float dtype (f32, f16, bf16). */
export function assertFloatInput(op: string, t: Tensor, name = 'input'): void {
  t.assertLive(op);
  if (!isFloat(t.dtype)) {
    throw new TensorError(
      op,
      `${name} ${fmtShape(t.shape)} has dtype ${t.dtype}; expected a float dtype (f32, f16, bf16)`,
    );
  }
}

/** `t` must be alive and have one of `allowed` dtypes. */
export function assertDTypeIn(op: string, t: Tensor, allowed: readonly DType[], name = 'input'): void {
  t.assertLive(op);
  if (!allowed.includes(t.dtype)) {
    throw new TensorError(
      op,
      `${name} ${fmtShape(t.shape)} has dtype ${t.dtype}; expected ${allowed.join(' or ')}`,
    );
  }
}

/** `t` must have the same dtype as `ref` (ops never mix dtypes silently). */
export function assertSameDType(op: string, ref: Tensor, t: Tensor, name: string): void {
  if (t.dtype !== ref.dtype) {
    throw new TensorError(
      op,
      `${name} has dtype ${t.dtype} but the input is ${ref.dtype}; cast one with cast(t, dtype) first`,
    );
  }
}

/**
 * A reduction's axes: `undefined` means all of them; negative axes count from the end. Returns them
 * sorted, and throws on a repeated axis.
 */
export function normalizeAxes(
  op: string,
  axis: number | readonly number[] | undefined,
  rank: number,
): number[] {
  if (axis === undefined) return [...Array(rank).keys()];
  const list = typeof axis === 'number' ? [axis] : axis;
  if (!Array.isArray(list))
    throw new TensorError(op, `axis must be a number, an array of numbers or undefined`);
  const axes = list.map((a) => normalizeAxis(op, a, rank));
  if (new Set(axes).size !== axes.length) {
    throw new TensorError(op, `axis list ${fmtShape(list)} repeats an axis`);
  }
  return axes.sort((a, b) => a - b);
}

/** Validate an options object with zod; the error names the op, the offending field and what is allowed. */
export function parseOptions<S extends z.ZodType>(op: string, schema: S, value: unknown): z.output<S> {
  return parseOptionsWith(schema, value, (problem) => new TensorError(op, problem));
}
