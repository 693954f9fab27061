/**
 * @file Softmax and log-softmax of one row of logits in float64, shared by the filtering
 * processors. -Infinity logits get probability 0 (log-probability -Infinity); the row must hold at
 * least one finite logit.
 */
import { DecodingError } from '../errors';

/** Largest finite-or-minus-infinity value of a row; throws on NaN or +Infinity. */
export function maxLogit(logits: ArrayLike<number>, where: string): number {
  let m = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) {
    const x = logits[i];
    if (Number.isNaN(x) || x === Number.POSITIVE_INFINITY) {
      throw new DecodingError(
        'logits',
        `${where}: logit of token ${i} is ${x}; logits must be finite or -Infinity`,
      );
    }
    if (x > m) m = x;
  }
  if (m === Number.NEGATIVE_INFINITY) {
    throw new DecodingError('logits', `${where}: every token is masked (all logits are -Infinity)`);
  }
  return m;
}

/** log softmax(logits) in f64. */
export function logSoftmax(logits: ArrayLike<number>, where: string): Float64Array {
  const m = maxLogit(logits, where);
  let z = 0;
  for (let i = 0; i < logits.length; i++) z += Math.exp(logits[i] - m);
  const lse = m + Math.log(z);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i] - lse;
  return out;
}

/** softmax(logits) in f64. */
export function softmax(logits: ArrayLike<number>, where: string): Float64Array {
  const m = maxLogit(logits, where);
  const out = new Float64Array(logits.length);
  let z = 0;
  for (let i = 0; i < logits.length; i++) {
    out[i] = Math.exp(logits[i] - m);
    z += out[i];
  }
  for (let i = 0; i < logits.length; i++) out[i] /= z;
  return out;
}

/** Token indices by decreasing `values`, ties by increasing index. */
export function orderDescending(values: ArrayLike<number>): number[] {
  const idx = Array.from({ length: values.length }, (_, i) => i);
  return idx.sort((a, b) => values[b] - values[a] || a - b);
}
