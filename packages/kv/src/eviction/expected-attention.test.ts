import { tensor } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { expectedAttention } from './expected-attention';

// D = 4 with rope theta 100: pairs (0, 2) turn at 1 rad per position, pairs (1, 3) at 0.1 rad.
const FREQ = [1, 0.1];
/** RoPE at position p (rotate_half layout): what the model applies to a query. */
function rot(x: number[], p: number): number[] {
  const out = [...x];
  for (let i = 0; i < 2; i++) {
    const c = Math.cos(p * FREQ[i]);
    const s = Math.sin(p * FREQ[i]);
    out[i] = x[i] * c - x[i + 2] * s;
    out[i + 2] = x[i + 2] * c + x[i] * s;
  }
  return out;
}
const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);
const norm = (a: number[]) => Math.sqrt(dot(a, a));

const KEYS = [
  [1, 0, 0, 0],
  [0, 1, 2, 0],
  [0.5, -1, 0, 1],
  [2, 0, -1, 0.5],
  [0, 0, 1, 1],
];
const VALS = [
  [1, 0, 0, 0],
  [0, 2, 0, 0],
  [0, 0, 3, 0],
  [1, 1, 1, 1],
  [0, 0, 0, 0.5],
];
const keys = () => tensor([[KEYS]]);
const values = () => tensor([[VALS]]);

describe('expectedAttention', () => {
  it('two queries, one future position: softmax(R(n)μ·k/√d + (kᵀR(n)δ)²/(2d)) · ‖v‖, worked by hand', () => {
    // Pre-RoPE queries a and b, seen at the last two cached positions 3 and 4 (T = 5).
    const a = [1, 2, 0, -1];
    const b = [3, 0, 1, 1];
    const q = new Float32Array([...rot(a, 3), ...rot(b, 4)]);
    const s = expectedAttention({ ropeTheta: 100, futurePositions: 1, sinks: 0 }).score({
      layer: 0,
      keys: keys(),
      values: values(),
      queries: q,
      numHeads: 1,
    });
    // μ = (a + b) / 2, Σ = δδᵀ with δ = (a - b) / 2 (population covariance of two points); the next
    // position is 5, so R̄ = R(5).
    const mu = rot(
      a.map((x, i) => (x + b[i]) / 2),
      5,
    );
    const delta = rot(
      a.map((x, i) => (x - b[i]) / 2),
      5,
    );
    const logits = KEYS.map((k) => dot(mu, k) / 2 + dot(k, delta) ** 2 / 8);
    const z = logits.reduce((acc, l) => acc + Math.exp(l), 0);
    const want = logits.map((l, t) => (Math.exp(l) / z) * norm(VALS[t]));
    for (let t = 0; t < 5; t++) expect(s[t]).toBeCloseTo(want[t], 5);
  });

  it('averages R over the future positions, honours positionOffset, sinks and useValueNorm', () => {
    const a = [0.5, -1, 2, 1];
    const offset = 7; // slot 4 holds true position 11
    const q = new Float32Array(rot(a, 4 + offset));
    const F = 3;
    const s = expectedAttention({ ropeTheta: 100, futurePositions: F, sinks: 2, useValueNorm: false }).score({
      layer: 0,
      keys: keys(),
      values: values(),
      queries: q,
      numHeads: 1,
      positionOffset: offset,
    });
    // One query: Σ = 0, μ' = mean over p = 12, 13, 14 of R(p) a.
    const rs = [12, 13, 14].map((p) => rot(a, p));
    const mu = a.map((_, i) => (rs[0][i] + rs[1][i] + rs[2][i]) / F);
    const logits = KEYS.map((k) => dot(mu, k) / 2);
    const z = logits.reduce((acc, l) => acc + Math.exp(l), 0);
    expect(s[0]).toBe(Infinity);
    expect(s[1]).toBe(Infinity);
    for (let t = 2; t < 5; t++) expect(s[t]).toBeCloseTo(Math.exp(logits[t]) / z, 6);
  });

  it('averages over the query heads of a kv head (GQA)', () => {
    const a = [1, 0, 0, 1];
    const b = [0, 1, -1, 0];
    const opts = { ropeTheta: 100, futurePositions: 4, sinks: 0 };
    const one = (x: number[]) =>
      expectedAttention(opts).score({
        layer: 0,
        keys: keys(),
        values: values(),
        queries: new Float32Array(rot(x, 4)),
        numHeads: 1,
      });
    const both = expectedAttention(opts).score({
      layer: 0,
      keys: keys(),
      values: values(),
      queries: new Float32Array([...rot(a, 4), ...rot(b, 4)]),
      numHeads: 2,
    });
    const sa = one(a);
    const sb = one(b);
    for (let t = 0; t < 5; t++) expect(both[t]).toBeCloseTo((sa[t] + sb[t]) / 2, 12);
  });

  it('rejects bad input with the field named', () => {
    const p = expectedAttention({ ropeTheta: 100 });
    expect(() => p.score({ layer: 0, keys: keys(), values: values() })).toThrow(/needs queries/);
    expect(() =>
      p.score({ layer: 0, keys: keys(), values: values(), queries: new Float32Array(3), numHeads: 1 }),
    ).toThrow(/queries hold 3 values/);
    expect(() => expectedAttention({} as never)).toThrow(/ropeTheta/);
    expect(() => expectedAttention({ ropeTheta: 1, sink: 2 } as never)).toThrow(/"sink".*allowed/);
  });
});
