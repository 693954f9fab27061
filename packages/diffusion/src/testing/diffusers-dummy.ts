/**
 * @file The deterministic inputs of diffusers' scheduler tests, as facts
 * (huggingface/diffusers:tests/schedulers/test_schedulers.py, `dummy_sample_deter`,
 * `dummy_noise_deter`, `dummy_model`): a 4×3×8×8 batch whose values are arange(768)/768 (the noise:
 * its reverse), and the model `sample · t/(t + 1)`. Both are elementwise and the published figures
 * are sums and means of |x|, so the flat order of values does not matter as long as sample value
 * k/768 meets noise value (767 − k)/768, which the tests' identical reshape/permute guarantees.
 */
export const DUMMY_SIZE = 4 * 3 * 8 * 8;

export function dummySampleDeter(): Float64Array<ArrayBufferLike> {
  return Float64Array.from({ length: DUMMY_SIZE }, (_, i) => i / DUMMY_SIZE);
}

export function dummyNoiseDeter(): Float64Array<ArrayBufferLike> {
  return Float64Array.from({ length: DUMMY_SIZE }, (_, i) => (DUMMY_SIZE - 1 - i) / DUMMY_SIZE);
}

export function dummyModel(x: Float64Array, t: number): Float64Array {
  return x.map((v) => (v * t) / (t + 1));
}

export function absSum(x: Float64Array): number {
  let s = 0;
  for (const v of x) s += Math.abs(v);
  return s;
}

export function absMean(x: Float64Array): number {
  return absSum(x) / x.length;
}
