/**
 * @file A JS number as a 0-d tensor of a given dtype, for ops that take `Tensor | number` operands
 * (binary ops, where, maskedFill). The number takes the tensor operand's dtype, so it must be a value
 * that dtype holds: an integer dtype refuses fractions and out-of-range values instead of truncating
 * or wrapping them silently (a float dtype rounds, as any float store does).
 */
import { encodeValues, fromStorageArray } from '../creation';
import { type DType, isFloat } from '../dtype';
import { TensorError } from '../errors';
import type { Tensor } from '../tensor';

const INT_RANGE: Partial<Record<DType, [number, number]>> = {
  i32: [-(2 ** 31), 2 ** 31 - 1],
  i8: [-128, 127],
  u8: [0, 255],
  bool: [0, 1],
};

/** A 0-d tensor holding `value` in `dtype` on `device`; `op` names the caller in errors. */
export function scalar(op: string, value: number, dtype: DType, device: string): Tensor {
  if (typeof value !== 'number') throw new TensorError(op, `expected a number operand, got ${typeof value}`);
  const range = INT_RANGE[dtype];
  if (!isFloat(dtype) && range && (!Number.isInteger(value) || value < range[0] || value > range[1])) {
    throw new TensorError(
      op,
      `value ${value} cannot be stored in dtype ${dtype} (integers ${range[0]}..${range[1]}); cast the tensor to a float dtype first`,
    );
  }
  return fromStorageArray(encodeValues([value], dtype), [], dtype, device);
}
