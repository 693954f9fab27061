import { describe, expect, it } from 'vitest';
import { dequantize } from './dequantize-row';
import { decodeQ6_KBlock } from './gguf-q6-k';

/**
 * A hand-made Q6_K super-block (210 bytes): d = 0.25 (f16 0x3400); int8 scales sc[0] = 4, sc[1] = 6,
 * sc[2] = -2, sc[4] = 1, sc[6] = 3, sc[8] = 8, the rest 0.
 * ql[0] = 0xF5, ql[32] = 0x01, qh[0] = 0b01_11_00_10 (0x72):
 *   w[0]  = 0.25 * 4  * ((5  | 2 << 4) - 32) = 0.25 * 4 * 5     = 5
 *   w[32] = 0.25 * -2 * ((1  | 0 << 4) - 32) = 0.25 * -2 * -31  = 15.5
 *   w[64] = 0.25 * 1  * ((15 | 3 << 4) - 32) = 0.25 * 31        = 7.75
 *   w[96] = 0.25 * 3  * ((0  | 1 << 4) - 32) = 0.25 * 3 * -16   = -12
 * second half: ql[64] = 0x0A, qh[32] = 1: w[128] = 0.25 * 8 * ((10 | 1 << 4) - 32) = -12.
 * Every other weight has q = -32: d * sc * -32 = -8 sc.
 */
function handBlock(): Uint8Array {
  const b = new Uint8Array(210);
  b[0] = 0xf5;
  b[32] = 0x01;
  b[128] = 0x72;
  b[64] = 0x0a;
  b[128 + 32] = 0x01;
  const sc = [4, 6, -2, 0, 1, 0, 3, 0, 8, 0, 0, 0, 0, 0, 0, 0];
  for (let i = 0; i < 16; i++) b[192 + i] = sc[i] & 0xff;
  b[208] = 0x00;
  b[209] = 0x34;
  return b;
}

describe('GGUF Q6_K block decoder', () => {
  it('decodes a hand-made super-block to the values worked out from the layout', () => {
    const out = new Float64Array(256);
    decodeQ6_KBlock(handBlock(), 0, out, 0);
    // Runs of 16 weights share a scale: sc index 0..7 in the first half, 8..15 in the second.
    const runScale = [4, 6, -2, 0, 1, 0, 3, 0, 8, 0, 0, 0, 0, 0, 0, 0];
    const want = Array.from({ length: 256 }, (_, j) => -8 * runScale[j >> 4] + 0); // + 0: -0 -> 0
    want[0] = 5;
    want[32] = 15.5;
    want[64] = 7.75;
    want[96] = -12;
    want[128] = -12;
    expect(Array.from(out, (v) => v + 0)).toEqual(want);
  });

  it('decodes the second super-block of a row at its offset', () => {
    const data = new Uint8Array(2 * 210);
    data.set(handBlock(), 210);
    const w = dequantize({ format: 'q6_k', shape: [1, 512], data });
    expect([w[256], w[256 + 32], w[256 + 128]]).toEqual([5, 15.5, -12]);
    expect(w[0] + 0).toBe(0); // all-zero block: d = 0 (+ 0: -0 -> 0)
  });
});
