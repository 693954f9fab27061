/**
 * The TypeScript layers over a stand-in context (src/fake-context.ts): the Backend contract
 * (zero-filled alloc, write/read, ownership and free checks), registration into core-tensor, and how
 * core-tensor ops map onto launches. The kernels themselves only run on a GPU (kernels.gpu.test.ts).
 */
import { getBackend, hasKernel, linear, matmul, rmsnorm, softmax, tensor } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { CudaBackend } from './backend';
import { FakeContext } from './fake-context';
import { registerCudaBackend } from './register';

const ctx = new FakeContext();
const backend = registerCudaBackend(new CudaBackend(ctx, 'cuda: stand-in'));

describe('CudaBackend (Backend contract) over a stand-in context', () => {
  it('allocates zero-filled buffers and round-trips writes through read', async () => {
    const b = backend.alloc(16);
    expect([...(await backend.read(b, 0, 16))]).toEqual(new Array(16).fill(0));
    backend.write(b, 4, Uint8Array.from([1, 2, 3]));
    expect([...(await backend.read(b, 3, 5))]).toEqual([0, 1, 2, 3, 0]);
    backend.free(b);
  });

  it('rejects out-of-range writes, freed buffers and another backend buffers', async () => {
    const b = backend.alloc(8);
    expect(() => backend.write(b, 6, new Uint8Array(4))).toThrow(/4 bytes at 6 do not fit a 8-byte buffer/);
    backend.free(b);
    await expect(backend.read(b, 0, 1)).rejects.toThrow(/the buffer was already freed/);
    const other = new CudaBackend(new FakeContext(), 'other');
    const foreign = other.empty('f32', [2, 2]);
    const mine = backend.empty('f32', [2, 2]);
    expect(() => backend.gemm({ a: foreign, b: mine, out: mine })).toThrow(
      /argument 'a' is a tensor of another backend/,
    );
  });

  it('registers as core-tensor backend "cuda" with its kernels, once', () => {
    expect(getBackend('cuda')).toBe(backend);
    for (const op of ['matmul', 'softmax', 'rmsnorm', 'layernorm', 'rope', 'sdpa', 'add', 'mul'])
      expect(hasKernel(op, 'cuda')).toBe(true);
    expect(() => registerCudaBackend(new CudaBackend(new FakeContext(), 'again'))).toThrow(
      /the 'cuda' backend is already registered/,
    );
  });
});

describe('core-tensor ops on the cuda backend become launches', () => {
  it('matmul of contiguous f32 tensors: gemm, version 2, row-major B', () => {
    const a = tensor(new Float32Array(6), [2, 3], { device: 'cuda' });
    const b = tensor(new Float32Array(12), [3, 4], { device: 'cuda' });
    const n = ctx.launches.length;
    const c = matmul(a, b);
    expect(c.shape).toEqual([2, 4]);
    expect(ctx.launches.slice(n)).toMatchObject([
      { kernel: 'gemm', version: 2, params: [0, 1, 2, 4, 3, 6, 0, 8, 0] },
    ]);
  });

  it('linear with an f16 weight [N, K]: gemm on tensor cores with transB', () => {
    const x = tensor(new Float32Array(8), [2, 4], { device: 'cuda', dtype: 'f16' });
    const w = tensor(new Float32Array(12), [3, 4], { device: 'cuda', dtype: 'f16' });
    const n = ctx.launches.length;
    expect(linear(x, w).shape).toEqual([2, 3]);
    expect(ctx.launches.slice(n)).toMatchObject([
      { kernel: 'gemm', version: 3, params: [1, 1, 2, 3, 4, 8, 0, 6, 1] },
    ]);
  });

  it('rmsnorm and softmax map their attributes; a non-last softmax axis is a clear error', () => {
    const x = tensor(new Float32Array(12), [3, 4], { device: 'cuda' });
    const w = tensor(new Float32Array(4), [4], { device: 'cuda' });
    const n = ctx.launches.length;
    rmsnorm(x, w, 1e-5);
    softmax(x);
    expect(ctx.launches.slice(n)).toMatchObject([
      { kernel: 'rmsnorm', params: [0, 3, 4, 1e-5] },
      { kernel: 'softmax', params: [0, 3, 4, 0] },
    ]);
    expect(() => softmax(x, 0)).toThrow(
      /cuda softmax: only the last axis is supported, got axis 0 of rank 2/,
    );
  });
});
