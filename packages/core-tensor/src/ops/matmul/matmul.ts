/**
 * @file Batched matrix multiply: a[..., M, K] @ b[..., K, N] -> [..., M, N], batch dimensions
 * broadcast. Transposed operands are views (b.transpose()), so no transpose flags are needed; the
 * CPU fast kernel recognises a transposed weight (HF Linear layout [N, K]) and packs it once.
 * `linear(x, w, bias?)` is x @ w^T + bias, the layer every model is made of.
 */
import { run1 } from '../../dispatch';
import { isFloat } from '../../dtype';
import { fmtShape, TensorError } from '../../errors';
import { broadcastShapes } from '../../shape';
import type { Tensor } from '../../tensor';
import { add } from '../binary/binary';

export interface MatmulAttrs {
  /** Broadcast batch shape. */
  batch: number[];
  m: number;
  k: number;
  n: number;
  /**
   * B is a constant (a model weight, set by `linear`): a fast kernel may keep a packed copy of it,
   * keyed by its storage, instead of re-packing it every call. Never set for plain `matmul`, whose
   * operands may be written in place between calls (a KV cache).
   */
  constantB?: boolean;
}

export function matmulShape(op: string, a: Tensor, b: Tensor): MatmulAttrs {
  if (a.rank < 2 || b.rank < 2) {
    throw new TensorError(
      op,
      `both operands need rank >= 2, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`,
    );
  }
  if (a.dtype !== b.dtype || !isFloat(a.dtype)) {
    throw new TensorError(
      op,
      `operands must share a float dtype (f32, f16, bf16), got ${a.dtype} and ${b.dtype}`,
    );
  }
  const [m, k] = a.shape.slice(-2);
  const [k2, n] = b.shape.slice(-2);
  if (k !== k2) {
    throw new TensorError(
      op,
      `inner dimensions differ: ${fmtShape(a.shape)} @ ${fmtShape(b.shape)} (${k} vs ${k2})`,
    );
  }
  const batch = broadcastShapes(op, a.shape.slice(0, -2), b.shape.slice(0, -2));
  return { batch, m, k, n };
}

export function matmul(a: Tensor, b: Tensor): Tensor {
  a.assertLive('matmul');
  b.assertLive('matmul');
  return run1('matmul', [a, b], matmulShape('matmul', a, b));
}

/** x[..., K] @ w[N, K]^T (+ bias[N]): the Hugging Face Linear layer. */
export function linear(x: Tensor, w: Tensor, bias?: Tensor): Tensor {
  if (w.rank !== 2) throw new TensorError('linear', `weight must be [out, in], got ${fmtShape(w.shape)}`);
  if (x.shape[x.rank - 1] !== w.shape[1]) {
    throw new TensorError(
      'linear',
      `input ${fmtShape(x.shape)} has ${x.shape[x.rank - 1]} features, weight ${fmtShape(w.shape)} expects ${w.shape[1]}`,
    );
  }
  const wt = w.transpose();
  const xa = x.rank === 1 ? x.unsqueeze(0) : x;
  const y = run1('matmul', [xa, wt], {
    ...matmulShape('linear', xa, wt),
    constantB: true,
  } satisfies MatmulAttrs);
  if (xa !== x) xa.dispose();
  wt.dispose();
  if (!bias) return y;
  const out = add(y, bias);
  y.dispose();
  return out;
}
