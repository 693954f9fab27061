/**
 * @file The backend contract. A backend owns device memory behind opaque handles and runs kernels
 * registered for it (see registry.ts). It is designed for asynchronous devices: allocation, upload
 * and kernel dispatch only enqueue work; the one place that waits is `read`, which resolves once all
 * work queued before it is done. No op reads data back to the host on its own.
 *
 * This is a low-level API: tensors (tensor.ts) reference-count storages and free them; users never
 * call these methods directly.
 */
export interface Backend {
  /** Registry key: 'cpu', 'reference', 'webgpu', 'cuda', ... */
  readonly name: string;
  /** Allocate `byteLength` zero-filled bytes and return an opaque handle. */
  alloc(byteLength: number): unknown;
  /** Enqueue a host-to-device copy of `data` into the buffer at `byteOffset`. */
  write(handle: unknown, byteOffset: number, data: ArrayBufferView): void;
  /** Copy `byteLength` bytes back to the host once all previously enqueued work is done. */
  read(handle: unknown, byteOffset: number, byteLength: number): Promise<Uint8Array>;
  /** Release the buffer (after queued work that uses it, for asynchronous devices). */
  free(handle: unknown): void;
  /** Resolves when every enqueued operation has completed. */
  sync(): Promise<void>;
  /** Human-readable device description for benchmark records (adapter name, CPU, ...). */
  describe(): string;
}

/**
 * One device allocation shared by a tensor and all its views. Freed when the last tensor that
 * references it is disposed.
 */
export class Storage {
  private refs = 1;
  constructor(
    readonly backend: Backend,
    readonly handle: unknown,
    readonly byteLength: number,
  ) {}

  retain(): this {
    if (this.refs <= 0) throw new Error('Storage.retain: storage was already freed');
    this.refs++;
    return this;
  }

  release(): void {
    if (this.refs <= 0) return;
    this.refs--;
    if (this.refs === 0) this.backend.free(this.handle);
  }

  get freed(): boolean {
    return this.refs <= 0;
  }

  get refCount(): number {
    return this.refs;
  }
}
