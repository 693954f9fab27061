import { checkFiniteArray } from '../util/check.js';

// Mean squared error over all elements, (1/N) sum_i (a_i - b_i)^2, accumulated in float64 (the definition
// of skimage.metrics.mean_squared_error, and the MSE inside PSNR).

export function mse(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkFiniteArray('mse', 'a', a, { minLength: 1 });
  checkFiniteArray('mse', 'b', b, { length: a.length });
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sum += d * d;
  }
  return sum / a.length;
}
