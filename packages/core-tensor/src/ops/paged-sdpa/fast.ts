/**
 * @file Fast f32 paged attention for the 'cpu' backend (PagedAttention, arXiv:2309.06180). Per batch
 * row it first turns the block table into the storage offset of every key and value position
 * (T integers), then runs the contiguous kernel's loops (ops/sdpa/fast.ts) with those offsets in
 * place of `j · stride`: no gather, no copy of the cache, and each key row is still D contiguous
 * floats, so the inner loops are the same unit-stride loops.
 *
 * The arithmetic is the contiguous kernel's, in the same order: each score is one float64 dot
 * product summed over d in order, then · scale; max-shifted exp weights summed in key order; values
 * accumulated in float64 four keys at a time over groups aligned at key 0 (one key at a time in a
 * group holding a zero weight, and in the tail); one division and one f32 rounding at the end.
 * So on the same keys, values and mask, paged and contiguous attention agree bit for bit, whatever
 * the block size and however the blocks are scattered or shared. Rows with a NaN or +Inf score, or
 * only -Inf ones, are NaN; a row that may attend to no key is zero (as in sdpa).
 * Other dtypes, or pools whose rows are not unit-stride, go to the reference kernel.
 */
import type { Backend } from '../../backend';
import { cpuStorage } from '../../backends/cpu';
import { Tensor } from '../../tensor';
import { readBlockTable } from './block-table';
import type { PagedSdpaAttrs } from './paged-sdpa';
import { pagedSdpaReference } from './reference';

/**
 * score[j] = q·k_j · scale for keys j0 <= j <= last, where key j starts at K[at[j] + head]; four
 * keys at a time so each q[d] is loaded once.
 */
function scores(
  q: Float64Array,
  K: Float32Array,
  at: Int32Array,
  head: number,
  D: number,
  j0: number,
  last: number,
  scale: number,
  score: Float64Array,
): void {
  let j = j0;
  for (; j + 3 <= last; j += 4) {
    const k0 = at[j] + head;
    const k1 = at[j + 1] + head;
    const k2 = at[j + 2] + head;
    const k3 = at[j + 3] + head;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let d = 0; d < D; d++) {
      const x = q[d];
      s0 += x * K[k0 + d];
      s1 += x * K[k1 + d];
      s2 += x * K[k2 + d];
      s3 += x * K[k3 + d];
    }
    score[j] = s0 * scale;
    score[j + 1] = s1 * scale;
    score[j + 2] = s2 * scale;
    score[j + 3] = s3 * scale;
  }
  for (; j <= last; j++) {
    const ko = at[j] + head;
    let s = 0;
    for (let d = 0; d < D; d++) s += q[d] * K[ko + d];
    score[j] = s * scale;
  }
}

/** Scores of two query rows on one KV head, keys 0..last four at a time; returns the first key not done. */
function scoresPair(
  qa: Float64Array,
  qb: Float64Array,
  K: Float32Array,
  at: Int32Array,
  head: number,
  D: number,
  last: number,
  scale: number,
  sa: Float64Array,
  sb: Float64Array,
): number {
  let j = 0;
  for (; j + 3 <= last; j += 4) {
    const k0 = at[j] + head;
    const k1 = at[j + 1] + head;
    const k2 = at[j + 2] + head;
    const k3 = at[j + 3] + head;
    let a0 = 0;
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    let b0 = 0;
    let b1 = 0;
    let b2 = 0;
    let b3 = 0;
    for (let d = 0; d < D; d++) {
      const x = qa[d];
      const y = qb[d];
      const c0 = K[k0 + d];
      const c1 = K[k1 + d];
      const c2 = K[k2 + d];
      const c3 = K[k3 + d];
      a0 += x * c0;
      a1 += x * c1;
      a2 += x * c2;
      a3 += x * c3;
      b0 += y * c0;
      b1 += y * c1;
      b2 += y * c2;
      b3 += y * c3;
    }
    sa[j] = a0 * scale;
    sa[j + 1] = a1 * scale;
    sa[j + 2] = a2 * scale;
    sa[j + 3] = a3 * scale;
    sb[j] = b0 * scale;
    sb[j + 1] = b1 * scale;
    sb[j + 2] = b2 * scale;
    sb[j + 3] = b3 * scale;
  }
  return j;
}

/**
 * Turns score[0..last] into weights exp(score - max) in place (masked keys: weight 0) and returns
 * their sum: 0 when the mask allows no key, NaN when a score is NaN or +Inf or all allowed ones are
 * -Inf.
 */
