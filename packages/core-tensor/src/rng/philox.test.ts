import { describe, expect, it } from 'vitest';
import { addToCounter, philox4x32, philoxBlocks } from './philox';

const words = (hex: string) => hex.split(' ').map((h) => Number.parseInt(h, 16));

// Random123 tests/kat_vectors, the three "philox4x32 10" lines: counter[4] key[2] -> output[4].
const KAT = [
  ['00000000 00000000 00000000 00000000', '00000000 00000000', '6627e8d5 e169c58d bc57ac4c 9b00dbd8'],
  ['ffffffff ffffffff ffffffff ffffffff', 'ffffffff ffffffff', '408f276d 41c83b0e a20bc7c6 6d5451fd'],
  ['243f6a88 85a308d3 13198a2e 03707344', 'a4093822 299f31d0', 'd16cfe09 94fdcceb 5001e420 24126ea1'],
];

/** An independent Philox4x32-10 in BigInt arithmetic, written straight from the paper's round. */
function philoxBig(ctr: readonly number[], key: readonly number[]): number[] {
  const mask = 0xffffffffn;
  let x = ctr.map(BigInt);
  let k = key.map(BigInt);
  for (let r = 0; r < 10; r++) {
    const p0 = 0xd2511f53n * x[0];
    const p1 = 0xcd9e8d57n * x[2];
    x = [(p1 >> 32n) ^ x[1] ^ k[0], p1 & mask, (p0 >> 32n) ^ x[3] ^ k[1], p0 & mask];
    k = [(k[0] + 0x9e3779b9n) & mask, (k[1] + 0xbb67ae85n) & mask];
  }
  return x.map(Number);
}

describe('philox4x32-10', () => {
  it.each(KAT)('matches the Random123 known answer for counter %s, key %s', (ctr, key, expected) => {
    const c = words(ctr) as [number, number, number, number];
    const k = words(key) as [number, number];
    expect(philox4x32(c, k)).toEqual(words(expected));
  });

  it('agrees with a BigInt implementation on random counters and keys (exact 32x32->64 products)', () => {
    let state = 12345;
    const next = () => {
      // xorshift32: test inputs only; includes words near 0 and 2^32 - 1 through the masks below.
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return state >>> 0;
    };
    for (let t = 0; t < 300; t++) {
      const mask = t % 3 === 0 ? 0xffffffff : t % 3 === 1 ? 0xffff0000 : 0x0000ffff;
      const c = [
        next(),
        (next() & mask) >>> 0,
        next(),
        (next() | (t % 5 === 0 ? 0xffff0000 : 0)) >>> 0,
      ] as const;
      const k = [next(), (next() & mask) >>> 0] as const;
      expect(philox4x32(c, k)).toEqual(philoxBig(c, k));
    }
  });

  it('philoxBlocks runs consecutive counters with a 128-bit carry', () => {
    const key = [7, 9] as const;
    const start = [0xfffffffe, 0xffffffff, 0xffffffff, 5] as const;
    const out = new Uint32Array(12);
    philoxBlocks(key, start, 3, out);
    expect(Array.from(out.subarray(0, 4))).toEqual(philox4x32(start, key));
    expect(Array.from(out.subarray(4, 8))).toEqual(philox4x32([0xffffffff, 0xffffffff, 0xffffffff, 5], key));
    expect(Array.from(out.subarray(8, 12))).toEqual(philox4x32([0, 0, 0, 6], key));
  });

  it('addToCounter adds safe integers with carry and wraps at 2^128', () => {
    expect(addToCounter([0xffffffff, 0, 0, 0], 1)).toEqual([0, 1, 0, 0]);
    expect(addToCounter([5, 0xffffffff, 0xffffffff, 0], 2 ** 32 + 3)).toEqual([8, 0, 0, 1]);
    expect(addToCounter([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], 1)).toEqual([0, 0, 0, 0]);
    expect(addToCounter([1, 2, 3, 4], 2 ** 53 - 1)).toEqual([0, 0x200002, 3, 4]); // 2^53 - 1 = 0x1fffff_ffffffff
  });
});
