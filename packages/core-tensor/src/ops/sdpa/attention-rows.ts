/**
 * @file The f32 attention row loops shared by the fast CPU kernels of sdpa (./fast.ts) and pagedSdpa
 * (../paged-sdpa/fast.ts): scores, max-shifted softmax weights, the weighted sum of values, and the
 * pairing of query rows that share a KV head. Key j of a KV head starts at K[kAt[j] + kHead] (value j
 * at V[vAt[j] + vHead]): a dense cache passes kAt[j] = j · stride, a paged one each position's offset
 * in its block, so both kernels run these same loops and, on the same keys, values and mask, agree
 * bit for bit.
 */
import type { Backend } from '../../backend';
import { cpuStorage } from '../../backends/cpu';
import { Tensor } from '../../tensor';

/** acc += p · v for one value row (skipped when p is 0, so a NaN value behind weight 0 stays out). */
function addValue(acc: Float64Array, p: number, V: Float32Array, vo: number, vd: number, Dv: number) {
  if (p === 0) return;
  for (let d = 0; d < Dv; d++) acc[d] += p * V[vo + d * vd];
}

/**
 * score[j] = q·k_j · scale for keys j0 <= j <= last, four keys at a time so each q[d] is loaded once
 * and four sums run in parallel; each sum adds its D products in the reference's order.
 */
function scores(
  q: Float64Array,
  K: Float32Array,
  at: Int32Array,
  head: number,
  kd: number,
  D: number,
  j0: number,
  last: number,
  scale: number,
  score: Float64Array,
): void {
  let j = j0;
  if (kd === 1) {
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
  }
  for (; j <= last; j++) {
    const ko = at[j] + head;
    let s = 0;
    for (let d = 0; d < D; d++) s += q[d] * K[ko + d * kd];
    score[j] = s * scale;
  }
}

/**
 * Scores of two query rows that share a KV head (GQA heads, or neighbouring positions), keys
 * 0..last four at a time (unit-stride key rows): each loaded key element serves both rows. Returns
 * the first key not done.
 */
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
 * Turns score[0..last] into softmax weights exp(score - max) in place (masked keys set to weight 0)
 * and returns their sum; 0 when the mask allows no key (the row is then zero, as in the reference);
 * NaN when a score is NaN or +Inf or all allowed ones are -Inf (the row is then NaN, as in the
 * reference).
 */
