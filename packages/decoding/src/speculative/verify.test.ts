/**
 * verify(): greedy equals the argmax chain; sampled and n-gram verification emit exactly the target's
 * distribution (chi-square at ALPHA = 1e-3, fixed seeds), one position at a time and over whole
 * speculative generations of a toy order-2 Markov model; acceptance has the expected rate.
 */
import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import {
  ALPHA,
  binomialZ,
  counts,
  fitPValue,
  Markov2,
  randomDist,
  sequenceIndex,
  topK,
  topP,
  Z_ALPHA,
} from './testing';
import { verify } from './verify';

/** One-position cases: target p and draft q (V = 5..16), including the awkward supports. */
function cases() {
  const g = rng(1000);
  return [
    { name: 'random p, q (V=5)', p: randomDist(g, 5), q: randomDist(g, 5) },
    { name: 'q zero where p is not (V=6)', p: randomDist(g, 6), q: randomDist(g, 6, [0, 2, 3]) },
    { name: 'p zero where q is not (V=6)', p: randomDist(g, 6, [1, 4]), q: randomDist(g, 6) },
    { name: 'disjoint supports (V=6)', p: randomDist(g, 6, [0, 1, 2]), q: randomDist(g, 6, [3, 4, 5]) },
    {
      name: 'top-k filtered p (k=3) and q (k=4), V=8',
      p: topK(randomDist(g, 8), 3),
      q: topK(randomDist(g, 8), 4),
    },
    {
      name: 'top-p filtered p (0.7) and q (0.9), V=10',
      p: topP(randomDist(g, 10), 0.7),
      q: topP(randomDist(g, 10), 0.9),
    },
    { name: 'random p, q (V=16)', p: randomDist(g, 16), q: randomDist(g, 16) },
    { name: 'p = q (V=7)', p: randomDist(rng(7), 7), q: randomDist(rng(7), 7) },
  ];
}

const sumMin = (p: ArrayLike<number>, q: ArrayLike<number>) => {
  let s = 0;
  for (let j = 0; j < p.length; j++) s += Math.min(p[j], q[j]);
  return s;
};

describe('verify: greedy', () => {
  it('accepts while the draft equals the argmax, then emits the argmax (rows may be logits)', () => {
    const rows = [
      [0.1, 2, -1, 0.5], // argmax 1
      [3, 0, 0, 0], // argmax 0
      [0, 0, 1, 1], // argmax 2 (first on ties)
      [-1, -2, -3, 5], // argmax 3
    ].map((r) => Float32Array.from(r));
    expect(verify({ mode: 'greedy', draftTokens: [1, 0, 2], targetProbs: rows })).toEqual({
      accepted: 3,
      tokens: [1, 0, 2, 3],
      acceptedMask: [true, true, true],
      bonus: true,
    });
    expect(verify({ mode: 'greedy', draftTokens: [1, 3, 2], targetProbs: rows })).toEqual({
      accepted: 1,
      tokens: [1, 0],
      acceptedMask: [true, false, false],
      bonus: false,
    });
    expect(verify({ mode: 'greedy', draftTokens: [], targetProbs: rows.slice(0, 1) }).tokens).toEqual([1]);
  });

  it('a greedy speculative loop reproduces plain greedy decoding token for token', () => {
    const g = rng(5);
    const model = new Markov2(6, () => randomDist(g, 6));
    const prompt = [0, 1];
    const m = 40;
    // Drafts: a different model's argmax chain, so some are right and some wrong.
    const drafter = new Markov2(6, () => randomDist(g, 6));
    const out: number[] = [];
    const ctx = [...prompt];
    while (out.length < m) {
      const drafts = drafter.greedy(ctx, 3);
      const rows = [0, 1, 2, 3].map((i) => model.next([...ctx, ...drafts.slice(0, i)]));
      const r = verify({ mode: 'greedy', draftTokens: drafts, targetProbs: rows });
      out.push(...r.tokens);
      ctx.push(...r.tokens);
    }
    expect(out.slice(0, m)).toEqual(model.greedy(prompt, m));
  });
});

