/**
 * The WebGPU backend against the core-tensor contract: it is found in CI (or the test fails with the
 * missing setup step), ops only enqueue work and `read` is the one wait, storages can be freed right
 * after use, the registry refuses duplicates, and failures are loud (dtype, missing kernel, GPU error).
 */
import {
  add,
  exp,
  getBackend,
  listBackends,
  matmul,
  rand,
  randn,
  registerKernel,
  scopeAsync,
  softmax,
  Tensor,
  TensorError,
  tensor,
} from '@hasten/core-tensor';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebGpuBackend } from './backend';
import { createNodeWebGpu, diagnoseNoAdapter, registerNodeWebGpu } from './node';
import { registerWebGpu } from './register';
import { onBoth, randomValues } from './testing';

let backend: WebGpuBackend;

beforeAll(async () => {
  // Throws "no WebGPU adapter: <the missing setup step>" and fails every test here (never skips).
  backend = await registerNodeWebGpu();
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the webgpu backend in Node', () => {
  it('is registered and names its adapter', () => {
    expect(listBackends()).toContain('webgpu');
    expect(getBackend('webgpu')).toBe(backend);
    expect(backend.describe()).toMatch(/^webgpu: \S/);
  });

  it('enqueues ops without reading back: read runs only when data is requested', async () => {
    await scopeAsync(async () => {
      const read = vi.spyOn(backend, 'read');
      const x = tensor(randomValues(1, 8 * 32), [8, 32], { device: 'webgpu' });
      const w = tensor(randomValues(2, 16 * 32), [16, 32], { device: 'webgpu' });
      const bias = tensor(randomValues(3, 16), [16], { device: 'webgpu' });
      const y = softmax(add(matmul(x, w.transpose()), bias));
      expect(y).toBeInstanceOf(Tensor); // returned synchronously, nothing awaited
      expect(read).not.toHaveBeenCalled();
      const p = await y.data();
      expect(read).toHaveBeenCalledTimes(1);
      // Rows of a softmax sum to 1: the chained work really ran before the read resolved.
      for (let r = 0; r < 8; r++)
        expect(Array.from(p.slice(r * 16, r * 16 + 16)).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    });
  });

  it('frees inputs right after an op is enqueued without corrupting the result', async () => {
    const A = await onBoth(randomValues(4, 20 * 30), [20, 30]);
    const B = await onBoth(randomValues(5, 30 * 10), [30, 10]);
    const got = matmul(A.gpu, B.gpu);
    A.gpu.dispose(); // destroys the GPUBuffer while the matmul may still be queued
    B.gpu.dispose();
    const want = await matmul(A.ref, B.ref).data();
    const g = await got.data();
    for (let i = 0; i < want.length; i++) expect(Math.abs(g[i] - want[i])).toBeLessThan(1e-5);
    got.dispose();
  });

  it('sync() resolves once queued work is done', async () => {
    const t = add(tensor([1, 2, 3], [3], { device: 'webgpu' }), 1);
    await backend.sync();
    expect(await t.array()).toEqual([2, 3, 4]);
  });

  it('moves data between the cpu and webgpu backends', async () => {
    const c = tensor([1.5, -2, 3], [3], { device: 'cpu' });
    const g = await c.to('webgpu');
    expect(g.device).toBe('webgpu');
    const back = await mul2(g).to('cpu');
    expect(back.device).toBe('cpu');
    expect(await back.array()).toEqual([3, -4, 6]);
  });
});

const mul2 = (t: Tensor) => add(t, t);

describe('random tensors are the same stream on every backend', () => {
  it('randn and rand with a seed give the cpu values bit for bit on webgpu, in every float dtype', async () => {
    for (const dtype of ['f32', 'f16', 'bf16'] as const) {
      const g = randn([3, 50], { seed: 7, dtype, device: 'webgpu' });
      const c = randn([3, 50], { seed: 7, dtype, device: 'cpu' });
      expect(g.device).toBe('webgpu');
      expect(await g.raw()).toEqual(await c.raw());
      const u = rand([101], { seed: 8, dtype, low: -2, high: 3, device: 'webgpu' });
      expect(await u.raw()).toEqual(await rand([101], { seed: 8, dtype, low: -2, high: 3 }).raw());
    }
  });
});

describe('the registry carries the webgpu kernels', () => {
  it('refuses a second kernel for the same (op, webgpu) key', () => {
    expect(() => registerKernel({ op: 'matmul', backend: 'webgpu', fn: () => [] })).toThrow(
      /kernel for op 'matmul' on backend 'webgpu' is already registered/,
    );
  });

  it('refuses to register the webgpu backend twice', async () => {
    await expect(registerWebGpu(backend.device)).rejects.toThrow(/'webgpu' backend is already registered/);
  });
});

describe('failures are loud', () => {
  it('rejects dtypes other than f32 with a TensorError naming the op and dtype', async () => {
    const h = await tensor([1, 2, 3, 4], [2, 2], { dtype: 'f16', device: 'reference' }).to('webgpu');
    expect(() => matmul(h, h)).toThrow(TensorError);
    expect(() => matmul(h, h)).toThrow(/matmul: a has dtype f16; the webgpu backend has f32 kernels only/);
    const i = tensor([1, 2], [2], { dtype: 'i32', device: 'webgpu' });
    expect(() => add(i, i)).toThrow(/add: a has dtype i32/);
  });

  it('names the backend when an op has no webgpu kernel yet', () => {
    const x = tensor([1, 2], [2], { device: 'webgpu' });
    expect(() => exp(x)).toThrow(/op 'exp' has no kernel on backend 'webgpu'/);
  });

  it('refuses inputs on different backends', () => {
    const g = tensor([1, 2], [2], { device: 'webgpu' });
    const r = tensor([1, 2], [2], { device: 'reference' });
    expect(() => add(g, r)).toThrow(/different backends/);
  });

  it('throws a failed GPU command from the next read instead of returning stale zeros', async () => {
    // A separate, unregistered device: a GPU error makes its backend unusable on purpose.
    const device = await createNodeWebGpu();
    device.addEventListener('uncapturederror', (e) => e.preventDefault()); // keep Dawn's log out of the test output
    const side = new WebGpuBackend(device);
    const out = side.alloc(16);
    side.dispatch('broken', () => 'this is not WGSL', new Uint32Array(4), [out], [1]);
    await expect(side.read(out, 0, 16)).rejects.toThrow(
      /webgpu read: an earlier GPU command failed: .*WGSL/s,
    );
    side.device.destroy();
  });
});

describe('no adapter: the error names the missing setup step', () => {
  const ok = {
    platform: 'linux',
    icdEnv: undefined,
    icdFilesExist: false,
    swiftshaderIcd: undefined,
    libVulkan: true,
  };
  const hint =
    /run `\. scripts\/setup\.sh` \(installs chromium for SwiftShader's Vulkan driver and libvulkan1\)/;

  it.each([
    [{ ...ok, libVulkan: false }, /libvulkan1 .* is not installed/],
    [{ ...ok, icdEnv: '/nope/icd.json' }, /VK_ICD_FILENAMES points to a missing file \(\/nope\/icd\.json\)/],
    [ok, /VK_ICD_FILENAMES is not set and SwiftShader's Vulkan driver .* is not installed/],
    [
      { ...ok, swiftshaderIcd: '/usr/lib/chromium/vk_swiftshader_icd.json' },
      /Dawn accepted no Vulkan driver from VK_ICD_FILENAMES=\/usr\/lib\/chromium/,
    ],
  ])('%o', (probe, why) => {
    const msg = diagnoseNoAdapter(probe);
    expect(msg).toMatch(/^no WebGPU adapter: /);
    expect(msg).toMatch(why);
    expect(msg).toMatch(hint);
  });

  it('createNodeWebGpu fails with that message when VK_ICD_FILENAMES points to a missing file', async () => {
    const saved = process.env.VK_ICD_FILENAMES;
    process.env.VK_ICD_FILENAMES = '/nonexistent/vk_icd.json';
    try {
      await expect(createNodeWebGpu()).rejects.toThrow(
        /no WebGPU adapter: VK_ICD_FILENAMES points to a missing file .*scripts\/setup\.sh/,
      );
    } finally {
      // Assigning undefined would store the string 'undefined'.
      if (saved === undefined) delete process.env.VK_ICD_FILENAMES;
      else process.env.VK_ICD_FILENAMES = saved;
    }
  });
});
