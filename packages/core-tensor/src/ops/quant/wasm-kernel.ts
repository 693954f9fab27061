/**
 * @file The 'cpu' quantLinear kernel: f32 inputs in a format the WebAssembly kernel runs
 * (FORMAT_CODE in qgemv-runtime.ts: f16, bf16, int8, int8-group, int4-group, Q8_0, Q4_0) go through
 * wasm/qgemv.ts, which dequantises inside the product and streams the weight once per 8 rows;
 * everything else (Q4_K, Q6_K, f16/bf16 inputs) falls back to the reference kernel.
 * Accumulation is in f32 (the reference uses f64): each output is within about
 * K * 2^-23 * sum_k |x_k w_k| of the reference, which the tests check.
 */
import type { Backend } from '../../backend';
import { cpuStorage } from '../../backends/cpu';
import { readF32 } from '../../backends/cpu-access';
import { Tensor } from '../../tensor';
import { FORMAT_CODE, getQgemvRuntime, runQgemv } from './qgemv-runtime';
import type { QuantLinearAttrs } from './quant-linear';
import { quantLinearReference } from './reference';

export function quantLinearWasm(inputs: Tensor[], attrs: QuantLinearAttrs, backend: Backend): Tensor {
  const [x] = inputs;
  const { weight, m, n } = attrs;
  if (x.dtype !== 'f32' || FORMAT_CODE[weight.format] === undefined) {
    return quantLinearReference(inputs, attrs, backend);
  }
  const out = Tensor.empty(backend, [...x.shape.slice(0, -1), n], 'f32');
  if (m === 0) return out;
  runQgemv(getQgemvRuntime(), weight, readF32(x), m, cpuStorage(out) as Float32Array);
  return out;
}
