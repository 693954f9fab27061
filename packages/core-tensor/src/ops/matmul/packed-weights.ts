/**
 * @file The packed-weight cache. A model multiplies by the same weights at every decode step, so a
 * weight is packed into WebAssembly memory once and reused: keyed by its Storage (WeakMap, so the
 * cache never keeps a weight alive) and by the view (offset, strides, k, n). When the storage is
 * garbage collected its packed copy is freed (FinalizationRegistry).
 *
 * Only operands marked constant are cached: `linear()` marks its weight (MatmulAttrs.constantB).
 * A plain `matmul` re-packs B every call, because a storage may be written in place between calls
 * (a KV cache) and a stale packed copy would give wrong results silently. A weight that is modified
 * in place after it was used by `linear` needs `clearPackedWeights()`.
 */
import type { Storage } from '../../backend';
import { type GemmRuntime, getGemmRuntime } from './gemm-runtime';
import { packB, packedBSize } from './pack';

interface Entry {
  ptr: number;
  /** Unregister token for the finalizer (so clear() never frees a block twice). */
  token: object;
}

class WeightCache {
  private byStorage = new WeakMap<Storage, Map<string, Entry>>();
  private readonly entries = new Set<Entry>();
  private readonly finalizer: FinalizationRegistry<Entry>;

  constructor(private readonly rt: GemmRuntime) {
    this.finalizer = new FinalizationRegistry((e) => this.drop(e));
  }

  /** Pointer to B packed (packB layout), packing it on first use. */
  get(
    storage: Storage,
    src: Float32Array,
    off: number,
    sk: number,
    sn: number,
    k: number,
    n: number,
  ): number {
    const key = `${off}:${sk}:${sn}:${k}:${n}`;
    let views = this.byStorage.get(storage);
    const hit = views?.get(key);
    if (hit) return hit.ptr;
    const bytes = packedBSize(k, n) * 4;
    let ptr: number;
    try {
      ptr = this.rt.heap.alloc(bytes);
    } catch (e) {
      if (!(e instanceof RangeError) || this.entries.size === 0) throw e;
      this.clear(); // out of wasm memory: drop every packed weight, they re-pack on demand
      ptr = this.rt.heap.alloc(bytes);
    }
    packB(src, off, sk, sn, k, n, new Float32Array(this.rt.memory.buffer), ptr >> 2);
    const entry: Entry = { ptr, token: {} };
    if (!views) {
      views = new Map();
      this.byStorage.set(storage, views);
    }
    views.set(key, entry);
    this.entries.add(entry);
    this.finalizer.register(storage, entry, entry.token);
    return ptr;
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    for (const e of [...this.entries]) {
      this.finalizer.unregister(e.token);
      this.drop(e);
    }
    this.byStorage = new WeakMap();
  }

  private drop(e: Entry): void {
    if (!this.entries.delete(e)) return;
    this.rt.heap.release(e.ptr);
  }
}

const caches = new WeakMap<GemmRuntime, WeightCache>();

export function weightCache(rt: GemmRuntime): WeightCache {
  let c = caches.get(rt);
  if (!c) {
    c = new WeightCache(rt);
    caches.set(rt, c);
  }
  return c;
}

/**
 * Free every packed weight of the 'cpu' matmul. Needed only when a weight's storage was written in
 * place after `linear` used it; otherwise packed copies are freed with their storage.
 */
export function clearPackedWeights(): void {
  weightCache(getGemmRuntime()).clear();
}
