/**
 * @file Registering the 'cuda' backend and its kernels into core-tensor's registry, as
 * @hasten/kernels-webgpu registers 'webgpu'. Only with a device: `registerCuda()` throws
 * CudaUnavailableError (and registers nothing) where no usable GPU is found, so a caller can fall
 * back to the 'cpu' or 'webgpu' backend:
 *
 *   if (isCudaAvailable()) registerCuda(); // else the default 'cpu' backend serves
 */
import { hasBackend, hasKernel, registerBackend, registerKernel } from '@hasten/core-tensor';
import { type CudaBackend, type LoadCudaBackendOptions, loadCudaBackend } from './backend';
import { cudaCoreKernels } from './core-kernels';

/** Register `backend` (any CudaBackend, e.g. one with a stand-in context in tests) and its kernels. */
export function registerCudaBackend(backend: CudaBackend): CudaBackend {
  const kernels = cudaCoreKernels(backend);
  const taken = Object.keys(kernels).filter((op) => hasKernel(op, 'cuda'));
  if (hasBackend('cuda') || taken.length) {
    throw new Error(
      `registerCuda: the 'cuda' backend is already registered${taken.length ? ` (kernels: ${taken.join(', ')})` : ''}; use getBackend('cuda')`,
    );
  }
  registerBackend(backend);
  for (const [op, fn] of Object.entries(kernels)) registerKernel({ op, backend: 'cuda', fn });
  return backend;
}

/** Load the backend on a device and register it; throws CudaUnavailableError without a usable GPU. */
export function registerCuda(options?: LoadCudaBackendOptions): CudaBackend {
  if (hasBackend('cuda')) {
    throw new Error("registerCuda: the 'cuda' backend is already registered; use getBackend('cuda')");
  }
  return registerCudaBackend(loadCudaBackend(options));
}
