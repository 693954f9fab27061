/**
 * @file Node-only: run the 'cpu' matmul on several cores. `enableCpuThreads(n)` moves the GEMM to a
 * shared WebAssembly.Memory and starts n - 1 worker threads that instantiate the same module on it.
 * A product's 8-column panels are cut into chunks that the calling thread and the workers claim
 * with an atomic counter (every thread reads all of A, and reads and writes only its own chunks'
 * columns of B and C).
 *
 * Claiming rather than a fixed split matters on a shared machine: when a worker is not scheduled
 * (another process holds the core), the caller simply takes every chunk and never waits for a
 * thread that has not started. It waits only for chunks a worker has claimed, which that worker is
 * running.
 *
 * Dispatch goes through a control block in the shared memory rather than postMessage (~50-100 us, a
 * third of a 1 x 1024 x 1024 product): the caller writes the job, bumps a sequence number and
 * `Atomics.notify`s; a worker spins briefly, then sleeps in `Atomics.wait` (allowed on Node's main
 * thread too). Workers are unref'd, so they never keep the process alive.
 */
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import {
  createGemmRuntime,
  type GemmFn,
  type GemmJob,
  type GemmRuntime,
  type GemmThreads,
  getGemmRuntime,
  KC,
  setGemmRuntime,
} from './gemm-runtime';

/** Int32 slots of the control block (at byte 0 of the shared memory). */
const SEQ = 0; // bumped by the caller to wake the workers
const NEXT = 1; // claim word: job number << 12 | next chunk to claim
const DONE = 2; // chunks finished
const ERR = 3; // chunks that threw (message on the thread's error port)
const CMD = 4; // 0: run, 1: exit
const CHUNKS = 5; // number of chunks
const CHUNK = 6; // panels per chunk
const PANELS = 7; // panels in all
const ARGS = 8; // aP, bP, c, m, k, npad, kc, ldb
const CONTROL_INTS = 16;
/** Low bits of NEXT: the chunk index; all ones while a job is being written (nothing claimable). */
const CHUNK_BITS = 12;
const CHUNK_MASK = (1 << CHUNK_BITS) - 1;
const MAX_THREADS = 64;
/** The caller's busy-wait iterations for a worker's last chunk before it sleeps on DONE. */
const SPIN = 10000;
/**
 * How long an idle worker spins before it sleeps, in ms. The gap between two products of a decode
 * step (the ops in between, the wrapper's packing and copying) is tens of microseconds; a worker
 * still spinning joins the next product at once, a sleeping one only after a futex wake-up (tens of
 * microseconds on a VM), by which time the caller has claimed most of a short product's chunks.
 */
const SPIN_MS = 0.25;

/**
 * Claim chunks until none is left, run each, count it done (and failed, reporting through `fail`);
 * returns how many this thread ran.
 *
 * The claim is a compare-and-swap on NEXT, which carries the job number: a thread that read an old
 * job's state (it was descheduled across the end of a job) fails its swap instead of taking a chunk
 * of the next job with the old job's sizes. Once a claim succeeds the job cannot finish, and its
 * arguments cannot change, until this thread counts the chunk done.
 *
 * Source text, so that the workers and the caller run the very same code: a function's toString()
 * would break once a bundler renames the constants it uses.
 */
const CLAIM_SOURCE = `function claimChunks(I, gemm, fail) {
  let ran = 0;
  for (;;) {
    const v = Atomics.load(I, ${NEXT});
    const c = v & ${CHUNK_MASK};
    if (c >= Atomics.load(I, ${CHUNKS})) return ran;
    if (Atomics.compareExchange(I, ${NEXT}, v, v + 1) !== v) continue;
    const chunk = I[${CHUNK}];
    const p0 = c * chunk;
    try {
      gemm(I[${ARGS}], I[${ARGS + 1}], I[${ARGS + 2}], I[${ARGS + 3}], I[${ARGS + 4}], I[${ARGS + 5}], I[${ARGS + 6}],
        p0, Math.min(I[${PANELS}], p0 + chunk), I[${ARGS + 7}]);
    } catch (e) {
      Atomics.add(I, ${ERR}, 1);
      fail(e);
    }
    Atomics.add(I, ${DONE}, 1);
    Atomics.notify(I, ${DONE});
    ran++;
  }
}`;
type ClaimChunks = (I: Int32Array, gemm: GemmFn, fail: (e: unknown) => void) => number;
const claimChunks = new Function(`return ${CLAIM_SOURCE}`)() as ClaimChunks;

