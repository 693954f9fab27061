/**
 * @file A stand-in for the addon's Context, for tests without a GPU: buffers are host memory,
 * launches and graph calls are recorded, not run. It checks what the addon checks (unknown handles,
 * ranges, the capture rules) so the TypeScript layers above can be tested against the same contract.
 */
import type { NativeContext } from './addon';

export interface RecordedLaunch {
  kernel: string;
  version: number;
  buffers: number[];
  params: number[];
}

export class FakeContext implements NativeContext {
  readonly buffers = new Map<number, Uint8Array>();
  readonly launches: RecordedLaunch[] = [];
  readonly calls: string[] = [];
  private next = 1;
  private capturing = false;
  private graphs = new Set<number>();

  private get(id: number, where: string): Uint8Array {
    const b = this.buffers.get(id);
    if (!b) throw new Error(`cuda ${where}: unknown or freed buffer handle ${id}`);
    return b;
  }
  private noCapture(where: string): void {
    if (this.capturing)
      throw new Error(`cuda ${where}: not allowed while a CUDA graph is being captured (only launches are)`);
  }

  alloc(bytes: number): number {
    this.noCapture('alloc');
    const id = this.next++;
    this.buffers.set(id, new Uint8Array(bytes));
    return id;
  }
  write(id: number, byteOffset: number, data: ArrayBufferView): void {
    this.noCapture('write');
    this.get(id, 'write').set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), byteOffset);
  }
  copy(dst: number, dstOffset: number, src: number, srcOffset: number, bytes: number): void {
    this.get(dst, 'copy').set(this.get(src, 'copy').subarray(srcOffset, srcOffset + bytes), dstOffset);
  }
  async read(id: number, byteOffset: number, bytes: number): Promise<ArrayBuffer> {
    this.noCapture('read');
    return this.get(id, 'read').slice(byteOffset, byteOffset + bytes).buffer;
  }
  free(id: number): void {
    this.noCapture('free');
    this.get(id, 'free');
    this.buffers.delete(id);
  }
  async sync(): Promise<void> {
    this.noCapture('sync');
  }
  launch(kernel: string, version: number, buffers: number[], params: number[]): void {
    for (let i = 0; i < buffers.length; i += 2) if (buffers[i] >= 0) this.get(buffers[i], 'launch');
    this.launches.push({ kernel, version, buffers, params });
    this.calls.push(`launch ${kernel}`);
  }
  beginCapture(): void {
    this.noCapture('beginCapture');
    this.capturing = true;
    this.calls.push('beginCapture');
  }
  endCapture(): number {
    if (!this.capturing) throw new Error('cuda endCapture: no capture in progress');
    this.capturing = false;
    const id = this.next++;
    this.graphs.add(id);
    this.calls.push(`endCapture ${id}`);
    return id;
  }
  launchGraph(id: number): void {
    if (!this.graphs.has(id)) throw new Error('cuda launchGraph: unknown or destroyed graph handle');
    this.calls.push(`launchGraph ${id}`);
  }
  destroyGraph(id: number): void {
    if (!this.graphs.delete(id)) throw new Error('cuda destroyGraph: unknown or destroyed graph handle');
    this.calls.push(`destroyGraph ${id}`);
  }
  dispose(): void {
    this.buffers.clear();
    this.graphs.clear();
  }
}
