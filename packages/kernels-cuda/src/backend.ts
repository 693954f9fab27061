/**
 * @file The CUDA backend object: one device, one CUDA stream, device buffers behind handles.
 *
 * - Implements core-tensor's Backend contract (alloc / write / read / free / sync / describe), so
 *   core-tensor tensors can live on it once `registerCuda()` has registered it.
 * - Kernel launches (`gemm`, `matvec`, ..., one method per kernel in src/ops/) check every argument
 *   in TypeScript first, then enqueue on the stream and return at once: the launch is asynchronous.
 *   The waits are the Promises: `read` / `download` resolve with the data once everything enqueued
 *   before them has run, `sync` once all of it has; the addon waits on an AsyncWorker off the JS
 *   thread. Data is copied to the host only on read. A failed kernel surfaces as a rejected read/sync.
 * - `loadCudaBackend()` throws CudaUnavailableError (naming the cause) when no addon is built or no
 *   usable GPU is found; `isCudaAvailable()` answers without throwing.
 */
import type { Backend } from '@hasten/core-tensor';
import { parseOptionsWith } from '@hasten/core-tensor';
import { z } from 'zod';
import { type CudaDeviceInfo, loadAddon, type NativeContext } from './addon';
import { BYTES, CudaBuffer, type CudaDType, type CudaTensor, numel } from './cuda-tensor';
import { CudaUnavailableError } from './errors';
import { type AttentionArgs, attentionLaunch } from './ops/attention';
import type { Launch } from './ops/checks';
import { type DecodeAttentionArgs, decodeAttentionLaunch } from './ops/decode-attention';
import { type ElementwiseArgs, elementwiseLaunch } from './ops/elementwise';
import { type GemmArgs, gemmLaunch } from './ops/gemm';
import { type LayernormArgs, layernormLaunch } from './ops/layernorm';
import { type MatvecArgs, matvecLaunch } from './ops/matvec';
import { type PagedAttentionArgs, pagedAttentionLaunch } from './ops/paged-attention';
import { type RmsnormArgs, rmsnormLaunch } from './ops/rmsnorm';
import { type RopeArgs, ropeLaunch } from './ops/rope';
import { type SampleArgs, sampleLaunch } from './ops/sample';
import { type SoftmaxArgs, softmaxLaunch } from './ops/softmax';
import { type TopkArgs, topkLaunch } from './ops/topk';

export type { CudaDeviceInfo } from './addon';

/** What the addon reports about devices; `{ count: 0, error }` when there is no addon or GPU. */
export function cudaDeviceInfo(): CudaDeviceInfo {
  const load = loadAddon();
  if (!load.addon) return { runtimeVersion: 0, driverVersion: 0, count: 0, error: load.reason, devices: [] };
  return load.addon.deviceInfo();
}

/** True when the addon is built and at least one CUDA device is usable. Never throws. */
export function isCudaAvailable(): boolean {
  try {
    return cudaDeviceInfo().count > 0;
  } catch {
    return false;
  }
}

const LoadOptions = z.strictObject({
  /** CUDA device index (default 0). */
  device: z.number().int().nonnegative().default(0),
});
export type LoadCudaBackendOptions = z.input<typeof LoadOptions>;

/**
 * A backend on one CUDA device. Throws CudaUnavailableError when the addon is not built or there is
 * no usable GPU (the other backends serve then).
 */
export function loadCudaBackend(options?: LoadCudaBackendOptions): CudaBackend {
  const { device } = parseOptionsWith(LoadOptions, options, (p) => new Error(`loadCudaBackend: ${p}`));
  const load = loadAddon();
  if (!load.addon) throw new CudaUnavailableError(load.reason);
  const info = load.addon.deviceInfo();
  if (info.count === 0) {
    throw new CudaUnavailableError(
      info.error ? `cudaGetDeviceCount failed: ${info.error}` : 'no CUDA device was found',
    );
  }
  if (device >= info.count) {
    throw new CudaUnavailableError(
      `device ${device} was asked for but only ${info.count} CUDA device(s) exist`,
    );
  }
  let context: NativeContext;
  try {
    context = new load.addon.Context(device);
  } catch (e) {
    throw new CudaUnavailableError(`creating a context on device ${device} failed: ${(e as Error).message}`);
  }
  const d = info.devices.find((x) => x.index === device);
  const label = d
    ? `cuda: ${d.name} (sm_${d.major}${d.minor}, ${(d.totalMemory / 2 ** 30).toFixed(1)} GiB, ${d.multiProcessors} SMs)`
    : `cuda: device ${device}`;
  return new CudaBackend(context, label);
}

const TYPED: Record<CudaDType, (b: ArrayBuffer) => ArrayBufferView> = {
  f32: (b) => new Float32Array(b),
  f16: (b) => new Uint16Array(b),
  bf16: (b) => new Uint16Array(b),
  i32: (b) => new Int32Array(b),
  i8: (b) => new Int8Array(b),
  u8: (b) => new Uint8Array(b),
  f64: (b) => new Float64Array(b),
};

export class CudaBackend implements Backend {
  readonly name = 'cuda';
  private disposed = false;

  /** `context` is the addon's Context (one stream); tests may pass a stand-in. */
  constructor(
    readonly context: NativeContext,
    private readonly label: string,
  ) {}

  // --- core-tensor Backend contract -------------------------------------------------------------

  alloc(byteLength: number): CudaBuffer {
    this.assertLive('alloc');
    if (!Number.isInteger(byteLength) || byteLength < 0) {
      throw new Error(`cuda alloc: byteLength must be an integer >= 0, got ${byteLength}`);
    }
    return new CudaBuffer(this.context.alloc(byteLength), byteLength, this);
  }

