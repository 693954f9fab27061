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
 *
 * When the weights do not all fit (wasm32 memory ends at 4 GiB: a model above ~1B f32 parameters),
 * the weights already packed stay and the others are packed into per-call scratch at every call:
 * a model's weights are used in the same order at every step, so evicting on a miss would evict
 * each weight just before its next use and re-pack every weight on every call. That slowdown is
 * reported once, with the numbers (console.warn), and counted in `cpuMatmulInfo().packedWeights`.
 */
import type { Storage } from '../../backend';
import { type GemmRuntime, getGemmRuntime } from './gemm-runtime';
import { packB, packedBSize } from './pack';

interface Entry {
  ptr: number;
  bytes: number;
  /** Where the entry is listed, so that evicting it also forgets it. */
  views: Map<string, Entry>;
  key: string;
  /** Unregister token for the finalizer (so clear() never frees a block twice). */
  token: object;
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

class WeightCache {
  private byStorage = new WeakMap<Storage, Map<string, Entry>>();
  /** Views that did not fit, so that each distinct weight is counted once in the stats. */
  private overflowed = new WeakMap<Storage, Set<string>>();
  private readonly entries = new Set<Entry>();
  private readonly finalizer: FinalizationRegistry<Entry>;
  private warned = false;

  constructor(private readonly rt: GemmRuntime) {
    this.finalizer = new FinalizationRegistry((e) => this.drop(e));
  }

  /**
   * Pointer to B packed (packB layout), packing it on first use; -1 when it does not fit in the
   * WebAssembly memory next to the weights already packed (the caller then packs it per call).
   */
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
      if (!(e instanceof RangeError)) throw e;
      this.overflow(storage, key, bytes, k, n);
      return -1;
    }
    packB(src, off, sk, sn, k, n, new Float32Array(this.rt.memory.buffer), ptr >> 2);
    if (!views) {
      views = new Map();
      this.byStorage.set(storage, views);
    }
    const entry: Entry = { ptr, bytes, views, key, token: {} };
    views.set(key, entry);
    this.entries.add(entry);
    this.finalizer.register(storage, entry, entry.token);
    this.rt.weightStats.cached++;
    this.rt.weightStats.cachedBytes += bytes;
    return ptr;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Frees the most recently packed weight other than `keep` (a block in use by the current call),
   * to make room for scratch; false when there is none. The evicted weight is packed per call from
   * then on, unless memory frees up.
   */
  evictNewest(keep: number): boolean {
    const newest = [...this.entries].reverse().find((e) => e.ptr !== keep);
    if (!newest) return false;
    this.finalizer.unregister(newest.token);
    newest.views.delete(newest.key);
    this.drop(newest);
    return true;
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
    this.rt.weightStats.cached--;
    this.rt.weightStats.cachedBytes -= e.bytes;
  }

  private overflow(storage: Storage, key: string, bytes: number, k: number, n: number): void {
    const stats = this.rt.weightStats;
    stats.repacks++;
    let seen = this.overflowed.get(storage);
    if (!seen) {
      seen = new Set();
      this.overflowed.set(storage, seen);
    }
    if (!seen.has(key)) {
      seen.add(key);
      stats.overflowWeights++;
      stats.overflowBytes += bytes;
    }
    if (this.warned) return;
    this.warned = true;
    const heap = this.rt.heap;
    console.warn(
      `@hasten/core-tensor matmul: the packed f32 weights do not fit in WebAssembly memory: a [${k} x ${n}] ` +
        `weight needs ${mib(bytes)} more, ${mib(heap.usedBytes)} are in use (${stats.cached} packed weights, ` +
        `${mib(stats.cachedBytes)}) and the limit is ${mib(heap.maxBytes)} (wasm32 addresses end at 4 GiB). ` +
        'The weights already packed stay; this one and any others that do not fit are packed again on every ' +
        'call, which is slow. Totals: cpuMatmulInfo().packedWeights. (Reported once.)',
    );
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
