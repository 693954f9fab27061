/**
 * The quantized formats against a naive, independent decoding on fresh random weights: int8 per
 * channel and int4 groups (nibbles unpacked bit by bit here), and the dequantised product against a
 * plain loop. Tolerances: the round-to-nearest error is at most half a quantisation step.
 */
import { f16BitsToF32, rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import {
  dequantizeInt4,
  dequantizeInt8,
  matvecReference,
  quantizeInt4,
  quantizeInt8,
} from './matvec-reference';

const gen = rng(1401);
const randn = (n: number) => Float64Array.from(gen.normal(n));

describe('int8 per-channel weights', () => {
  it('dequantise to within half a step of the weights, with one scale per row', () => {
    const [N, K] = [12, 80];
    const w = randn(N * K);
    const qw = quantizeInt8(w, N, K);
    const deq = dequantizeInt8(qw, N, K);
    for (let n = 0; n < N; n++) {
      const s = f16BitsToF32(qw.scales[n]);
      let mx = 0;
      for (let k = 0; k < K; k++) mx = Math.max(mx, Math.abs(w[n * K + k]));
      expect(s).toBeCloseTo(mx / 127, 3);
      for (let k = 0; k < K; k++) {
        expect(Math.abs(qw.q[n * K + k])).toBeLessThanOrEqual(127);
        expect(deq[n * K + k]).toBe(qw.q[n * K + k] * s); // naive decode
        expect(Math.abs(deq[n * K + k] - w[n * K + k])).toBeLessThanOrEqual(s / 2 + 1e-6 * mx);
      }
    }
  });
});

describe('int4 grouped weights', () => {
  for (const group of [32, 64, 128]) {
    it(`group ${group}: the packed nibbles decode (naively) to the dequantised values`, () => {
      const [N, K] = [6, 256];
      const w = randn(N * K);
      const qw = quantizeInt4(w, N, K, group);
      expect(qw.q.length).toBe((N * K) / 2);
      expect(qw.scales.length).toBe((N * K) / group);
      const deq = dequantizeInt4(qw, N, K);
      for (let n = 0; n < N; n++) {
        for (let k = 0; k < K; k++) {
          const byte = qw.q[Math.floor((n * K + k) / 2)];
          const nibble = k % 2 === 0 ? byte % 16 : Math.floor(byte / 16);
          const s = f16BitsToF32(qw.scales[n * (K / group) + Math.floor(k / group)]);
          expect(deq[n * K + k]).toBe((nibble - 8) * s);
          expect(Math.abs(deq[n * K + k] - w[n * K + k])).toBeLessThanOrEqual(s / 2 + 1e-9);
        }
      }
    });
  }

  it('rejects a K that is not a multiple of the group', () => {
    expect(() => quantizeInt4(new Float64Array(2 * 48), 2, 48, 32)).toThrow(
      /K=48 must be even and a multiple of the group 32/,
    );
  });
});

describe('matvecReference', () => {
  it('equals a plain loop on the int4-dequantised weights of fresh random inputs', () => {
    const [M, N, K] = [3, 10, 64];
    const x = randn(M * K);
    const qw = quantizeInt4(randn(N * K), N, K, 32);
    const deq = dequantizeInt4(qw, N, K);
    const y = matvecReference(x, deq, M, N, K);
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let acc = 0;
        for (let k = 0; k < K; k++) {
          const byte = qw.q[(n * K + k) >> 1];
          const nib = k & 1 ? byte >> 4 : byte & 15;
          acc += x[m * K + k] * (nib - 8) * f16BitsToF32(qw.scales[n * 2 + (k >> 5)]);
        }
        expect(y[m * N + n]).toBeCloseTo(acc, 10);
      }
    }
  });
});
