/**
 * Loading without a GPU: the addon (when built) loads and reports no device cleanly, and asking for
 * the backend gives CudaUnavailableError with the cause, registering nothing. On a machine with a
 * GPU these cases do not apply and are skipped (the device tests in kernels.gpu.test.ts run there).
 */

import { existsSync } from 'node:fs';
import { hasBackend } from '@hasten/core-tensor';
import { describe, expect, it, vi } from 'vitest';
import { addonPath, loadAddon } from './addon';
import { cudaDeviceInfo, isCudaAvailable, loadCudaBackend } from './backend';
import { CudaUnavailableError } from './errors';
import { registerCuda } from './register';

const built = existsSync(addonPath());
const info = cudaDeviceInfo();
const noDevice = info.count === 0;

describe.skipIf(!built)(
  `the built addon (${built ? addonPath() : 'not built: run npm run build:addon'})`,
  () => {
    it('loads and lists its kernels', () => {
      const load = loadAddon();
      expect(load.addon).not.toBeNull();
      expect(load.addon?.kernels.sort()).toEqual(
        [
          'attention',
          'decodeAttention',
          'elementwise',
          'gemm',
          'layernorm',
          'matvec',
          'pagedAttention',
          'rmsnorm',
          'rope',
          'sample',
          'softmax',
          'topk',
        ].sort(),
      );
      expect(info.runtimeVersion).toBeGreaterThanOrEqual(12000);
    });

    it.skipIf(!noDevice)('reports no device with the CUDA error, without throwing', () => {
      expect(info.count).toBe(0);
      expect(info.devices).toEqual([]);
      expect(info.error).toMatch(/^cuda\w+ \(\d+\): /);
    });
  },
);

describe.skipIf(!noDevice)('asking for the backend without a usable GPU', () => {
  it('isCudaAvailable() is false', () => {
    expect(isCudaAvailable()).toBe(false);
  });

  it('loadCudaBackend() throws CudaUnavailableError naming the cause and the fallback', () => {
    expect(() => loadCudaBackend()).toThrow(CudaUnavailableError);
    expect(() => loadCudaBackend()).toThrow(/^no usable CUDA GPU: .*'cpu' backend \(default\) or 'webgpu'/);
    const cause = built ? /cudaGetDeviceCount failed: cuda\w+/ : /the CUDA addon is not built/;
    expect(() => loadCudaBackend()).toThrow(cause);
  });

  it('registerCuda() throws the same error and registers nothing', () => {
    expect(() => registerCuda()).toThrow(CudaUnavailableError);
    expect(hasBackend('cuda')).toBe(false);
  });

  it('rejects unknown options with the allowed keys', () => {
    expect(() => loadCudaBackend({ device: 0, gpu: 1 } as never)).toThrow(
      /Unrecognized key: "gpu"; allowed: device/,
    );
  });
});

describe('a missing addon', () => {
  it('is reported as not built, with the command that builds it', async () => {
    vi.resetModules();
    vi.stubEnv('HASTEN_CUDA_ADDON', '/nonexistent/hasten_cuda.node');
    try {
      const fresh = await import('./backend');
      expect(fresh.isCudaAvailable()).toBe(false);
      expect(fresh.cudaDeviceInfo().error).toMatch(
        /the CUDA addon is not built .*npm run build:addon -w @hasten\/kernels-cuda/,
      );
      expect(() => fresh.loadCudaBackend()).toThrow(/no usable CUDA GPU: the CUDA addon is not built/);
    } finally {
      vi.unstubAllEnvs();
      vi.resetModules();
    }
  });
});
