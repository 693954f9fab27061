/**
 * @file Registering the 'cpu-native' backend into core-tensor's registry, as @hasten/kernels-cuda
 * registers 'cuda': every kernel of 'cpu' is registered for it too, with quantLinear and matmul
 * replaced by the native ones (backend.ts). Only with the addon: `registerCpuNative()` throws (and
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
  TensorError,
} from '@hasten/core-tensor';
import { loadAddon } from './addon';
import { matmulNative, NATIVE_BACKEND, NativeCpuBackend, quantLinearNative } from './backend';

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
  const native: Record<string, KernelFn> = {
    quantLinear: quantLinearNative,
    matmul: matmulNative,
  };
  for (const k of listKernels('cpu'))
    registerKernel({ op: k.op, backend: NATIVE_BACKEND, fn: native[k.op] ?? k.fn });
  return backend;
}
