/**
 * @file The pool's cached blocks that nobody references, least recently released first: an
 * intrusive doubly-linked list over block ids (vLLM v1's `FreeKVCacheBlockQueue`,
 * docs/design/prefix_caching.md). O(1) push at the tail (a release), pop at the head (an eviction)
 * and removal from the middle (a prefix hit takes the block back).
 */
export class LruQueue {
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private readonly queued: Uint8Array;
  private head = -1;
  private tail = -1;
  private count = 0;

  constructor(readonly capacity: number) {
    this.prev = new Int32Array(capacity).fill(-1);
    this.next = new Int32Array(capacity).fill(-1);
    this.queued = new Uint8Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  has(id: number): boolean {
    return this.queued[id] === 1;
  }

  pushTail(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.capacity) {
      throw new Error(`LruQueue: block ${id} is out of range [0, ${this.capacity})`);
    }
    if (this.queued[id]) throw new Error(`LruQueue: block ${id} is already queued`);
    this.prev[id] = this.tail;
    this.next[id] = -1;
    if (this.tail >= 0) this.next[this.tail] = id;
    else this.head = id;
    this.tail = id;
    this.queued[id] = 1;
    this.count++;
  }

  /** The least recently queued id, removed; -1 when empty. */
  popHead(): number {
    const id = this.head;
    if (id >= 0) this.remove(id);
    return id;
  }

  remove(id: number): void {
    if (!this.queued[id]) throw new Error(`LruQueue.remove: block ${id} is not queued`);
    const p = this.prev[id];
    const n = this.next[id];
    if (p >= 0) this.next[p] = n;
    else this.head = n;
    if (n >= 0) this.prev[n] = p;
    else this.tail = p;
    this.prev[id] = this.next[id] = -1;
    this.queued[id] = 0;
    this.count--;
  }

  /** Ids from head (evicted next) to tail. */
  toArray(): number[] {
    const out: number[] = [];
    for (let id = this.head; id >= 0; id = this.next[id]) out.push(id);
    return out;
  }
}
