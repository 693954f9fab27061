/**
 * @file Philox4x32-10, the counter-based random bijection of Salmon, Moraes, Dror and Shaw,
 * "Parallel random numbers: as easy as 1, 2, 3" (SC 2011, doi:10.1145/2063384.2063405), with the
 * constants and key schedule of Random123's philox.h. A pure function of a 128-bit counter and a
 * 64-bit key, so any backend (CPU, WebGPU, CUDA) computes word i of a stream from (key, counter)
 * alone, without sequential state. Checked against Random123's tests/kat_vectors.
 *
 * Words are unsigned 32-bit integers held in JS numbers; counter word 0 is the least significant.
 */
export type PhiloxKey = readonly [number, number];
export type PhiloxCounter = readonly [number, number, number, number];

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9; // golden ratio
const W1 = 0xbb67ae85; // sqrt(3) - 1
const ROUNDS = 10;

/** High 32 bits of the 64-bit product of two unsigned 32-bit integers, exact in doubles. */
function mulhi(a: number, b: number): number {
  // a*b = (a*bh)*2^16 + a*bl; each partial product is below 2^48, so every step below is exact.
  return Math.floor((a * (b >>> 16) + Math.floor((a * (b & 0xffff)) / 65536)) / 65536);
}

/**
 * Fill `out[outOffset .. outOffset + 4*blocks)` with the outputs of `blocks` consecutive counters
 * starting at `counter` (128-bit increment with carry), all under `key`.
 */
export function philoxBlocks(
  key: PhiloxKey,
  counter: PhiloxCounter,
  blocks: number,
  out: Uint32Array,
  outOffset = 0,
): void {
  // >>> 0 also accepts words given as signed int32 (e.g. read from an Int32Array).
  let c0 = counter[0] >>> 0;
  let c1 = counter[1] >>> 0;
  let c2 = counter[2] >>> 0;
  let c3 = counter[3] >>> 0;
  const key0 = key[0] >>> 0;
  const key1 = key[1] >>> 0;
  let o = outOffset;
  for (let b = 0; b < blocks; b++) {
    let x0 = c0;
    let x1 = c1;
    let x2 = c2;
    let x3 = c3;
    let k0 = key0;
    let k1 = key1;
    for (let r = 0; r < ROUNDS; r++) {
      if (r > 0) {
        k0 = (k0 + W0) >>> 0;
        k1 = (k1 + W1) >>> 0;
      }
      const hi0 = mulhi(M0, x0);
      const lo0 = Math.imul(M0, x0) >>> 0;
      const hi1 = mulhi(M1, x2);
      const lo1 = Math.imul(M1, x2) >>> 0;
      x0 = (hi1 ^ x1 ^ k0) >>> 0;
      x1 = lo1;
      x2 = (hi0 ^ x3 ^ k1) >>> 0;
      x3 = lo0;
    }
    out[o] = x0;
    out[o + 1] = x1;
    out[o + 2] = x2;
    out[o + 3] = x3;
    o += 4;
    // 128-bit increment.
    c0 = (c0 + 1) >>> 0;
    if (c0 === 0) {
      c1 = (c1 + 1) >>> 0;
      if (c1 === 0) {
        c2 = (c2 + 1) >>> 0;
        if (c2 === 0) c3 = (c3 + 1) >>> 0;
      }
    }
  }
}

/** One Philox4x32-10 block: the reference other backends test their kernels against. */
export function philox4x32(counter: PhiloxCounter, key: PhiloxKey): [number, number, number, number] {
  const out = new Uint32Array(4);
  philoxBlocks(key, counter, 1, out);
  return [out[0], out[1], out[2], out[3]];
}

/** `counter + n` (n a non-negative safe integer) as a 128-bit sum, wrapping at 2^128. */
export function addToCounter(counter: PhiloxCounter, n: number): [number, number, number, number] {
  const out: [number, number, number, number] = [0, 0, 0, 0];
  let carry = 0;
  const add = [n % 0x100000000, Math.floor(n / 0x100000000), 0, 0];
  for (let i = 0; i < 4; i++) {
    const s = counter[i] + add[i] + carry;
    out[i] = s % 0x100000000;
    carry = s >= 0x100000000 ? 1 : 0;
  }
  return out;
}
