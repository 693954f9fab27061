/**
 * @file The CPU backends. Memory is a plain ArrayBuffer per storage, so kernels read and write it
 * synchronously; any backend on that memory extends CpuBackend (so code that writes in place, such
 * as the KV caches, accepts it), e.g. @hasten/kernels-cpu's 'cpu-native'. Two instances are registered here:
 * - 'cpu': the default; fast kernels (WebAssembly SIMD matmul, ...) where they exist, the reference
 *   kernels everywhere else.
 * - 'reference': only the readable reference kernels (plain loops, float64 accumulation). It is the
 *   ground truth every fast kernel is tested against, and a debugging device.
 */
import type { Backend } from '../backend';
import { type DType, type StorageArray, storageView } from '../dtype';
import type { Tensor } from '../tensor';

export class CpuBackend implements Backend {
  constructor(readonly name: string) {}

  alloc(byteLength: number): ArrayBuffer {
    return new ArrayBuffer(byteLength);
  }

  write(handle: unknown, byteOffset: number, data: ArrayBufferView): void {
    new Uint8Array(handle as ArrayBuffer, byteOffset, data.byteLength).set(
      new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    );
  }

  async read(handle: unknown, byteOffset: number, byteLength: number): Promise<Uint8Array> {
    return new Uint8Array(handle as ArrayBuffer, byteOffset, byteLength);
  }

  free(_handle: unknown): void {
    // Garbage-collected; nothing to release.
  }

  async sync(): Promise<void> {}

  describe(): string {
    const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
    return `${this.name} (${nav?.hardwareConcurrency ?? '?'} threads available)`;
  }
}

/** The whole storage of a CPU tensor as a typed array of its dtype (index with t.offset/strides). */
export function cpuStorage(t: Tensor): StorageArray {
  return storageView(t.dtype, t.storage.handle as ArrayBuffer);
}

/** Typed view of a storage as another dtype's array (same bytes). */
export function cpuStorageAs(t: Tensor, dtype: DType): StorageArray {
  return storageView(dtype, t.storage.handle as ArrayBuffer);
}
