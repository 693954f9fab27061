import { describe, expect, it } from 'vitest';
import { f16BitsToF32 } from '../../f16';
import { mulberry32 } from '../../test-utils';
import { halfScaleAtLeast, type QuantizedWeight, validateQuantizedWeight } from './quantized-weight';

const check = (qw: unknown) => () => validateQuantizedWeight('test', qw as QuantizedWeight);

describe('QuantizedWeight validation', () => {
  it('accepts well-formed weights of every format', () => {
    expect(check({ format: 'f16', shape: [2, 3], data: new Uint8Array(12) })).not.toThrow();
    expect(check({ format: 'q6_k', shape: [2, 256], data: new Uint8Array(420) })).not.toThrow();
    expect(
      check({
        format: 'int4-group',
        shape: [2, 40],
        groupSize: 32,
        data: new Uint8Array(2 * 2 * 16),
        scales: new Uint8Array(8),
        zeros: new Uint8Array(4),
      }),
    ).not.toThrow();
  });

  it('names the problem: unknown key, format, missing group size, bad K for a block format, byte lengths', () => {
    expect(check({ format: 'f16', shape: [1, 1], data: new Uint8Array(2), bits: 4 })).toThrow(
      /"bits".*allowed: format, shape, data/,
    );
    expect(check({ format: 'q5_k', shape: [1, 1], data: new Uint8Array(2) })).toThrow(/format/);
    expect(
      check({ format: 'int8-group', shape: [1, 8], data: new Uint8Array(8), scales: new Uint8Array(2) }),
    ).toThrow(/'groupSize' \(32, 64 or 128\) is required/);
    expect(check({ format: 'q4_0', shape: [3, 40], data: new Uint8Array(54) })).toThrow(
      /K = 40 must be a multiple of the q4_0 block size 32/,
    );
    expect(check({ format: 'q4_k', shape: [1, 255], data: new Uint8Array(144) })).toThrow(/block size 256/);
    expect(check({ format: 'int8', shape: [2, 3], data: new Uint8Array(6) })).toThrow(/'scales' is required/);
    expect(
      check({ format: 'int8', shape: [2, 3], data: new Uint8Array(6), scales: new Uint8Array(2) }),
    ).toThrow(/'scales' has 2 bytes, expected 4/);
    expect(
      check({ format: 'q8_0', shape: [1, 32], data: new Uint8Array(34), zeros: new Uint8Array(1) }),
    ).toThrow(/'zeros' is only for the group formats/);
    expect(check({ format: 'bf16', shape: [0, 3], data: new Uint8Array(0) })).toThrow(/shape/);
  });
});

describe('halfScaleAtLeast', () => {
  it('gives the smallest f16 at or above the value', () => {
    const rng = mulberry32(7);
    for (let i = 0; i < 2000; i++) {
      const s = rng() ** 4 * 1000;
      const h = halfScaleAtLeast(s);
      expect(f16BitsToF32(h)).toBeGreaterThanOrEqual(s);
      if (h > 0) expect(f16BitsToF32(h - 1)).toBeLessThan(s);
    }
    expect(halfScaleAtLeast(0)).toBe(0);
  });
});