function weights(score: Float64Array, last: number, M: Uint8Array | null, mRow: number, mt: number): number {
  let max = -Infinity;
  let bad = false;
  let allowed = 0;
  for (let j = 0; j <= last; j++) {
    if (M !== null && !M[mRow + j * mt]) {
      score[j] = -Infinity;
      continue;
    }
    allowed++;
    const s = score[j];
    if (s > max) max = s;
    else if (!(s <= max)) bad = true;
  }
  if (allowed === 0) {
    score.fill(0, 0, last + 1);
    return 0;
  }
  if (bad || max === Infinity || max === -Infinity) return Number.NaN;
  let sum = 0;
  for (let j = 0; j <= last; j++) {
    const p = Math.exp(score[j] - max);
    score[j] = p;
    sum += p;
  }
  return sum;
}

/** acc += p · v for one value row (skipped when p is 0, so a NaN value behind weight 0 stays out). */
function addValue(acc: Float64Array, p: number, V: Float32Array, vo: number, Dv: number): void {
  if (p === 0) return;
  for (let d = 0; d < Dv; d++) acc[d] += p * V[vo + d];
}

/** acc += Σ_j w[j] · v_j for keys j0 <= j <= last (j0 a multiple of 4), four keys at a time. */
function values(
  w: Float64Array,
  j0: number,
  last: number,
  V: Float32Array,
  at: Int32Array,
  head: number,
  Dv: number,
  acc: Float64Array,
): void {
  let j = j0;
  for (; j + 3 <= last; j += 4) {
    const p0 = w[j];
    const p1 = w[j + 1];
    const p2 = w[j + 2];
    const p3 = w[j + 3];
    if (p0 === 0 || p1 === 0 || p2 === 0 || p3 === 0) {
      for (let jj = j; jj < j + 4; jj++) addValue(acc, w[jj], V, at[jj] + head, Dv);
      continue;
    }
    const v0 = at[j] + head;
    const v1 = at[j + 1] + head;
    const v2 = at[j + 2] + head;
    const v3 = at[j + 3] + head;
    for (let d = 0; d < Dv; d++) {
      acc[d] += p0 * V[v0 + d] + p1 * V[v1 + d] + p2 * V[v2 + d] + p3 * V[v3 + d];
    }
  }
  for (; j <= last; j++) addValue(acc, w[j], V, at[j] + head, Dv);
}

/**
 * values() for two rows over keys 0..last: each loaded value element serves both. Stops at the
 * first group where either row has a zero weight and returns the key reached.
 */
function valuesPair(
  wa: Float64Array,
  wb: Float64Array,
  last: number,
  V: Float32Array,
  at: Int32Array,
  head: number,
  Dv: number,
  accA: Float64Array,
  accB: Float64Array,
): number {
  let j = 0;
  for (; j + 3 <= last; j += 4) {
    const a0 = wa[j];
    const a1 = wa[j + 1];
    const a2 = wa[j + 2];
    const a3 = wa[j + 3];
    const b0 = wb[j];
    const b1 = wb[j + 1];
    const b2 = wb[j + 2];
    const b3 = wb[j + 3];
    if (a0 === 0 || a1 === 0 || a2 === 0 || a3 === 0 || b0 === 0 || b1 === 0 || b2 === 0 || b3 === 0) break;
    const v0 = at[j] + head;
    const v1 = at[j + 1] + head;
    const v2 = at[j + 2] + head;
    const v3 = at[j + 3] + head;
    for (let d = 0; d < Dv; d++) {
      const x0 = V[v0 + d];
      const x1 = V[v1 + d];
      const x2 = V[v2 + d];
      const x3 = V[v3 + d];
      accA[d] += a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3;
      accB[d] += b0 * x0 + b1 * x1 + b2 * x2 + b3 * x3;
    }
  }
  return j;
}

/** O[o + d] = acc[d] / sum (NaN when sum is NaN, zero when no key was allowed). */
function store(O: Float32Array, o: number, acc: Float64Array, sum: number, Dv: number): void {
  if (Number.isNaN(sum)) O.fill(Number.NaN, o, o + Dv);
  else if (sum === 0) O.fill(0, o, o + Dv);
  else for (let d = 0; d < Dv; d++) O[o + d] = acc[d] / sum;
}

/**
 * at[j] = storage offset of position j (head 0) of one row: offset + block · blockStride +
 * slot · posStride, walking the row's blocks.
 */
function positionOffsets(
  at: Int32Array,
  blocks: Int32Array,
  first: number,
  T: number,
  bs: number,
  offset: number,
  blockStride: number,
  posStride: number,
): void {
  for (let i = 0, j = 0; j < T; i++) {
    const base = offset + blocks[first + i] * blockStride;
    for (let s = 0; s < bs && j < T; s++, j++) at[j] = base + s * posStride;
  }
}

