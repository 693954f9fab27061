import { describe, expect, it } from 'vitest';
import { WasmHeap } from './wasm-heap';

describe('WasmHeap', () => {
  it('hands out aligned, disjoint blocks, merges freed neighbours and grows the memory', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const heap = new WasmHeap(memory, 100);
    const a = heap.alloc(10);
    const b = heap.alloc(100);
    const c = heap.alloc(64);
    expect([a, b, c].every((p) => p % 64 === 0 && p >= 100)).toBe(true);
    expect(b).toBeGreaterThanOrEqual(a + 64);
    expect(c).toBeGreaterThanOrEqual(b + 128);
    heap.release(a);
    heap.release(b); // merges with a's block: a 192-byte hole at a
    expect(heap.alloc(150)).toBe(a);
    expect(() => heap.release(a + 1)).toThrow(/not an allocated block/);
    const big = heap.alloc(200_000); // beyond the first 64 KiB page
    expect(memory.buffer.byteLength).toBeGreaterThanOrEqual(big + 200_000);
    expect(heap.usedBytes).toBe(192 + 64 + Math.ceil(200_000 / 64) * 64);
  });

  it('refuses to pass 4 GiB with a RangeError', () => {
    const heap = new WasmHeap(new WebAssembly.Memory({ initial: 1 }), 0);
    expect(() => heap.alloc(2 ** 32 + 1)).toThrow(RangeError);
  });
});