function weights(score: Float64Array, last: number, M: Uint8Array | null, mRow: number, mt: number): number {
  let max = -Infinity;
  let bad = false;
  let allowed = 0;
  for (let j = 0; j <= last; j++) {
    if (M !== null && !M[mRow + j * mt]) {
      score[j] = -Infinity; // masked: weight exactly 0
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

/**
 * acc += Σ_j w[j] · v_j for keys j0 <= j <= last (j0 a multiple of 4), four keys at a time (one load
 * and store of the accumulator per four keys). Keys of weight 0 are skipped as in the reference, so
 * a NaN or Inf value there cannot leak in: a block holding one goes key by key.
 */
function values(
  w: Float64Array,
  j0: number,
  last: number,
  V: Float32Array,
  at: Int32Array,
  head: number,
  vd: number,
  Dv: number,
  acc: Float64Array,
): void {
  let j = j0;
  if (vd === 1) {
    for (; j + 3 <= last; j += 4) {
      const p0 = w[j];
      const p1 = w[j + 1];
      const p2 = w[j + 2];
      const p3 = w[j + 3];
      if (p0 === 0 || p1 === 0 || p2 === 0 || p3 === 0) {
        for (let jj = j; jj < j + 4; jj++) addValue(acc, w[jj], V, at[jj] + head, vd, Dv);
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
  }
  for (; j <= last; j++) addValue(acc, w[j], V, at[j] + head, vd, Dv);
}

/**
 * values() for two rows over keys 0..last (unit-stride value rows): each loaded value element serves
 * both. Stops at the first block where either row has a zero weight and returns the key reached.
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

/** O[o + d] = acc[d] / sum (all NaN when sum is NaN). */
function store(O: Float32Array, o: number, acc: Float64Array, sum: number, Dv: number): void {
  if (Number.isNaN(sum)) O.fill(Number.NaN, o, o + Dv);
  else if (sum === 0)
    O.fill(0, o, o + Dv); // no key allowed: defined as zero
  else for (let d = 0; d < Dv; d++) O[o + d] = acc[d] / sum;
}

/** at[j] = j · stride for j < T: the key or value offsets of a dense [.., T, ..] head. */
export function denseOffsets(T: number, stride: number): Int32Array {
  const at = new Int32Array(T);
  for (let j = 0; j < T; j++) at[j] = j * stride;
  return at;
}

/** Where one KV head's keys and values lie: key j at K[kAt[j] + kHead], value j at V[vAt[j] + vHead]. */
export interface HeadRows {
  kAt: Int32Array;
  kHead: number;
  vAt: Int32Array;
  vHead: number;
}

/** One f32 attention call: q [B, Hq, S, D] against T keys and values of Hkv heads. */
export interface F32Attention {
  q: Tensor;
  /** Storage of the keys and values, and the strides of their last (d) axis. */
  K: Float32Array;
  V: Float32Array;
  kd: number;
  vd: number;
  Hkv: number;
  T: number;
  Dv: number;
  /** Bool mask broadcastable to [B, Hq, S, T], or null. */
  mask: Tensor | null;
  causal: boolean;
  scale: number;
}

/**
 * The attention output [B, Hq, S, Dv] of `a`, reading q and the mask with their own strides and
 * the keys and values of KV head kvh of batch row b where `head(b, kvh)` says (called for b in
 * order, and kvh in order within each b).
 */
export function attendF32(
  a: F32Attention,
  backend: Backend,
  head: (b: number, kvh: number) => HeadRows,
): Tensor {
  const { q, K, V, kd, vd, Hkv, T, Dv, causal, scale } = a;
  const [B, Hq, S, D] = q.shape;
  const group = Hq / Hkv;
  const Q = cpuStorage(q) as Float32Array;
  const [qb, qh, qs, qd] = q.strides;
  let M: Uint8Array | null = null;
  let [mb, mh, ms, mt, mo] = [0, 0, 0, 0, 0];
  if (a.mask !== null) {
    const mv = a.mask.expand([B, Hq, S, T]);
    M = cpuStorage(mv) as Uint8Array;
    [mb, mh, ms, mt] = mv.strides;
    mo = mv.offset;
    mv.dispose();
  }
  const out = Tensor.empty(backend, [B, Hq, S, Dv], 'f32');
  const O = cpuStorage(out) as Float32Array;
  const rowA = new Float64Array(D);
  const rowB = new Float64Array(D);
  const scoreA = new Float64Array(T);
  const scoreB = new Float64Array(T);
  const accA = new Float64Array(Dv);
  const accB = new Float64Array(Dv);
  // The rows that read one KV head, (h, i) for its `group` query heads, go in pairs.
  const rows = group * S;
  for (let b = 0; b < B; b++) {
    for (let kvh = 0; kvh < Hkv; kvh++) {
      const { kAt, kHead, vAt, vHead } = head(b, kvh);
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
          if (kd === 1)
            j0 = scoresPair(rowA, rowB, K, kAt, kHead, D, Math.min(lastA, lastB), scale, scoreA, scoreB);
          scores(rowB, K, kAt, kHead, kd, D, j0, lastB, scale, scoreB);
        }
        scores(rowA, K, kAt, kHead, kd, D, j0, lastA, scale, scoreA);
        const oA = ((b * Hq + ha) * S + ia) * Dv;
        const sumA = weights(scoreA, lastA, M, mo + b * mb + ha * mh + ia * ms, mt);
        accA.fill(0);
        if (!paired) {
          if (!Number.isNaN(sumA)) values(scoreA, 0, lastA, V, vAt, vHead, vd, Dv, accA);
          store(O, oA, accA, sumA, Dv);
          continue;
        }
        const oB = ((b * Hq + hb) * S + ib) * Dv;
        const sumB = weights(scoreB, lastB, M, mo + b * mb + hb * mh + ib * ms, mt);
        accB.fill(0);
        // A NaN row skips the work (its output is NaN whatever it accumulates).
        const both = vd === 1 && !Number.isNaN(sumA) && !Number.isNaN(sumB);
        const j1 = both
          ? valuesPair(scoreA, scoreB, Math.min(lastA, lastB), V, vAt, vHead, Dv, accA, accB)
          : 0;
        if (!Number.isNaN(sumA)) values(scoreA, j1, lastA, V, vAt, vHead, vd, Dv, accA);
        if (!Number.isNaN(sumB)) values(scoreB, j1, lastB, V, vAt, vHead, vd, Dv, accB);
        store(O, oA, accA, sumA, Dv);
        store(O, oB, accB, sumB, Dv);
      }
    }
  }
  return out;
}
