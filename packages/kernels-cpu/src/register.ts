/**
 * @file Registering the 'cpu-native' backend into core-tensor's registry, as @hasten/kernels-cuda
 * registers 'cuda': every kernel of 'cpu' is registered for it too, with quantLinear and matmul
 * replaced by the native ones (backend.ts), sdpa by the native attention (attention.ts) and silu by silu.ts. Only with the addon: `registerCpuNative()` throws (and
 * registers nothing) where it is not built, so a caller falls back to 'cpu':
 *
 *   if (isCpuAddonAvailable()) { registerCpuNative(); setDefaultBackend('cpu-native'); }
 */
import {
  hasBackend,
  type KernelFn,
  listKernels,
  registerBackend,
  registerKernel,
  type SdpaAttrs,
  TensorError,
  type UnaryAttrs,
} from '@hasten/core-tensor';
import { loadAddon } from './addon';
import { sdpaNativeKernel } from './attention';
import { matmulNative, NATIVE_BACKEND, NativeCpuBackend, quantLinearNative } from './backend';
import { siluNativeKernel } from './silu';

/** Whether the addon is built and loads here. */
export function isCpuAddonAvailable(): boolean {
  return loadAddon().addon !== null;
}

export function registerCpuNative(): NativeCpuBackend {
  const op = 'registerCpuNative';
  if (hasBackend(NATIVE_BACKEND))
    throw new TensorError(
      op,
      `the '${NATIVE_BACKEND}' backend is already registered; use getBackend('${NATIVE_BACKEND}')`,
    );
  const load = loadAddon();
  if (!load.addon) throw new TensorError(op, load.reason);
  const backend = new NativeCpuBackend();
  registerBackend(backend);
  const cpu = new Map(listKernels('cpu').map((k) => [k.op, k.fn]));
  const native: Record<string, KernelFn> = {
    quantLinear: quantLinearNative,
    matmul: matmulNative,
  };
  const cpuSdpa = cpu.get('sdpa');
  if (cpuSdpa) native.sdpa = sdpaNativeKernel(cpuSdpa as KernelFn<SdpaAttrs>);
  const cpuSilu = cpu.get('silu');
  if (cpuSilu) native.silu = siluNativeKernel(cpuSilu as KernelFn<UnaryAttrs>);
  for (const [op, fn] of cpu) registerKernel({ op, backend: NATIVE_BACKEND, fn: native[op] ?? fn });
  return backend;
}
