import { checkFiniteArray } from '../util/check.js';

// Mean squared error over all elements, accumulated in float64.

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