  write(handle: unknown, byteOffset: number, data: ArrayBufferView): void {
    const b = this.own(handle, 'write');
    if (!Number.isInteger(byteOffset) || byteOffset < 0 || byteOffset + data.byteLength > b.byteLength) {
      throw new Error(
        `cuda write: ${data.byteLength} bytes at ${byteOffset} do not fit a ${b.byteLength}-byte buffer`,
      );
    }
    this.context.write(b.id, byteOffset, data);
  }

  async read(handle: unknown, byteOffset: number, byteLength: number): Promise<Uint8Array> {
    const b = this.own(handle, 'read');
    if (!Number.isInteger(byteOffset) || byteOffset < 0 || byteOffset + byteLength > b.byteLength) {
      throw new Error(
        `cuda read: ${byteLength} bytes at ${byteOffset} are outside a ${b.byteLength}-byte buffer`,
      );
    }
    return new Uint8Array(await this.context.read(b.id, byteOffset, byteLength));
  }

  free(handle: unknown): void {
    const b = this.own(handle, 'free');
    b.freed = true;
    this.context.free(b.id);
  }

  sync(): Promise<void> {
    this.assertLive('sync');
    return this.context.sync();
  }

  describe(): string {
    return this.label;
  }

  // --- typed helpers ---------------------------------------------------------------------------

  /** A new zero-filled contiguous tensor. */
  empty(dtype: CudaDType, shape: readonly number[]): CudaTensor {
    return { buffer: this.alloc(numel(shape) * BYTES[dtype]), dtype, shape: [...shape] };
  }

  /** A new tensor holding `data` (raw storage: f16/bf16 as Uint16Array bit patterns). */
  upload(dtype: CudaDType, shape: readonly number[], data: ArrayBufferView): CudaTensor {
    const t = this.empty(dtype, shape);
    if (data.byteLength !== t.buffer.byteLength) {
      this.free(t.buffer);
      throw new Error(
        `cuda upload: ${dtype} ${JSON.stringify(shape)} needs ${BYTES[dtype] * numel(shape)} bytes, got ${data.byteLength}`,
      );
    }
    this.write(t.buffer, 0, data);
    return t;
  }

  /** The tensor's raw storage once all enqueued work is done (f16/bf16 as Uint16Array bits). */
  async download(t: CudaTensor): Promise<ArrayBufferView> {
    const bytes = await this.read(
      t.buffer,
      (t.offset ?? 0) * BYTES[t.dtype],
      numel(t.shape) * BYTES[t.dtype],
    );
    const copy = bytes.slice().buffer as ArrayBuffer;
    return TYPED[t.dtype](copy);
  }

  /** Release the tensor's whole buffer. */
  release(t: CudaTensor): void {
    this.free(t.buffer);
  }

  /** Enqueue one checked launch. */
  launch(l: Launch): void {
    this.assertLive('launch');
    this.context.launch(l.kernel, l.version, l.buffers, l.params);
  }

  // --- kernels (each checks its arguments first; see src/ops/) ---------------------------------

  gemm(args: GemmArgs): void {
    this.checkOwner(args);
    this.launch(gemmLaunch(args));
  }
  matvec(args: MatvecArgs): void {
    this.checkOwner(args);
    this.launch(matvecLaunch(args));
  }
  softmax(args: SoftmaxArgs): void {
    this.checkOwner(args);
    this.launch(softmaxLaunch(args));
  }
  rmsnorm(args: RmsnormArgs): void {
    this.checkOwner(args);
    this.launch(rmsnormLaunch(args));
  }
  layernorm(args: LayernormArgs): void {
    this.checkOwner(args);
    this.launch(layernormLaunch(args));
  }
  rope(args: RopeArgs): void {
    this.checkOwner(args);
    this.launch(ropeLaunch(args));
  }
  elementwise(args: ElementwiseArgs): void {
    this.checkOwner(args);
    this.launch(elementwiseLaunch(args));
  }
  attention(args: AttentionArgs): void {
    this.checkOwner(args);
    this.launch(attentionLaunch(args));
  }
  decodeAttention(args: DecodeAttentionArgs): void {
    this.checkOwner(args);
    this.launch(decodeAttentionLaunch(args));
  }
  pagedAttention(args: PagedAttentionArgs): void {
    this.checkOwner(args);
    this.launch(pagedAttentionLaunch(args));
  }
  topk(args: TopkArgs): void {
    this.checkOwner(args);
    this.launch(topkLaunch(args));
  }
  sample(args: SampleArgs): void {
    this.checkOwner(args);
    this.launch(sampleLaunch(args));
  }

  /** Free the stream, every buffer and graph (after queued work). The backend is unusable after. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.context.dispose();
  }

  private assertLive(where: string): void {
    if (this.disposed) throw new Error(`cuda ${where}: the backend was disposed`);
  }

  private own(handle: unknown, where: string): CudaBuffer {
    this.assertLive(where);
    if (!(handle instanceof CudaBuffer)) throw new Error(`cuda ${where}: expected a CudaBuffer handle`);
    if (handle.owner !== this) throw new Error(`cuda ${where}: the buffer belongs to another backend`);
    if (handle.freed) throw new Error(`cuda ${where}: the buffer was already freed`);
    return handle;
  }

  /** Every CudaTensor argument must live on this backend (buffers of two contexts cannot mix). */
  private checkOwner(args: object): void {
    for (const [key, v] of Object.entries(args)) {
      const buffer = (v as CudaTensor | undefined)?.buffer;
      if (buffer instanceof CudaBuffer && buffer.owner !== this) {
        throw new Error(`cuda: argument '${key}' is a tensor of another backend`);
      }
    }
  }
}
