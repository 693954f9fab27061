/**
 * @file Fast f32 conv2d for the 'cpu' backend: im2col, then one batched matrix product on the
 * WebAssembly GEMM (the matmul op's cpu kernel):
 *
 *   cols[n, (c·KH + p)·KW + q, i·OW + j] = x[n, c, i·sh + p − ph, j·sw + q − pw]   (0 outside)
 *   out[n] = weight.reshape(O, C·KH·KW) @ cols[n]   (+ bias[o] on every row o)
 *
 * which is the sum of conv2d.ts in another order and in f32 accumulation, so it matches the
 * reference to f32 rounding (the tests bound it), not bit for bit. A 1x1 kernel with stride 1 and no
 * padding skips im2col (cols is x itself). Other dtypes go to the reference kernel.
 */
import type { Backend } from '../../backend';
import { cpuStorage } from '../../backends/cpu';
import { readF32 } from '../../backends/cpu-access';
import { Tensor } from '../../tensor';
import { matmul } from '../matmul/matmul';
import type { Conv2dAttrs } from './conv2d';
import { conv2dReference } from './reference';

/** Writes the im2col matrix of `x` into `cols` (zero-filled, [N, C·KH·KW, OH·OW]). */
function im2col(x: Float32Array, a: Conv2dAttrs, cols: Float32Array): void {
  const p = a.outH * a.outW;
  const ck = a.c * a.kh * a.kw;
  const sw = a.strideW;
  for (let kq = 0; kq < a.kw; kq++) {
    // output columns j whose input column j·sw + kq − pw lies inside [0, W)
    const j0 = Math.max(0, Math.ceil((a.padW - kq) / sw));
    const j1 = Math.min(a.outW, Math.floor((a.w - 1 + a.padW - kq) / sw) + 1);
    if (j1 <= j0) continue;
    for (let n = 0; n < a.n; n++) {
      for (let c = 0; c < a.c; c++) {
        const xo = (n * a.c + c) * a.h * a.w;
        for (let kp = 0; kp < a.kh; kp++) {
          const row = (n * ck + (c * a.kh + kp) * a.kw + kq) * p;
          for (let i = 0; i < a.outH; i++) {
            const y = i * a.strideH + kp - a.padH;
            if (y < 0 || y >= a.h) continue; // stays zero
            const xr = xo + y * a.w + kq - a.padW;
            const ro = row + i * a.outW;
            if (sw === 1) cols.set(x.subarray(xr + j0, xr + j1), ro + j0);
            else for (let j = j0; j < j1; j++) cols[ro + j] = x[xr + j * sw];
          }
        }
      }
    }
  }
}

export function conv2dFast(inputs: Tensor[], a: Conv2dAttrs, backend: Backend): Tensor {
  const [x, weight, bias] = inputs;
  if (x.dtype !== 'f32') return conv2dReference(inputs, a, backend);
  const p = a.outH * a.outW;
  const ck = a.c * a.kh * a.kw;
  const pointwise = a.kh === 1 && a.kw === 1 && a.strideH === 1 && a.strideW === 1 && !a.padH && !a.padW;
  const xv = readF32(x);
  const cols = Tensor.empty(backend, [a.n, ck, p], 'f32'); // zero-filled
  const colsData = cpuStorage(cols) as Float32Array;
  if (pointwise) colsData.set(xv);
  else im2col(xv, a, colsData);
  const wc = weight.isContiguous() ? weight : weight.contiguous();
  const wm = wc.reshape([a.o, ck]);
  const y = matmul(wm, cols); // [N, O, P]
  cols.dispose();
  wm.dispose();
  if (wc !== weight) wc.dispose();
  // matmul returns a fresh contiguous tensor: reshape it in place and add the bias into it.
  const out = y.reshape([a.n, a.o, a.outH, a.outW]);
  y.dispose();
  if (bias) {
    const O = cpuStorage(out) as Float32Array;
    const b = readF32(bias);
    for (let n = 0; n < a.n; n++) {
      for (let o = 0; o < a.o; o++) {
        const bo = b[o];
        const base = out.offset + (n * a.o + o) * p;
        for (let k = 0; k < p; k++) O[base + k] += bo;
      }
    }
  }
  return out;
}
