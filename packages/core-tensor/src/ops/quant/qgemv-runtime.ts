/**
 * @file The loaded quantized matrix-vector kernel (wasm/qgemv.ts): one WebAssembly instance with
 * its own memory, a heap over it (the matmul's WasmHeap), and the weights uploaded into it, each
 * once, in the kernel's layout (rows padded to whole 32-weight runs). Isomorphic.
 *
 * The variant is chosen once, as the GEMM runtime does (gemm-runtime.ts): relaxed SIMD (fused
 * multiply-add) where the engine validates it (Chrome 114+, Node 22+; Node 20 behind
 * --experimental-wasm-relaxed-simd), plain SIMD otherwise. Tests force each one.
 *
 * Uploaded weights are kept while their QuantizedWeight object is alive (a WeakMap) and released
 * when it is garbage collected; their bytes are treated as constant, like linear()'s packed weights.
 */
import { WasmHeap } from '../matmul/wasm-heap';
import { QGEMV_WASM } from './qgemv-wasm.generated';
import { groupsPerRow, halfAt, type QuantFormat, type QuantizedWeight } from './quantized-weight';

export type QgemvVariant = keyof typeof QGEMV_WASM;

/** Formats the WebAssembly kernel runs (the others take the reference path); codes of wasm/qgemv.ts. */
export const FORMAT_CODE: Partial<Record<QuantFormat, number>> = {
  f16: 0,
  bf16: 1,
  int8: 2,
  'int8-group': 3,
  'int4-group': 4,
  q8_0: 5,
  q4_0: 6,
};

/** See wasm/qgemv.ts for the meaning of each argument. */
export type QgemvFn = (
  fmt: number,
  w: number,
  rowBytes: number,
  s: number,
  z: number,
  g: number,
  x: number,
  xs: number,
  kp: number,
  m: number,
  y: number,
  ldy: number,
  n0: number,
  n1: number,
  scr: number,
  acc: number,
) => void;

/** A weight in the kernel's memory. */
export interface UploadedWeight {
  fmt: number;
  w: number;
  rowBytes: number;
  /** Scales (0: none), zero points (0: symmetric). */
  s: number;
  z: number;
  g: number;
  /** Padded row length in weights (multiple of 32). */
  kp: number;
  /** Bytes the weight takes in the kernel's memory. */
  bytes: number;
}

export interface QgemvRuntime {
  readonly variant: QgemvVariant;
  readonly memory: WebAssembly.Memory;
  readonly heap: WasmHeap;
  readonly qgemv: QgemvFn;
  readonly weights: WeakMap<QuantizedWeight, UploadedWeight>;
  readonly released: FinalizationRegistry<number[]>;
  scratch: { ptr: number; bytes: number } | null;
}

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Whether this engine runs the relaxed-SIMD build of the kernel. */
export function qgemvRelaxedSupported(): boolean {
  return WebAssembly.validate(decodeBase64(QGEMV_WASM.relaxed.base64));
}

const modules = new Map<QgemvVariant, WebAssembly.Module>();

export interface QgemvRuntimeOptions {
  /** Use fused multiply-add when the engine supports relaxed SIMD (default true). */
  relaxed?: boolean;
}

export function createQgemvRuntime({ relaxed = true }: QgemvRuntimeOptions = {}): QgemvRuntime {
  const variant: QgemvVariant = relaxed && qgemvRelaxedSupported() ? 'relaxed' : 'simd';
  let module = modules.get(variant);
  if (!module) {
    module = new WebAssembly.Module(decodeBase64(QGEMV_WASM[variant].base64));
    modules.set(variant, module);
  }
  const memory = new WebAssembly.Memory({ initial: 16 });
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const heap = new WasmHeap(memory, 64); // nothing at address 0: a zero pointer means "none"
  return {
    variant,
    memory,
    heap,
    qgemv: instance.exports.qgemv as QgemvFn,
    weights: new WeakMap(),
    released: new FinalizationRegistry((ptrs) => {
      for (const p of ptrs) heap.release(p);
    }),
    scratch: null,
  };
}

