/**
 * @file A first-fit allocator over a WebAssembly.Memory, run from JavaScript: the GEMM kernel itself
 * allocates nothing. It holds the packed weights (long-lived, freed when their storage is garbage
 * collected) and the per-call scratch (A, C, B when it is not cached). Blocks are 64-byte aligned
 * (one cache line). The memory grows on demand, by at least a quarter of its size to amortise growth.
 */

const ALIGN = 64;
const PAGE = 65536;
/** wasm32 addresses end at 4 GiB. */
export const MAX_WASM_BYTES = 65536 * PAGE;

interface Block {
  start: number;
  size: number;
}

export class WasmHeap {
  /** Free blocks, sorted by address, never adjacent (merged on release). */
  private readonly freeList: Block[] = [];
  private readonly live = new Map<number, number>();

  /**
   * Manage `memory` from byte `base` (below it: the thread pool's control block) to its end, growing
   * it up to `maxBytes` (default and most: 4 GiB; tests pass a small limit to reach the full case).
   */
  constructor(
    readonly memory: WebAssembly.Memory,
    base: number,
    readonly maxBytes: number = MAX_WASM_BYTES,
  ) {
    if (!(maxBytes >= memory.buffer.byteLength && maxBytes <= MAX_WASM_BYTES)) {
      throw new RangeError(
        `WasmHeap: maxBytes ${maxBytes} must lie between the memory's size (${memory.buffer.byteLength}) and 4 GiB`,
      );
    }
    const start = Math.ceil(base / ALIGN) * ALIGN;
    const end = memory.buffer.byteLength;
    if (end > start) this.freeList.push({ start, size: end - start });
  }

  /** Bytes currently handed out (packed weights + scratch). */
  get usedBytes(): number {
    let s = 0;
    for (const v of this.live.values()) s += v;
    return s;
  }

  /** A 64-byte aligned block of at least `bytes`; throws RangeError when maxBytes would be exceeded. */
  alloc(bytes: number): number {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    let i = this.freeList.findIndex((b) => b.size >= size);
    if (i < 0) {
      this.grow(size);
      i = this.freeList.findIndex((b) => b.size >= size);
    }
    const b = this.freeList[i];
    const start = b.start;
    if (b.size === size) this.freeList.splice(i, 1);
    else {
      b.start += size;
      b.size -= size;
    }
    this.live.set(start, size);
    return start;
  }

  release(ptr: number): void {
    const size = this.live.get(ptr);
    if (size === undefined) throw new Error(`WasmHeap.release: ${ptr} is not an allocated block`);
    this.live.delete(ptr);
    this.insertFree(ptr, size);
  }

  private insertFree(start: number, size: number): void {
    const list = this.freeList;
    let i = 0;
    while (i < list.length && list[i].start < start) i++;
    list.splice(i, 0, { start, size });
    // Merge with the next block, then with the previous one.
    if (i + 1 < list.length && start + size === list[i + 1].start) {
      list[i].size += list[i + 1].size;
      list.splice(i + 1, 1);
    }
    if (i > 0 && list[i - 1].start + list[i - 1].size === start) {
      list[i - 1].size += list[i].size;
      list.splice(i, 1);
    }
  }

  private grow(size: number): void {
    const old = this.memory.buffer.byteLength;
    const last = this.freeList[this.freeList.length - 1];
    const tailFree = last && last.start + last.size === old ? last.size : 0;
    const need = Math.max(size - tailFree, old >> 2);
    let pages = Math.ceil(need / PAGE);
    if (old + pages * PAGE > this.maxBytes) pages = Math.ceil((size - tailFree) / PAGE);
    if (old + pages * PAGE > this.maxBytes) {
      throw new RangeError(
        `matmul: WebAssembly memory would exceed its ${this.maxBytes}-byte limit (have ${old} bytes, ${this.usedBytes} in use, need ${size} more)`,
      );
    }
    this.memory.grow(pages);
    this.insertFree(old, pages * PAGE);
  }
}
