/**
 * @file Reference matmul: three plain loops with float64 accumulation over broadcast batch views.
 * The ground truth for every fast matmul (CPU WebAssembly, WebGPU, CUDA).
 */

import type { Backend } from '../../backend';
import { readF64, writeValues } from '../../backends/cpu-access';
import { sizeOf } from '../../shape';
import { Tensor } from '../../tensor';
import type { MatmulAttrs } from './matmul';

export function matmulReference([a, b]: Tensor[], { batch, m, k, n }: MatmulAttrs, backend: Backend): Tensor {
  const out = Tensor.empty(backend, [...batch, m, n], a.dtype);
  const av = a.expand([...batch, m, k]);
  const bv = b.expand([...batch, k, n]);
  const x = readF64(av);
  const y = readF64(bv);
  av.dispose();
  bv.dispose();
  const r = new Float64Array(sizeOf(batch) * m * n);
  for (let p = 0; p < sizeOf(batch); p++) {
    const xo = p * m * k;
    const yo = p * k * n;
    const ro = p * m * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) s += x[xo + i * k + q] * y[yo + q * n + j];
        r[ro + i * n + j] = s;
      }
    }
  }
  writeValues(out, r);
  return out;
}