let current: QgemvRuntime | null = null;

/** The runtime the 'cpu' quantLinear uses (created on first use). */
export function getQgemvRuntime(): QgemvRuntime {
  current ??= createQgemvRuntime();
  return current;
}

/** Replace the runtime (tests force a variant); weights uploaded to the old one are dropped with it. */
export function setQgemvRuntime(rt: QgemvRuntime | null): void {
  current = rt;
}

const roundUp = (x: number, m: number) => Math.ceil(x / m) * m;

/** The weight in the kernel's layout, uploaded on first use. */
export function uploadWeight(rt: QgemvRuntime, qw: QuantizedWeight): UploadedWeight {
  const have = rt.weights.get(qw);
  if (have) return have;
  const fmt = FORMAT_CODE[qw.format];
  if (fmt === undefined) throw new Error(`qgemv: format ${qw.format} has no WebAssembly kernel`);
  const [n, k] = qw.shape;
  const f = qw.format;
  const g = qw.groupSize ?? 32;
  let kp: number;
  let rowBytes: number;
  if (f === 'f16' || f === 'bf16') [kp, rowBytes] = [roundUp(k, 32), 2 * roundUp(k, 32)];
  else if (f === 'int8') [kp, rowBytes] = [roundUp(k, 32), roundUp(k, 32)];
  else if (f === 'int8-group') [kp, rowBytes] = [groupsPerRow(k, g) * g, groupsPerRow(k, g) * g];
  else if (f === 'int4-group') [kp, rowBytes] = [groupsPerRow(k, g) * g, (groupsPerRow(k, g) * g) / 2];
  else [kp, rowBytes] = [k, (k / 32) * (f === 'q8_0' ? 34 : 18)];
  const ptrs: number[] = [];
  const alloc = (bytes: number) => {
    const p = rt.heap.alloc(bytes + 16); // + 16: slack past the last vector load
    ptrs.push(p);
    return p;
  };
  const w = alloc(n * rowBytes);
  let s = 0;
  let z = 0;
  let sBytes = 0;
  if (f === 'int8') sBytes = 4 * n;
  else if (qw.scales) sBytes = qw.scales.length;
  if (sBytes) s = alloc(sBytes);
  if (qw.zeros) z = alloc(qw.zeros.length);
  const mem = new Uint8Array(rt.memory.buffer); // after the allocations: growth replaces the buffer
  const srcRow = f === 'f16' || f === 'bf16' ? 2 * k : f === 'int8' ? k : rowBytes;
  if (srcRow === rowBytes) mem.set(qw.data, w);
  else {
    mem.fill(0, w, w + n * rowBytes); // padding: weight 0
    for (let r = 0; r < n; r++) mem.set(qw.data.subarray(r * srcRow, (r + 1) * srcRow), w + r * rowBytes);
  }
  if (f === 'int8') {
    const sc = qw.scales as Uint8Array;
    const dst = new Float32Array(rt.memory.buffer, s, n);
    const dv = new DataView(sc.buffer, sc.byteOffset, sc.byteLength);
    for (let r = 0; r < n; r++)
      dst[r] = qw.scaleDtype === 'f32' ? dv.getFloat32(4 * r, true) : halfAt(sc, 2 * r);
  } else if (qw.scales) mem.set(qw.scales, s);
  if (qw.zeros) mem.set(qw.zeros, z);
  const up: UploadedWeight = {
    fmt,
    w,
    rowBytes,
    s,
    z,
    g,
    kp,
    bytes: n * rowBytes + sBytes + (qw.zeros?.length ?? 0),
  };
  rt.weights.set(qw, up);
  rt.released.register(qw, ptrs);
  return up;
}

/** A per-call scratch block of at least `bytes`, reused while big enough. */
export function scratchBlock(rt: QgemvRuntime, bytes: number): number {
  if (rt.scratch && rt.scratch.bytes >= bytes) return rt.scratch.ptr;
  if (rt.scratch) rt.heap.release(rt.scratch.ptr);
  rt.scratch = null;
  const size = Math.max(bytes, 1 << 16);
  rt.scratch = { ptr: rt.heap.alloc(size), bytes: size };
  return rt.scratch.ptr;
}

