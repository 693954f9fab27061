/** @file Reference conv2d: the literal sum of conv2d.ts in float64, one output element at a time. */
import type { Backend } from '../../backend';
import { readF64, writeValues } from '../../backends/cpu-access';
import { Tensor } from '../../tensor';
import type { Conv2dAttrs } from './conv2d';

export function conv2dReference(inputs: Tensor[], a: Conv2dAttrs, backend: Backend): Tensor {
  const x = readF64(inputs[0]);
  const wt = readF64(inputs[1]);
  const bias = a.hasBias ? readF64(inputs[2]) : null;
  const out = Tensor.empty(backend, [a.n, a.o, a.outH, a.outW], inputs[0].dtype);
  const v = new Float64Array(out.size);
  let k = 0;
  for (let n = 0; n < a.n; n++) {
    for (let o = 0; o < a.o; o++) {
      for (let i = 0; i < a.outH; i++) {
        for (let j = 0; j < a.outW; j++) {
          let s = bias ? bias[o] : 0;
          for (let c = 0; c < a.c; c++) {
            for (let p = 0; p < a.kh; p++) {
              const y = i * a.strideH + p - a.padH;
              if (y < 0 || y >= a.h) continue;
              for (let q = 0; q < a.kw; q++) {
                const xx = j * a.strideW + q - a.padW;
                if (xx < 0 || xx >= a.w) continue;
                s += x[((n * a.c + c) * a.h + y) * a.w + xx] * wt[((o * a.c + c) * a.kh + p) * a.kw + q];
              }
            }
          }
          v[k++] = s;
        }
      }
    }
  }
  writeValues(out, v);
  return out;
}