export function pagedSdpaFast(inputs: Tensor[], attrs: PagedSdpaAttrs, backend: Backend): Tensor {
  const [q, keys, vals, table] = inputs;
  if (q.dtype !== 'f32' || keys.strides[3] !== 1 || vals.strides[3] !== 1) {
    return pagedSdpaReference(inputs, attrs, backend);
  }
  const { causal, scale, hasMask, length: T, blockSize: bs } = attrs;
  const [B, Hq, S, D] = q.shape;
  const [N, Hkv] = keys.shape;
  const Dv = vals.shape[3];
  const group = Hq / Hkv;
  const used = Math.ceil(T / bs);
  const blocks = readBlockTable(table, used, N);
  const Q = cpuStorage(q) as Float32Array;
  const K = cpuStorage(keys) as Float32Array;
  const V = cpuStorage(vals) as Float32Array;
  const [qb, qh, qs, qd] = q.strides;
  const [kn, kh, kt] = keys.strides;
  const [vn, vh, vt] = vals.strides;
  let M: Uint8Array | null = null;
  let [mb, mh, ms, mt, mo] = [0, 0, 0, 0, 0];
  if (hasMask) {
    const mv = inputs[4].expand([B, Hq, S, T]);
    M = cpuStorage(mv) as Uint8Array;
    [mb, mh, ms, mt] = mv.strides;
    mo = mv.offset;
    mv.dispose();
  }
  const out = Tensor.empty(backend, [B, Hq, S, Dv], 'f32');
  const O = cpuStorage(out) as Float32Array;
  const kAt = new Int32Array(T);
  const vAt = new Int32Array(T);
  const rowA = new Float64Array(D);
  const rowB = new Float64Array(D);
  const scoreA = new Float64Array(T);
  const scoreB = new Float64Array(T);
  const accA = new Float64Array(Dv);
  const accB = new Float64Array(Dv);
  // The rows that read one KV head, (h, i) for its `group` query heads, go in pairs.
  const rows = group * S;
  for (let b = 0; b < B; b++) {
    positionOffsets(kAt, blocks, b * used, T, bs, keys.offset, kn, kt);
    positionOffsets(vAt, blocks, b * used, T, bs, vals.offset, vn, vt);
    for (let kvh = 0; kvh < Hkv; kvh++) {
      const kHead = kvh * kh;
      const vHead = kvh * vh;
      for (let r = 0; r < rows; r += 2) {
        const paired = r + 1 < rows;
        const ha = kvh * group + Math.floor(r / S);
        const ia = r % S;
        const hb = kvh * group + Math.floor((r + 1) / S);
        const ib = (r + 1) % S;
        const lastA = causal ? T - S + ia : T - 1;
        const lastB = causal ? T - S + ib : T - 1;
        const qoA = q.offset + b * qb + ha * qh + ia * qs;
        for (let d = 0; d < D; d++) rowA[d] = Q[qoA + d * qd];
        let j0 = 0;
        if (paired) {
          const qoB = q.offset + b * qb + hb * qh + ib * qs;
          for (let d = 0; d < D; d++) rowB[d] = Q[qoB + d * qd];
          j0 = scoresPair(rowA, rowB, K, kAt, kHead, D, Math.min(lastA, lastB), scale, scoreA, scoreB);
          scores(rowB, K, kAt, kHead, D, j0, lastB, scale, scoreB);
        }
        scores(rowA, K, kAt, kHead, D, j0, lastA, scale, scoreA);
        const oA = ((b * Hq + ha) * S + ia) * Dv;
        const sumA = weights(scoreA, lastA, M, mo + b * mb + ha * mh + ia * ms, mt);
        accA.fill(0);
        if (!paired) {
          if (!Number.isNaN(sumA)) values(scoreA, 0, lastA, V, vAt, vHead, Dv, accA);
          store(O, oA, accA, sumA, Dv);
          continue;
        }
        const oB = ((b * Hq + hb) * S + ib) * Dv;
        const sumB = weights(scoreB, lastB, M, mo + b * mb + hb * mh + ib * ms, mt);
        accB.fill(0);
        // A NaN row skips the work (its output is NaN whatever it accumulates).
        const both = !Number.isNaN(sumA) && !Number.isNaN(sumB);
        const j1 = both
          ? valuesPair(scoreA, scoreB, Math.min(lastA, lastB), V, vAt, vHead, Dv, accA, accB)
          : 0;
        if (!Number.isNaN(sumA)) values(scoreA, j1, lastA, V, vAt, vHead, Dv, accA);
        if (!Number.isNaN(sumB)) values(scoreB, j1, lastB, V, vAt, vHead, Dv, accB);
        store(O, oA, accA, sumA, Dv);
        store(O, oB, accB, sumB, Dv);
      }
    }
  }
  return out;
}