/** Rows per kernel call: the kernel keeps m accumulators; more rows run in chunks of this many. */
export const MAX_ROWS = 8;

/**
 * x rows for the integer formats: each run of 32 values rounded to 16-bit integers with one f32
 * scale, s = max |x_run| / 32767, q = round(x / s) (|x - s q| <= s / 2); runs past K are zero.
 * The kernel's integer dot products then see x with a relative error of at most 2^-16 of each run's
 * largest magnitude.
 */
export function quantizeRows(
  x: Float32Array,
  r0: number,
  mc: number,
  k: number,
  kp: number,
  xq: Int16Array,
  xqAt: number,
  xs: Float32Array,
  xsAt: number,
): void {
  const runs = kp / 32;
  for (let r = 0; r < mc; r++) {
    const src = (r0 + r) * k;
    for (let t = 0; t < runs; t++) {
      const k0 = t * 32;
      const k1 = Math.min(k, k0 + 32);
      let amax = 0;
      for (let j = k0; j < k1; j++) amax = Math.max(amax, Math.abs(x[src + j]));
      const sc = Math.fround(amax / 32767);
      xs[xsAt + r * runs + t] = sc;
      const at = xqAt + r * kp + k0;
      if (sc === 0 || !Number.isFinite(sc)) {
        xq.fill(0, at, at + 32);
        if (!Number.isFinite(sc) || Number.isNaN(amax)) xs[xsAt + r * runs + t] = Number.NaN; // NaN / Inf in x: NaN out
        continue;
      }
      const inv = 1 / sc;
      for (let j = k0; j < k0 + 32; j++) {
        const q = j < k1 ? Math.round(x[src + j] * inv) : 0;
        xq[at + j - k0] = Math.min(32767, Math.max(-32767, q));
      }
    }
  }
}

/**
 * y[r, :] = W x[r, :] for the m rows of x (contiguous [m, K] f32), into y ([m, N] f32), on the
 * kernel. Each chunk of up to 8 rows streams the weight once.
 */
export function runQgemv(
  rt: QgemvRuntime,
  qw: QuantizedWeight,
  x: Float32Array,
  m: number,
  y: Float32Array,
): void {
  const up = uploadWeight(rt, qw);
  const [n, k] = qw.shape;
  const half = up.fmt <= 1;
  const xBytes = MAX_ROWS * up.kp * 4;
  const xsBytes = MAX_ROWS * (up.kp / 32) * 4;
  const yBytes = MAX_ROWS * n * 4;
  const base = scratchBlock(rt, 1024 + 128 + xBytes + xsBytes + yBytes);
  const scr = base;
  const acc = base + 1024;
  const xP = acc + 128;
  const xsP = xP + xBytes;
  const yP = xsP + xsBytes;
  // Views after the last allocation (growing the memory replaces its buffer).
  const mem = new Float32Array(rt.memory.buffer);
  const mem16 = new Int16Array(rt.memory.buffer);
  for (let r0 = 0; r0 < m; r0 += MAX_ROWS) {
    const mc = Math.min(MAX_ROWS, m - r0);
    if (half) {
      for (let r = 0; r < mc; r++) {
        const at = (xP >> 2) + r * up.kp;
        mem.set(x.subarray((r0 + r) * k, (r0 + r + 1) * k), at);
        mem.fill(0, at + k, at + up.kp); // zeros past K: padded weights contribute nothing
      }
    } else quantizeRows(x, r0, mc, k, up.kp, mem16, xP >> 1, mem, xsP >> 2);
    rt.qgemv(up.fmt, up.w, up.rowBytes, up.s, up.z, up.g, xP, xsP, up.kp, mc, yP, n, 0, n, scr, acc);
    y.set(mem.subarray(yP >> 2, (yP >> 2) + mc * n), r0 * n);
  }
}