describe('verify: sampled (speculative sampling)', () => {
  const n = 25_000;
  it.each(cases())('$name: the emitted token ~ p and E[accept] = sum min(p, q)', ({ p, q }) => {
    const g = rng(2024);
    const emitted: number[] = [];
    let accepted = 0;
    for (let t = 0; t < n; t++) {
      const x = g.categorical(q, { probs: true })[0];
      const r = verify({ mode: 'sampled', draftTokens: [x], targetProbs: [p, p], draftProbs: [q], rng: g });
      emitted.push(r.tokens[0]);
      accepted += r.accepted;
    }
    expect(fitPValue(counts(emitted, p.length), p)).toBeGreaterThan(ALPHA);
    expect(binomialZ(accepted, n, sumMin(p, q))).toBeLessThan(Z_ALPHA);
  });

  it('the check has power: verifying against the wrong q (q used to draft != q passed) is detected', () => {
    const g = rng(2025);
    const p = randomDist(g, 5);
    const q = randomDist(g, 5);
    const wrongQ = randomDist(g, 5);
    const emitted: number[] = [];
    for (let t = 0; t < n; t++) {
      const x = g.categorical(q, { probs: true })[0];
      emitted.push(
        verify({ mode: 'sampled', draftTokens: [x], targetProbs: [p, p], draftProbs: [wrongQ], rng: g })
          .tokens[0],
      );
    }
    expect(fitPValue(counts(emitted, 5), p)).toBeLessThan(ALPHA);
  });

  it.each([
    { name: 'plain p and q', filter: (d: Float64Array) => d },
    { name: 'top-k (3) filtered p and q', filter: (d: Float64Array) => topK(d, 3) },
    { name: 'top-p (0.8) filtered p and q', filter: (d: Float64Array) => topP(d, 0.8) },
  ])('$name: a whole speculative generation (K = 3) has the target joint over 3 tokens', ({ filter }) => {
    const g = rng(77);
    const V = 5;
    const target = new Markov2(V, () => filter(randomDist(g, V)));
    const draft = new Markov2(V, () => filter(randomDist(g, V)));
    const prompt = [1, 3];
    const m = 3;
    const trials = 25_000;
    const seen = new Array<number>(V ** m).fill(0);
    let steps = 0;
    for (let t = 0; t < trials; t++) {
      const ctx = [...prompt];
      const out: number[] = [];
      while (out.length < m) {
        const drafts: number[] = [];
        const qs: Float64Array[] = [];
        const c = [...ctx];
        for (let i = 0; i < 3; i++) {
          const q = draft.next(c);
          const x = g.categorical(q, { probs: true })[0];
          drafts.push(x);
          qs.push(q);
          c.push(x);
        }
        const ps = [0, 1, 2, 3].map((i) => target.next([...ctx, ...drafts.slice(0, i)]));
        const r = verify({ mode: 'sampled', draftTokens: drafts, targetProbs: ps, draftProbs: qs, rng: g });
        out.push(...r.tokens);
        ctx.push(...r.tokens);
        steps++;
      }
      seen[sequenceIndex(out.slice(0, m), V)]++;
    }
    expect(fitPValue(seen, target.joint(prompt, m))).toBeGreaterThan(ALPHA);
    expect(steps).toBeLessThan(trials * m); // speculation did save target steps
  });
});

