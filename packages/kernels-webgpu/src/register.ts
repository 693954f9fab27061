/**
 * @file Registering the 'webgpu' backend and its kernels into core-tensor's registry. In a browser
 * the device comes from `navigator.gpu`; in Node pass the one from `createNodeWebGpu()`
 * (`@hasten/kernels-webgpu/node`).
 */
import { hasBackend, hasKernel, type KernelFn, registerBackend, registerKernel } from '@hasten/core-tensor';
import { WebGpuBackend } from './backend';
import { binaryWebGpu, WEBGPU_BINARY_OPS } from './ops/binary';
import { copyWebGpu } from './ops/copy';
import { matmulWebGpu } from './ops/matmul';
import { softmaxWebGpu } from './ops/softmax';

/** The kernels this backend has so far; every other op throws "no kernel on backend 'webgpu'". */
export const WEBGPU_KERNELS: Readonly<Record<string, KernelFn>> = {
  copy: copyWebGpu,
  matmul: matmulWebGpu,
  softmax: softmaxWebGpu,
  logSoftmax: softmaxWebGpu,
  ...Object.fromEntries(WEBGPU_BINARY_OPS.map((op) => [op, binaryWebGpu(op)])),
};

/** Request a device from the adapter with its full buffer limits (the defaults are 256/128 MiB). */
export async function requestDevice(adapter: GPUAdapter): Promise<GPUDevice> {
  return adapter.requestDevice({
    requiredLimits: {
      maxBufferSize: adapter.limits.maxBufferSize,
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    },
  });
}

async function browserDevice(): Promise<GPUDevice> {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) {
    throw new Error(
      'registerWebGpu: navigator.gpu is not available (no WebGPU in this browser or context). ' +
        "In Node, pass a device: registerWebGpu(await createNodeWebGpu()) from '@hasten/kernels-webgpu/node'.",
    );
  }
  const adapter = await gpu.requestAdapter();
  if (!adapter)
    throw new Error(
      'registerWebGpu: navigator.gpu.requestAdapter() found no adapter (WebGPU disabled or unsupported GPU)',
    );
  return requestDevice(adapter);
}

/**
 * Register the 'webgpu' backend on `device` (default: a device from navigator.gpu) with all of
 * WEBGPU_KERNELS. Like the registry itself, it throws if 'webgpu' or any of its kernels is already
 * registered, and then registers nothing.
 */
export async function registerWebGpu(device?: GPUDevice): Promise<WebGpuBackend> {
  const taken = Object.keys(WEBGPU_KERNELS).filter((op) => hasKernel(op, 'webgpu'));
  if (hasBackend('webgpu') || taken.length) {
    throw new Error(
      `registerWebGpu: the 'webgpu' backend is already registered${taken.length ? ` (kernels: ${taken.join(', ')})` : ''}; use getBackend('webgpu')`,
    );
  }
  const backend = new WebGpuBackend(device ?? (await browserDevice()));
  registerBackend(backend);
  for (const [op, fn] of Object.entries(WEBGPU_KERNELS)) registerKernel({ op, backend: 'webgpu', fn });
  return backend;
}
