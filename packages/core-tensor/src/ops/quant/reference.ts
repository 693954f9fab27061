/**
 * @file The reference quantLinear kernel: decode each weight row to float64 (dequantize-row.ts,
 * one readable decoder per format), then y[r, n] = sum_k x[r, k] * W[n, k] accumulated in float64.
 */
import type { Backend } from '../../backend';
import { readF64, writeValues } from '../../backends/cpu-access';
import { Tensor } from '../../tensor';
import { dequantizeRow } from './dequantize-row';
import type { QuantLinearAttrs } from './quant-linear';

export function quantLinearReference(inputs: Tensor[], attrs: QuantLinearAttrs, backend: Backend): Tensor {
  const [x] = inputs;
  const { weight, m, k, n } = attrs;
  const xs = readF64(x);
  const y = new Float64Array(m * n);
  const w = new Float64Array(k);
  for (let j = 0; j < n; j++) {
    dequantizeRow(weight, j, w);
    for (let r = 0; r < m; r++) {
      let s = 0;
      for (let q = 0; q < k; q++) s += xs[r * k + q] * w[q];
      y[r * n + j] = s;
    }
  }
  const out = Tensor.empty(backend, [...x.shape.slice(0, -1), n], x.dtype);
  writeValues(out, y);
  return out;
}
