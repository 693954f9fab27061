/**
 * @file silu (x · σ(x), the SwiGLU gate of Llama-family MLPs; Elfwing et al. arXiv:1702.03118) on
 * the native kernels: the 'cpu-native' backend's kernel for core-tensor's 'silu' op. A contiguous f32
 * tensor goes to one addon call (σ as core-tensor's reference computes it, from exp(-|x|), in f32);
 * anything else to the 'cpu' kernel (whose loop calls Math.exp once per element).
 */
import { cpuStorage, type KernelFn, Tensor, type UnaryAttrs } from '@hasten/core-tensor';
import { loadAddon } from './addon';

/** The silu kernel of 'cpu-native', falling back to `fallback` (the 'cpu' one) where it does not apply. */
export function siluNativeKernel(fallback: KernelFn<UnaryAttrs>): KernelFn<UnaryAttrs> {
  return (inputs, attrs, backend) => {
    const [x] = inputs;
    const addon = loadAddon().addon;
    if (addon === null || attrs.op !== 'silu' || x.dtype !== 'f32' || !x.isContiguous() || x.size === 0)
      return fallback(inputs, attrs, backend);
    const out = Tensor.empty(backend, x.shape, 'f32');
    addon.silu(
      (cpuStorage(x) as Float32Array).subarray(x.offset, x.offset + x.size),
      (cpuStorage(out) as Float32Array).subarray(out.offset, out.offset + out.size),
    );
    return out;
  };
}
