import { describe, expect, it } from 'vitest';
import { dequantize } from './dequantize-row';
import { decodeQ4_KBlock } from './gguf-q4-k';

/**
 * A hand-made Q4_K super-block (144 bytes): d = 1 (f16 0x3C00), dmin = 0.5 (0x3800).
 * Packed scales: sub-block 0: sc 2, mn 3; sub-block 1: sc 5, mn 1; sub-block 4: sc = 1 | (1 << 4)
 * = 17 from scales[8] & 0xF and scales[0] >> 6, mn = 2 | (2 << 4) = 34 from scales[8] >> 4 and
 * scales[4] >> 6; the others 0. Nibbles: qs[0] = 0x93 (weight 0: 3, weight 32: 9), qs[64] = 0x07
 * (weight 128: 7), all others 0.
 */
function handBlock(): Uint8Array {
  const b = new Uint8Array(144);
  b.set([0x00, 0x3c, 0x00, 0x38]);
  const scales = [0x42, 5, 0, 0, 0x83, 1, 0, 0, 0x21, 0, 0, 0];
  b.set(scales, 4);
  b[16 + 0] = 0x93;
  b[16 + 64] = 0x07;
  return b;
}

describe('GGUF Q4_K block decoder', () => {
  it('decodes a hand-made super-block to the values worked out from the layout', () => {
    const out = new Float64Array(256);
    decodeQ4_KBlock(handBlock(), 0, out, 0);
    // weight = d * sc * q - dmin * mn; with q = 0 each sub-block gives -0.5 * mn.
    const base = [-1.5, -0.5, 0, 0, -17, 0, 0, 0];
    const want = Array.from({ length: 256 }, (_, j) => base[j >> 5]);
    want[0] = 1 * 2 * 3 - 1.5; // 4.5
    want[32] = 1 * 5 * 9 - 0.5; // 44.5
    want[128] = 1 * 17 * 7 - 0.5 * 34; // 102
    expect(Array.from(out)).toEqual(want);
    expect([out[0], out[32], out[128]]).toEqual([4.5, 44.5, 102]);
  });

  it('decodes rows of several super-blocks in order', () => {
    const blk = handBlock();
    const data = new Uint8Array(2 * 2 * 144);
    data.set(blk, 144 * 3); // row 1, second super-block
    const w = dequantize({ format: 'q4_k', shape: [2, 512], data });
    expect(w[512 + 256]).toBe(4.5);
    expect(w[512 + 256 + 128]).toBe(102);
    expect(w[0]).toBe(0); // all-zero blocks decode to 0
  });

  it('rejects K that is not a whole number of super-blocks', () => {
    expect(() => dequantize({ format: 'q4_k', shape: [1, 300], data: new Uint8Array(144) })).toThrow(
      /K = 300 must be a multiple of the q4_k block size 256/,
    );
  });
});
