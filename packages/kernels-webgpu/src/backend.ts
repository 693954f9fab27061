/// <reference types="@webgpu/types" />
/**
 * @file The WebGPU backend: device memory is one GPUBuffer per storage, kernels are compute shaders.
 * Everything but `read` and `sync` only enqueues work (the core-tensor Backend contract); `read` is
 * the one place that waits (GPUBuffer.mapAsync on a staging copy). Spec: https://www.w3.org/TR/webgpu/
 *
 * Validation errors in WebGPU are reported asynchronously (an invalid shader or binding leaves the
 * output untouched, i.e. silently zero); the backend records them and throws them from the next
 * `read` or `sync`, so a broken kernel can never return quiet wrong values.
 */
import type { Backend, Tensor } from '@hasten/core-tensor';

// GPUBufferUsage / GPUMapMode flag values from the spec, so this file does not depend on the
// globals that only a browser (or `webgpu`'s `globals` in Node) defines.
const MAP_READ = 0x0001;
const COPY_SRC = 0x0004;
const COPY_DST = 0x0008;
const UNIFORM = 0x0040;
const STORAGE = 0x0080;
const MAP_MODE_READ = 0x0001;

/** The most workgroups per grid dimension that every WebGPU device allows. */
export const MAX_WORKGROUPS_PER_DIM = 65535;

const roundUp = (n: number, m: number) => Math.ceil(n / m) * m;

export class WebGpuBackend implements Backend {
  readonly name = 'webgpu';
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private error: string | null = null;

  constructor(readonly device: GPUDevice) {
    device.addEventListener('uncapturederror', (e) => {
      this.error ??= (e as GPUUncapturedErrorEvent).error.message;
    });
    device.lost.then((info) => {
      this.error ??= `device lost (${info.reason}): ${info.message}`;
    });
  }

  alloc(byteLength: number): GPUBuffer {
    const size = roundUp(Math.max(byteLength, 4), 4); // copies and bindings work in 4-byte words
    if (size > this.device.limits.maxBufferSize) {
      throw new Error(
        `webgpu alloc: ${byteLength} bytes exceeds this device's maxBufferSize (${this.device.limits.maxBufferSize})`,
      );
    }
    // WebGPU zero-initialises new buffers, as the Backend contract requires.
    return this.device.createBuffer({ size, usage: STORAGE | COPY_SRC | COPY_DST });
  }

  write(handle: unknown, byteOffset: number, data: ArrayBufferView): void {
    const buf = handle as GPUBuffer;
    let bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (byteOffset % 4 !== 0) {
      throw new Error(
        `webgpu write: byteOffset ${byteOffset} is not a multiple of 4 (WebGPU writes whole 4-byte words)`,
      );
    }
    if (bytes.byteLength % 4 !== 0) {
      // Pad the tail word, which is only allowed where it lands in the allocation's rounding bytes.
      if (roundUp(byteOffset + bytes.byteLength, 4) !== buf.size) {
        throw new Error(
          `webgpu write: ${bytes.byteLength} bytes at ${byteOffset} would overwrite a partial 4-byte word inside a ${buf.size}-byte buffer`,
        );
      }
      const padded = new Uint8Array(roundUp(bytes.byteLength, 4));
      padded.set(bytes);
      bytes = padded;
    }
    // Copies `data` now, so the caller may reuse it. (The spec allows shared buffers; the typings do not.)
    this.device.queue.writeBuffer(buf, byteOffset, bytes as Uint8Array<ArrayBuffer>);
  }

  async read(handle: unknown, byteOffset: number, byteLength: number): Promise<Uint8Array> {
    this.throwIfFailed('read');
    if (byteLength === 0) return new Uint8Array(0);
    const buf = handle as GPUBuffer;
    const start = byteOffset - (byteOffset % 4);
    const end = roundUp(byteOffset + byteLength, 4);
    const staging = this.device.createBuffer({ size: end - start, usage: MAP_READ | COPY_DST });
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(buf, start, staging, 0, end - start);
    this.device.queue.submit([encoder.finish()]);
    try {
      await staging.mapAsync(MAP_MODE_READ); // resolves after all work submitted before the copy
      this.throwIfFailed('read');
      const from = byteOffset - start;
      return new Uint8Array(staging.getMappedRange()).slice(from, from + byteLength);
    } finally {
      staging.destroy(); // also unmaps
    }
  }

  free(handle: unknown): void {
    // Safe right after submit: WebGPU keeps a destroyed buffer alive for already-submitted commands.
    (handle as GPUBuffer).destroy();
  }

  async sync(): Promise<void> {
    await this.device.queue.onSubmittedWorkDone();
    this.throwIfFailed('sync');
  }

  describe(): string {
    const info = this.device.adapterInfo;
    if (!info) return 'webgpu (adapter info unavailable)';
    const name = [info.vendor, info.architecture, info.device].filter(Boolean).join(' ');
    return `webgpu: ${name || 'unknown adapter'}${info.description ? ` (${info.description})` : ''}`;
  }

  /**
   * Enqueue one compute dispatch. Binding 0 is the uniform `params` block, bindings 1.. are the
   * storage buffers in order. Pipelines are cached by `key` (compiling a shader is the expensive part).
   */
  dispatch(
    key: string,
    wgsl: () => string,
    params: Uint32Array,
    buffers: GPUBuffer[],
    groups: readonly number[],
  ): void {
    const pipeline = this.pipeline(key, wgsl);
    const uniform = this.device.createBuffer({
      size: roundUp(Math.max(params.byteLength, 16), 16),
      usage: UNIFORM,
      mappedAtCreation: true,
    });
    new Uint32Array(uniform.getMappedRange()).set(params);
    uniform.unmap();
    const bindGroup = this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [uniform, ...buffers].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    const encoder = this.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(groups[0], groups[1] ?? 1, groups[2] ?? 1);
    pass.end();
    // Submit now rather than batching: a storage freed by the caller right after this op stays valid.
    this.device.queue.submit([encoder.finish()]);
    uniform.destroy();
  }

  private pipeline(key: string, wgsl: () => string): GPUComputePipeline {
    let p = this.pipelines.get(key);
    if (!p) {
      const module = this.device.createShaderModule({ label: key, code: wgsl() });
      p = this.device.createComputePipeline({
        label: key,
        layout: 'auto',
        compute: { module, entryPoint: 'main' },
      });
      this.pipelines.set(key, p);
    }
    return p;
  }

  private throwIfFailed(where: string): void {
    if (this.error !== null) throw new Error(`webgpu ${where}: an earlier GPU command failed: ${this.error}`);
  }
}

/**
 * A 1-D count of workgroups as a grid that respects the per-dimension limit: [x, y] with x * y >= n.
 * Shaders rebuild the linear index as `wid.x + wid.y * num_workgroups.x`.
 */
export function grid(workgroups: number): [number, number] {
  if (workgroups <= MAX_WORKGROUPS_PER_DIM) return [workgroups, 1];
  const y = Math.ceil(workgroups / MAX_WORKGROUPS_PER_DIM);
  if (y > MAX_WORKGROUPS_PER_DIM)
    throw new Error(`webgpu: ${workgroups} workgroups exceed a 65535 x 65535 grid`);
  return [MAX_WORKGROUPS_PER_DIM, y];
}

/** The GPUBuffer behind a webgpu tensor's storage. */
export const gpuBuffer = (t: Tensor): GPUBuffer => t.storage.handle as GPUBuffer;