/** The worker: plain JavaScript (CommonJS, `eval: true`), so it needs no file path or bundler. */
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const { module, memory, port } = workerData;
const gemm = new WebAssembly.Instance(module, { env: { memory } }).exports.gemm;
const I = new Int32Array(memory.buffer, 0, ${CONTROL_INTS});
const fail = (e) => port.postMessage(String((e && e.stack) || e));
${CLAIM_SOURCE}
let seen = Atomics.load(I, ${SEQ});
parentPort.postMessage('ready');
for (;;) {
  let s = Atomics.load(I, ${SEQ});
  const until = performance.now() + ${SPIN_MS};
  for (let i = 1; s === seen; i++) {
    s = Atomics.load(I, ${SEQ});
    if ((i & 255) === 0 && performance.now() > until) break;
  }
  while (s === seen) { Atomics.wait(I, ${SEQ}, seen); s = Atomics.load(I, ${SEQ}); }
  seen = s;
  if (Atomics.load(I, ${CMD}) === 1) break;
  claimChunks(I, gemm, fail);
}
`;

interface Slot {
  worker: Worker;
  errors: MessagePort;
}

class ThreadPool implements GemmThreads {
  private closed = false;
  private job = 0;
  /** Chunks run by the workers so far (all chunks minus the caller's): for tests and benchmarks. */
  workerChunks = 0;
  private readonly ctrl: Int32Array;

  constructor(
    private readonly rt: GemmRuntime,
    private readonly slots: Slot[],
  ) {
    this.ctrl = new Int32Array(rt.memory.buffer, 0, CONTROL_INTS);
  }

  get threads(): number {
    return this.slots.length + 1;
  }

  run(job: GemmJob): void {
    if (this.closed) throw new Error('matmul: the CPU thread pool was shut down');
    const I = this.ctrl;
    const panels = job.npad >> 3; // 8-column panels
    // About 4 chunks per thread, whole multiples of 4 panels (the 1-row tile spans 4).
    const chunk = Math.max(4, Math.ceil(panels / (4 * this.threads) / 4) * 4);
    const chunks = Math.ceil(panels / chunk);
    // Publish: first make nothing claimable under the new job number, then write the job, then open
    // its chunks (see claimChunks for why the job number is part of the claim word).
    this.job = (this.job + 1) & (2 ** (31 - CHUNK_BITS) - 1);
    Atomics.store(I, NEXT, (this.job << CHUNK_BITS) | CHUNK_MASK);
    I.set([chunk, panels, job.aP, job.bP, job.c, job.m, job.k, job.npad, KC, job.ldb], CHUNK);
    Atomics.store(I, CHUNKS, chunks);
    Atomics.store(I, DONE, 0);
    Atomics.store(I, ERR, 0);
    Atomics.store(I, NEXT, this.job << CHUNK_BITS);
    Atomics.add(I, SEQ, 1);
    Atomics.notify(I, SEQ);
    let error: unknown = null;
    const mine = claimChunks(I, this.rt.gemm, (e) => {
      error ??= e;
    });
    this.workerChunks += chunks - mine;
    // Wait for chunks the workers claimed. Generous deadline: 60 s + 1 s per GFLOP of the job.
    const deadline = performance.now() + 60_000 + (2 * job.m * job.k * job.npad) / 1e6;
    let spins = 0;
    for (let done = Atomics.load(I, DONE); done < chunks; done = Atomics.load(I, DONE)) {
      if (spins++ < SPIN) continue;
      const left = deadline - performance.now();
      if (left <= 0) {
        void this.close();
        throw new Error('matmul: a CPU worker thread stopped responding; the thread pool was shut down');
      }
      Atomics.wait(I, DONE, done, Math.min(left, 1000));
    }
    if (error) throw error;
    if (Atomics.load(I, ERR) !== 0) {
      const msg = this.slots.map((s) => receiveMessageOnPort(s.errors)?.message).find((m) => m !== undefined);
      throw new Error(`matmul: a CPU worker thread failed: ${msg ?? 'unknown error'}`);
    }
  }

  /** Ask every worker to leave its loop, then terminate it (resolves when all have stopped). */
  close(): Promise<unknown> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    Atomics.store(this.ctrl, CMD, 1);
    Atomics.add(this.ctrl, SEQ, 1);
    Atomics.notify(this.ctrl, SEQ);
    return Promise.all(
      this.slots.map(({ worker, errors }) => {
        errors.close();
        return worker.terminate();
      }),
    );
  }
}

let pool: ThreadPool | null = null;

/**
 * Run the 'cpu' backend's matmul on `threads` threads (the caller plus `threads - 1` workers);
 * 1 turns threading off. Packed weights are re-packed into the new shared memory on next use.
 * Products under about a million flops stay on one thread (see PARALLEL_MIN_FLOPS).
 */
export async function enableCpuThreads(threads: number): Promise<void> {
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    throw new RangeError(
      `enableCpuThreads: threads must be an integer from 1 to ${MAX_THREADS}, got ${threads}`,
    );
  }
  await disableCpuThreads();
  if (threads === 1) return;
  const relaxed = getGemmRuntime().variant.startsWith('relaxed');
  const rt = createGemmRuntime({ shared: true, relaxed });
  const slots: Slot[] = [];
  const ready: Promise<void>[] = [];
  for (let w = 0; w < threads - 1; w++) {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { module: rt.module, memory: rt.memory, port: port2 },
      transferList: [port2],
    });
    ready.push(
      new Promise((resolve, reject) => {
        worker.once('message', () => resolve());
        worker.once('error', reject);
        worker.once('exit', (code) =>
          reject(new Error(`matmul: CPU worker thread exited early (code ${code})`)),
        );
      }),
    );
    port1.unref();
    slots.push({ worker, errors: port1 });
  }
  const next = new ThreadPool(rt, slots);
  try {
    await Promise.all(ready);
  } catch (e) {
    await next.close();
    throw e;
  }
  for (const { worker } of slots) {
    worker.removeAllListeners();
    worker.unref(); // only now: while starting, the pending 'ready' must keep the process alive
    // A worker that dies outside a chunk (it catches errors inside one) takes the pool down; the
    // next parallel product reports it instead of waiting for an answer that will not come.
    worker.on('error', () => void next.close());
  }
  rt.threads = next;
  pool = next;
  setGemmRuntime(rt);
}

/** Stop the worker threads and go back to a single-threaded runtime. */
export async function disableCpuThreads(): Promise<void> {
  if (!pool) return;
  const old = pool;
  pool = null;
  setGemmRuntime(null);
  await old.close();
}

/** Threads the 'cpu' matmul runs on (1 unless enableCpuThreads was called). */
export function cpuThreads(): number {
  return pool?.threads ?? 1;
}
