/**
 * @file sdpa on the native kernels (arXiv:1706.03762; grouped-query heads arXiv:2305.13245): the
 * 'cpu-native' backend's attention. f32 q, k and v read in place with their own strides (the KV
 * cache's prefix views need no copy), keys and values unit-stride along the head dimension, any
 * bool mask broadcastable to [B, Hq, S, T]: one native call (native/attention_impl.h), f32 with fused
 * multiply-adds. Everything else (other dtypes, a transposed key view, empty shapes) goes to the
 * 'cpu' kernel. The rule, masks, NaN rows and empty rows are those of core-tensor's sdpa reference;
 * only the rounding differs (f32 sums here, float64 there), which attention.test.ts bounds.
 */
import { cpuStorage, type KernelFn, type SdpaAttrs, Tensor } from '@hasten/core-tensor';
import { ISAS, loadAddon } from './addon';
import { currentSettings, resolveIsa } from './options';

/** The attention kernel of 'cpu-native', falling back to `fallback` (the 'cpu' one) where it does not apply. */
export function sdpaNativeKernel(fallback: KernelFn<SdpaAttrs>): KernelFn<SdpaAttrs> {
  // One parameter block per process: the call is synchronous, so it is never shared.
  const params = new Float64Array(27);
  return (inputs, attrs, backend) => {
    const [q, k, v] = inputs;
    const mask: Tensor | null = attrs.hasMask ? inputs[3] : null;
    const addon = loadAddon().addon;
    const [B, Hq, S, D] = q.shape;
    const [, Hkv, T] = k.shape;
    const Dv = v.shape[3];
    // Strides are never negative in core-tensor (the binding rejects them anyway).
    if (
      addon === null ||
      q.dtype !== 'f32' ||
      k.dtype !== 'f32' ||
      v.dtype !== 'f32' ||
      k.strides[3] !== 1 ||
      v.strides[3] !== 1 ||
      B * Hq * S * D * Dv === 0
    )
      return fallback(inputs, attrs, backend);
    const out = Tensor.empty(backend, [B, Hq, S, Dv], 'f32');
    const mv = mask === null ? null : mask.expand([B, Hq, S, T]);
    // Layout of the parameter block: native/attention_impl.h (attend's params).
    params[0] = B;
    params[1] = Hq;
    params[2] = Hkv;
    params[3] = S;
    params[4] = T;
    params[5] = D;
    params[6] = Dv;
    putView(params, 7, q, 4);
    putView(params, 12, k, 3);
    putView(params, 16, v, 3);
    if (mv === null) params.fill(0, 20, 25);
    else putView(params, 20, mv, 4);
    params[25] = attrs.causal ? 1 : 0;
    params[26] = attrs.scale;
    try {
      addon.attend(
        cpuStorage(q) as Float32Array,
        cpuStorage(k) as Float32Array,
        cpuStorage(v) as Float32Array,
        mv ? (cpuStorage(mv) as Uint8Array) : null,
        (cpuStorage(out) as Float32Array).subarray(out.offset, out.offset + out.size),
        params,
        ISAS.indexOf(resolveIsa(currentSettings().isa)),
      );
    } finally {
      mv?.dispose();
    }
    return out;
  };
}

/** Writes a view's offset and its first `n` strides into `params` from index `at`. */
function putView(params: Float64Array, at: number, t: Tensor, n: number): void {
  params[at] = t.offset;
  for (let i = 0; i < n; i++) params[at + 1 + i] = t.strides[i];
}
