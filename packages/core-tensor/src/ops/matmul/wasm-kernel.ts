/**
 * @file The fast CPU matmul ('cpu' backend): f32 operands go through the WebAssembly SIMD GEMM
 * (wasm/gemm.ts); other dtypes fall back to the reference kernel. Batched products loop over the
 * broadcast batch, packing B once when its batch is broadcast.
 *
 * Per call, A is packed into wasm memory and C copied out (both small in decode). B is
 * - packed once and cached when it is a constant weight (linear(): MatmulAttrs.constantB) that
 *   fits in the WebAssembly memory (packed-weights.ts; one that does not is packed per call),
 * - read in place when it is row-major with contiguous rows (one memcpy per batch element),
 * - packed per call otherwise (e.g. attention's k^T view).
 * Accumulation is in f32 (the reference uses f64): the error of each output is bounded by about
 * k * 2^-24 * sum_q |a_iq * b_qj|, which the tests check.
 */

import type { Backend, Storage } from '../../backend';
import { cpuStorage } from '../../backends/cpu';
import { sizeOf } from '../../shape';
import { Tensor } from '../../tensor';
import { f32View, type GemmRuntime, getGemmRuntime, runGemm } from './gemm-runtime';
import type { MatmulAttrs } from './matmul';
import { packA, packB, packedASize, packedBSize, padN } from './pack';
import { weightCache } from './packed-weights';
import { matmulReference } from './reference';

/** Storage offset of every batch element of an expanded view, in row-major batch order. */
function batchOffsets(t: Tensor, batchRank: number): number[] {
  const shape = t.shape.slice(0, batchRank);
  const out: number[] = [];
  const idx = new Array<number>(batchRank).fill(0);
  for (let p = 0; p < sizeOf(shape); p++) {
    let off = t.offset;
    for (let d = 0; d < batchRank; d++) off += idx[d] * t.strides[d];
    out.push(off);
    for (let d = batchRank - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

/** Per-call scratch: one block reused while big enough. */
const scratch = new WeakMap<GemmRuntime, { ptr: number; bytes: number }>();

/**
 * A scratch block of at least `bytes`. Grows by doubling when there is room; when the memory is
 * full of packed weights, the newest of them (never `keep`, the weight this call uses) are freed
 * until the block fits: scratch is needed for every call, a packed weight only saves re-packing.
 */
function scratchBlock(rt: GemmRuntime, bytes: number, keep: number): number {
  const s = scratch.get(rt);
  if (s && s.bytes >= bytes) return s.ptr;
  if (s) {
    rt.heap.release(s.ptr);
    scratch.delete(rt); // never hand out a released block if the allocation below throws
  }
  const tryAlloc = (n: number) => {
    try {
      return rt.heap.alloc(n);
    } catch (e) {
      if (e instanceof RangeError) return -1;
      throw e;
    }
  };
  let size = Math.max(bytes, (s?.bytes ?? 0) * 2);
  let ptr = tryAlloc(size);
  if (ptr < 0) {
    size = bytes;
    ptr = tryAlloc(size);
  }
  while (ptr < 0 && weightCache(rt).evictNewest(keep)) ptr = tryAlloc(size);
  if (ptr < 0) ptr = rt.heap.alloc(size); // nothing left to free: throws the heap's RangeError
  scratch.set(rt, { ptr, bytes: size });
  return ptr;
}

const align64 = (bytes: number) => Math.ceil(bytes / 64) * 64;

export function matmulWasm(inputs: Tensor[], attrs: MatmulAttrs, backend: Backend): Tensor {
  const [a, b] = inputs;
  if (a.dtype !== 'f32' || b.dtype !== 'f32') return matmulReference(inputs, attrs, backend);
  const { batch, m, k, n } = attrs;
  const out = Tensor.empty(backend, [...batch, m, n], 'f32');
  if (m === 0 || n === 0 || k === 0) return out; // zero-filled: an empty sum is 0
  const av = a.expand([...batch, m, k]);
  const bv = b.expand([...batch, k, n]);
  try {
    multiply(av, bv, out, batch.length, attrs);
  } finally {
    av.dispose();
    bv.dispose();
  }
  return out;
}

function multiply(
  av: Tensor,
  bv: Tensor,
  out: Tensor,
  batchRank: number,
  { m, k, n, constantB }: MatmulAttrs,
) {
  const rt = getGemmRuntime();
  const aSrc = cpuStorage(av) as Float32Array;
  const bSrc = cpuStorage(bv) as Float32Array;
  const dst = cpuStorage(out) as Float32Array;
  const [sam, sak] = av.strides.slice(-2);
  const [sbk, sbn] = bv.strides.slice(-2);
  const aOffs = batchOffsets(av, batchRank);
  const bOffs = batchOffsets(bv, batchRank);
  const bBroadcast = bOffs.every((o) => o === bOffs[0]);
  const npad = padN(n);

  // Where B comes from: the weight cache, in place (row-major rows, copied as is), or packed here.
  let cachedB = -1;
  if (constantB && bBroadcast) {
    cachedB = weightCache(rt).get(bv.storage as Storage, bSrc, bOffs[0], sbk, sbn, k, n);
  }
  const rowMajorB = cachedB < 0 && sbn === 1 && (sbk === n || k === 1);
  const bFloats = cachedB >= 0 ? 0 : rowMajorB ? k * n + 8 : packedBSize(k, n); // + 8: the kernel's read slack

  const aBytes = align64(packedASize(m, k) * 4);
  const cBytes = align64(m * npad * 4);
  const base = scratchBlock(rt, aBytes + cBytes + bFloats * 4, cachedB);
  const aP = base;
  const cP = base + aBytes;
  const bScratch = base + aBytes + cBytes;
  const mem = f32View(rt); // after the last allocation: growing the memory replaces its buffer

  for (let p = 0; p < aOffs.length; p++) {
    packA(aSrc, aOffs[p], sam, sak, m, k, mem, aP >> 2);
    let bP = cachedB;
    if (bP < 0) {
      bP = bScratch;
      if (p === 0 || !bBroadcast) {
        if (rowMajorB) mem.set(bSrc.subarray(bOffs[p], bOffs[p] + k * n), bScratch >> 2);
        else packB(bSrc, bOffs[p], sbk, sbn, k, n, mem, bScratch >> 2);
      }
    }
    runGemm(rt, { aP, bP, c: cP, m, k, npad, ldb: rowMajorB ? n * 4 : 0 });
    const o = out.offset + p * m * n;
    if (npad === n) dst.set(mem.subarray(cP >> 2, (cP >> 2) + m * n), o);
    else
      for (let i = 0; i < m; i++)
        dst.set(mem.subarray((cP >> 2) + i * npad, (cP >> 2) + i * npad + n), o + i * n);
  }
}