describe("verify: 'ngram' (drafts without probabilities)", () => {
  const n = 25_000;
  it.each(cases())('$name: the emitted token ~ p and P(accept x) = p(x)', ({ p }) => {
    const g = rng(31);
    for (const x of [0, p.length - 1]) {
      const emitted: number[] = [];
      let accepted = 0;
      for (let t = 0; t < n; t++) {
        const r = verify({ mode: 'ngram', draftTokens: [x], targetProbs: [p, p], rng: g });
        emitted.push(r.tokens[0]);
        accepted += r.accepted;
      }
      expect(fitPValue(counts(emitted, p.length), p)).toBeGreaterThan(ALPHA);
      expect(binomialZ(accepted, n, p[x])).toBeLessThan(Z_ALPHA);
    }
  });

  it('a generation with fixed deterministic drafts has the target joint over 3 tokens', () => {
    const g = rng(78);
    const V = 5;
    const target = new Markov2(V, () => topK(randomDist(g, V), 4));
    const prompt = [2, 0];
    const trials = 25_000;
    const seen = new Array<number>(V ** 3).fill(0);
    for (let t = 0; t < trials; t++) {
      const ctx = [...prompt];
      const out: number[] = [];
      while (out.length < 3) {
        // A context-dependent but deterministic guess (any drafter is allowed to be wrong).
        const drafts = [ctx[ctx.length - 1], (ctx[ctx.length - 2] + 1) % V, 0];
        const ps = [0, 1, 2, 3].map((i) => target.next([...ctx, ...drafts.slice(0, i)]));
        const r = verify({ mode: 'ngram', draftTokens: drafts, targetProbs: ps, rng: g });
        out.push(...r.tokens);
        ctx.push(...r.tokens);
      }
      seen[sequenceIndex(out.slice(0, 3), V)]++;
    }
    expect(fitPValue(seen, target.joint(prompt, 3))).toBeGreaterThan(ALPHA);
  });

  it('never accepts a token the target forbids, whatever u', () => {
    const p = Float64Array.from([0.5, 0, 0.5]);
    const g = rng(3);
    for (let t = 0; t < 2000; t++) {
      expect(verify({ mode: 'ngram', draftTokens: [1], targetProbs: [p, p], rng: g }).tokens[0]).not.toBe(1);
      expect(
        verify({ mode: 'sampled', draftTokens: [1], targetProbs: [p, p], draftProbs: [[0, 1, 0]], rng: g })
          .tokens[0],
      ).not.toBe(1);
    }
  });
});

describe('verify: random stream and input checks', () => {
  it('a seed reproduces the result; the stream advances by ceil(K / 2) + 1 blocks whatever happens', () => {
    const p = Float64Array.from([0.2, 0.3, 0.5]);
    for (const k of [0, 1, 3, 4]) {
      const rows = Array.from({ length: k + 1 }, () => p);
      const drafts = Array.from({ length: k }, (_, i) => i % 3);
      const a = rng(9);
      const b = rng(9);
      const ra = verify({ mode: 'ngram', draftTokens: drafts, targetProbs: rows, rng: a });
      expect(verify({ mode: 'ngram', draftTokens: drafts, targetProbs: rows, rng: b })).toEqual(ra);
      expect(a.counter[0]).toBe(Math.ceil(k / 2) + 1);
    }
  });

  it('accepts f32 and f64 rows and unnormalised weights alike', () => {
    const p32 = Float32Array.from([1, 2, 1]);
    const p64 = Float64Array.from([0.25, 0.5, 0.25]);
    const a = verify({ mode: 'ngram', draftTokens: [1, 2], targetProbs: [p32, p32, p32], rng: rng(4) });
    const b = verify({ mode: 'ngram', draftTokens: [1, 2], targetProbs: [p64, p64, p64], rng: rng(4) });
    expect(a).toEqual(b);
  });

  it('rejects bad input with an error naming the field', () => {
    const p = [0.5, 0.5];
    expect(() => verify({ mode: 'sampled', draftTokens: [0], targetProbs: [p, p], rng: rng(1) })).toThrow(
      /draftProbs/,
    );
    expect(() => verify({ mode: 'ngram', draftTokens: [0], targetProbs: [p, p] })).toThrow(/needs 'rng'/);
    expect(() => verify({ mode: 'greedy', draftTokens: [0], targetProbs: [p] })).toThrow(/K \+ 1 = 2/);
    expect(() => verify({ mode: 'greedy', draftTokens: [2], targetProbs: [p, p] })).toThrow(
      /outside the vocabulary/,
    );
    expect(() =>
      verify({ mode: 'ngram', draftTokens: [], targetProbs: [[Number.NaN, 1]], rng: rng(1) }),
    ).toThrow(/targetProbs\[0\]\[0\] is NaN/);
    expect(() => verify({ mode: 'greedy', draftTokens: [], targetProbs: [[1, Number.NaN]] })).toThrow(
      /is NaN/,
    );
    expect(() =>
      verify({ mode: 'ngram', draftTokens: [1], targetProbs: [[0.5, -1], p], rng: rng(1) }),
    ).toThrow(/targetProbs\[0\]\[1\] is -1/);
    expect(() => verify({ mode: 'beam' as 'greedy', draftTokens: [], targetProbs: [p] })).toThrow(/'mode'/);
    expect(() =>
      verify({ mode: 'greedy', draftTokens: [], targetProbs: [p], extra: 1 } as unknown as Parameters<
        typeof verify
      >[0]),
    ).toThrow(/allowed: mode, draftTokens/);
  });
});
