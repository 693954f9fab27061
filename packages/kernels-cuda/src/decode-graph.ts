/**
 * @file CUDA graph capture of a decode step (cudaStreamBeginCapture / EndCapture /
 * GraphInstantiate / GraphLaunch in the addon): a step whose key repeats is captured once and then
 * replayed as one graph launch, which removes the per-kernel launch overhead that dominates small
 * decode steps (the technique of vLLM / llama.cpp CUDA graphs).
 *
 * A graph freezes every launch's buffers and scalar parameters. So the key must name everything the
 * step's launches depend on (shapes, KV length, buffer identities), and the step must write into the
 * same buffers each time. With this backend's kernels the KV length is a launch parameter, so a
 * decode loop replays only where that length repeats (a padded, masked fixed-length window) or keys
 * per length. Only launches may run inside `enqueue` while it is captured (alloc, write, read, free
 * and sync throw there).
 */
import type { CudaBackend } from './backend';

export type StepMode = 'eager' | 'captured' | 'replayed';

export class DecodeGraph {
  private key: string | null = null;
  private graph: number | null = null;
  private seen = 0;

  constructor(private readonly backend: CudaBackend) {}

  /**
   * Run one step. The first time `key` is seen (after a different key) the step runs eagerly; the
   * second consecutive time it is captured into a graph and launched; after that the graph is
   * replayed and `enqueue` is not called. Returns what happened.
   */
  step(key: string, enqueue: () => void): StepMode {
    if (key !== this.key) {
      this.reset();
      this.key = key;
    }
    if (this.graph !== null) {
      this.backend.context.launchGraph(this.graph);
      return 'replayed';
    }
    this.seen++;
    if (this.seen === 1) {
      enqueue();
      return 'eager';
    }
    const ctx = this.backend.context;
    ctx.beginCapture();
    try {
      enqueue();
    } catch (e) {
      try {
        ctx.destroyGraph(ctx.endCapture());
      } catch {
        // the capture was already invalidated; the error below is the one to report
      }
      throw e;
    }
    this.graph = ctx.endCapture();
    ctx.launchGraph(this.graph);
    return 'captured';
  }

  /** Forget the captured graph (its buffers may be freed after this). */
  reset(): void {
    if (this.graph !== null) this.backend.context.destroyGraph(this.graph);
    this.graph = null;
    this.key = null;
    this.seen = 0;
  }
}
