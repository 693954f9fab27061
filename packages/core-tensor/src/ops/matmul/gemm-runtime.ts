/**
 * @file The loaded GEMM kernel: one WebAssembly instance, its memory, a heap over that memory and,
 * when worker threads are enabled (`enableCpuThreads` in @hasten/core-tensor/node), the workers that
 * share it. Isomorphic: the default runtime is single-threaded with an unshared memory, which every
 * browser supports; the threaded one is installed from Node-only code through `setGemmRuntime`.
 *
 * The variant is chosen once: relaxed SIMD (fused multiply-add) where the engine validates it,
 * plain SIMD otherwise. Modules are compiled synchronously (kernels are synchronous); each binary is
 * under the 4 KiB that browsers allow for synchronous compilation on the main thread.
 */
import { GEMM_WASM } from './gemm-wasm.generated';
import { WasmHeap } from './wasm-heap';

/** Bytes below the heap, reserved for the thread pool's control block (thread-pool.ts). */
export const CONTROL_BYTES = 4096;
/** K-block depth (rows of B per packed block): 256 rows x 8 columns = 8 KiB of B per tile pass, in L1. */
export const KC = 256;

export type GemmVariant = keyof typeof GEMM_WASM;

/** The exported kernel: see wasm/gemm.ts for the meaning of each argument. */
export type GemmFn = (
  aP: number,
  bP: number,
  c: number,
  m: number,
  k: number,
  npad: number,
  kcBlock: number,
  p0: number,
  p1: number,
  ldb: number,
) => void;

/** Arguments of one GEMM call over all 8-column panels; a thread pool splits them between threads. */
export interface GemmJob {
  aP: number;
  bP: number;
  c: number;
  m: number;
  k: number;
  npad: number;
  ldb: number;
}

/** Runs one job on several threads (installed by the Node thread pool). */
export interface GemmThreads {
  readonly threads: number;
  /** Chunks of work the worker threads (not the caller) have run so far. */
  readonly workerChunks: number;
  run(job: GemmJob): void;
}

/** What the packed-weight cache (packed-weights.ts) holds and what did not fit, for reports. */
export interface PackedWeightStats {
  /** Weights packed and kept in WebAssembly memory. */
  cached: number;
  cachedBytes: number;
  /** Distinct weights that did not fit (each is packed again on every call) and their packed size. */
  overflowWeights: number;
  overflowBytes: number;
  /** Calls that packed a weight again because it did not fit. */
  repacks: number;
}

export interface GemmRuntime {
  readonly variant: GemmVariant;
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  readonly heap: WasmHeap;
  readonly gemm: GemmFn;
  /** Set by the Node thread pool on a shared-memory runtime; null: single-threaded. */
  threads: GemmThreads | null;
  /** Updated by the packed-weight cache. */
  readonly weightStats: PackedWeightStats;
}

const moduleCache = new Map<GemmVariant, WebAssembly.Module>();

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Whether this engine runs relaxed SIMD (Chrome 114+, Node 22+; Node 20 only behind a V8 flag). */
export function relaxedSimdSupported(): boolean {
  return WebAssembly.validate(decodeBase64(GEMM_WASM.relaxed.base64));
}

export function gemmModule(variant: GemmVariant): WebAssembly.Module {
  let m = moduleCache.get(variant);
  if (!m) {
    m = new WebAssembly.Module(decodeBase64(GEMM_WASM[variant].base64));
    moduleCache.set(variant, m);
  }
  return m;
}

export interface RuntimeOptions {
  /** A shared memory, for worker threads (Node, or cross-origin-isolated pages). */
  shared?: boolean;
  /** Use fused multiply-add when the engine supports relaxed SIMD (default true). */
  relaxed?: boolean;
  /**
   * Most bytes the WebAssembly memory may grow to (default and most: 4 GiB, the wasm32 address space).
   * Tests set a small limit to reach the case where the packed weights do not fit.
   */
  maxMemoryBytes?: number;
}

export function createGemmRuntime({
  shared = false,
  relaxed = true,
  maxMemoryBytes,
}: RuntimeOptions = {}): GemmRuntime {
  const fused = relaxed && relaxedSimdSupported();
  const variant: GemmVariant = fused
    ? shared
      ? 'relaxedShared'
      : 'relaxed'
    : shared
      ? 'simdShared'
      : 'simd';
  const module = gemmModule(variant);
  // 16 pages = 1 MiB to start; the heap grows it. A shared memory must declare its maximum.
  const memory = shared
    ? new WebAssembly.Memory({ initial: 16, maximum: 65536, shared: true })
    : new WebAssembly.Memory({ initial: 16 });
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  return {
    variant,
    module,
    memory,
    heap: new WasmHeap(memory, CONTROL_BYTES, maxMemoryBytes),
    gemm: instance.exports.gemm as GemmFn,
    threads: null,
    weightStats: { cached: 0, cachedBytes: 0, overflowWeights: 0, overflowBytes: 0, repacks: 0 },
  };
}

let current: GemmRuntime | null = null;

/** The runtime the 'cpu' matmul uses (created on first use). */
export function getGemmRuntime(): GemmRuntime {
  current ??= createGemmRuntime();
  return current;
}

/** Replace the runtime (the Node thread pool does); packed weights of the old one are dropped. */
export function setGemmRuntime(rt: GemmRuntime | null): void {
  current = rt;
}

/** Float32 view of the whole memory; take it after the last allocation (growth replaces the buffer). */
export function f32View(rt: GemmRuntime): Float32Array {
  return new Float32Array(rt.memory.buffer);
}

/**
 * Below this many flops (2 m k npad) one thread does the whole product: at ~10 GFLOP/s a million
 * flops take ~100 us, while handing chunks out costs the caller one futex wake-up (a few us) and a
 * sleeping worker needs tens of us to join (the caller never waits for it: see thread-pool.ts).
 *
 * The number of rows does not enter the decision. A 1-row product over a big weight is bound by
 * the bandwidth of one core to its cache or memory, and two cores each reading half the weight add
 * theirs; and because the caller claims chunks itself, a worker that joins late costs at most the
 * dispatch (a few us), never a wait. Keeping 1-row products on one thread would only slow them.
 */
export const PARALLEL_MIN_FLOPS = 1 << 20;

/** C = A @ B for a prepared job, on the pool's threads when the work is big enough to pay. */
export function runGemm(rt: GemmRuntime, job: GemmJob): void {
  const panels = job.npad >> 3; // 8-column panels
  if (
    rt.threads &&
    rt.threads.threads > 1 &&
    2 * job.m * job.k * job.npad >= PARALLEL_MIN_FLOPS &&
    panels >= 8
  ) {
    rt.threads.run(job);
  } else {
    rt.gemm(job.aP, job.bP, job.c, job.m, job.k, job.npad, KC, 0, panels, job.ldb);
  }
}

/** What the 'cpu' matmul runs on, for benchmark records: whether the packed weights fit, among others. */
export function cpuMatmulInfo(): {
  variant: GemmVariant;
  threads: number;
  wasmMemoryBytes: number;
  wasmMemoryLimitBytes: number;
  packedWeights: PackedWeightStats;
} {
  const rt = getGemmRuntime();
  return {
    variant: rt.variant,
    threads: rt.threads?.threads ?? 1,
    wasmMemoryBytes: rt.memory.buffer.byteLength,
    wasmMemoryLimitBytes: rt.heap.maxBytes,
    packedWeights: { ...rt.weightStats },
  };
}
