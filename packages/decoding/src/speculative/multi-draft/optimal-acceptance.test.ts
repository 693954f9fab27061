/**
 * optimalAcceptance() against hand-worked cases, against an independent max-flow (the optimal
 * transport primal) and a brute-force minimum over all subsets (its dual) built here from the exact
 * draft-set distributions; then the verifiers' Monte Carlo acceptance against it: never above it
 * beyond sampling error, and equal to it for the greedy-draft verifier.
 */
import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { randomDist, topK, Z_ALPHA } from '../testing';
import { type DraftScheme, sampleDrafts } from './draft-sampling';
import { verifyGreedyDrafts } from './greedy-draft';
import type { MultiDraftInput, MultiDraftResult } from './input';
import { verifyKSeq } from './k-seq';
import { checkExact } from './multi-draft-cases';
import { optimalAcceptance } from './optimal-acceptance';
import { verifyRecursiveRejection } from './recursive-rejection';

/** The distribution of the set of drafts under each scheme, enumerated from its definition. */
function draftSets(q: ArrayLike<number>, k: number, scheme: DraftScheme): Map<string, number> {
  const v = q.length;
  const sets = new Map<string, number>();
  const add = (tokens: number[], prob: number) => {
    if (prob <= 0) return;
    const key = [...new Set(tokens)].sort((a, b) => a - b).join(',');
    sets.set(key, (sets.get(key) ?? 0) + prob);
  };
  if (scheme === 'iid') {
    const rec = (tokens: number[], prob: number) => {
      if (tokens.length === k) return add(tokens, prob);
      for (let x = 0; x < v; x++) rec([...tokens, x], prob * q[x]);
    };
    rec([], 1);
  } else if (scheme === 'without-replacement') {
    const support = Array.from(q).filter((x) => x > 0).length;
    const rec = (tokens: number[], prob: number, used: number) => {
      if (tokens.length === Math.min(k, support)) return add(tokens, prob);
      for (let x = 0; x < v; x++) {
        if (tokens.includes(x) || !(q[x] > 0)) continue;
        rec([...tokens, x], (prob * q[x]) / (1 - used), used + q[x]);
      }
    };
    rec([], 1, 0);
  } else {
    const order = Array.from({ length: v }, (_, j) => j).sort((a, b) => q[b] - q[a] || a - b);
    const fixed = order.slice(0, k - 1);
    const rest = order.slice(k - 1);
    const restMass = rest.reduce((s, x) => s + q[x], 0);
    if (restMass > 0) for (const x of rest) add([...fixed, x], q[x] / restMass);
    else add([...fixed, rest[0]], 1);
  }
  return sets;
}

/** Max-flow source -> draft set (capacity Q) -> its tokens -> sink (capacity p), Edmonds-Karp. */
function maxFlow(p: ArrayLike<number>, sets: Map<string, number>): number {
  const members = [...sets.keys()].map((key) => key.split(',').map(Number));
  const probs = [...sets.values()];
  const m = members.length;
  const v = p.length;
  const n = m + v + 2;
  const S = 0;
  const T = n - 1;
  const cap = Array.from({ length: n }, () => new Float64Array(n));
  members.forEach((tokens, i) => {
    cap[S][1 + i] = probs[i];
    for (const x of tokens) cap[1 + i][1 + m + x] = 10;
  });
  for (let x = 0; x < v; x++) cap[1 + m + x][T] = p[x];
  let flow = 0;
  for (;;) {
    const prev = new Int32Array(n).fill(-1);
    prev[S] = S;
    const queue = [S];
    while (queue.length && prev[T] < 0) {
      const a = queue.shift() as number;
      for (let b = 0; b < n; b++) {
        if (prev[b] < 0 && cap[a][b] > 1e-15) {
          prev[b] = a;
          queue.push(b);
        }
      }
    }
    if (prev[T] < 0) return flow;
    let push = Number.POSITIVE_INFINITY;
    for (let b = T; b !== S; b = prev[b]) push = Math.min(push, cap[prev[b]][b]);
    for (let b = T; b !== S; b = prev[b]) {
      cap[prev[b]][b] -= push;
      cap[b][prev[b]] += push;
    }
    flow += push;
  }
}

/** min over all subsets A of p(A) + 1 - Q(draft set within A). */
function bruteForceDual(p: ArrayLike<number>, sets: Map<string, number>): number {
  const v = p.length;
  const masks = [...sets.keys()].map((key) => key.split(',').reduce((mask, x) => mask | (1 << Number(x)), 0));
  const probs = [...sets.values()];
  let best = Number.POSITIVE_INFINITY;
  for (let a = 0; a < 1 << v; a++) {
    let pA = 0;
    for (let x = 0; x < v; x++) if (a & (1 << x)) pA += p[x];
    let inside = 0;
    masks.forEach((mask, i) => {
      if ((mask & a) === mask) inside += probs[i];
    });
    best = Math.min(best, pA + 1 - inside);
  }
  return best;
}

const schemes: DraftScheme[] = ['iid', 'without-replacement', 'greedy'];

describe('optimalAcceptance: exact values', () => {
  it('hand-worked: p = (0.2, 0.8), q = (0.8, 0.2)', () => {
    const p = [0.2, 0.8];
    const q = [0.8, 0.2];
    // One draft: 1 - TV = 0.4. Two i.i.d.: token 1 can only come from sets holding 1 (1 - 0.64),
    // token 0 needs only 0.2: 0.2 + 0.36. Three: 0.2 + (1 - 0.512).
    for (const drafts of schemes) expect(optimalAcceptance(p, q, 1, { drafts })).toBeCloseTo(0.4, 14);
    expect(optimalAcceptance(p, q, 2)).toBeCloseTo(0.56, 14);
    expect(optimalAcceptance(p, q, 3)).toBeCloseTo(0.688, 14);
    // Without replacement or greedy, two drafts are always {0, 1}: everything is accepted.
    expect(optimalAcceptance(p, q, 2, { drafts: 'without-replacement' })).toBeCloseTo(1, 14);
    expect(optimalAcceptance(p, q, 2, { drafts: 'greedy' })).toBeCloseTo(1, 14);
  });

  it('k = 1 is sum min(p, q); p = q gives 1; more drafts never hurt', () => {
    const g = rng(91);
    for (let t = 0; t < 30; t++) {
      const p = randomDist(g, 7, t % 3 === 0 ? [1] : []);
      const q = randomDist(g, 7, t % 3 === 1 ? [2, 4] : []);
      const overlap = p.reduce((s, x, j) => s + Math.min(x, q[j]), 0);
      for (const drafts of schemes) {
        expect(optimalAcceptance(p, q, 1, { drafts })).toBeCloseTo(overlap, 12);
        expect(optimalAcceptance(q, q, 3, { drafts })).toBeCloseTo(1, 12);
        let last = 0;
        for (const k of [1, 2, 3, 4]) {
          const a = optimalAcceptance(p, q, k, { drafts });
          expect(a).toBeGreaterThanOrEqual(last - 1e-12);
          last = a;
        }
      }
    }
  });

  it('equals the max-flow optimum and the brute-force dual on random small cases', () => {
    const g = rng(92);
    for (let t = 0; t < 40; t++) {
      const v = 3 + (t % 4); // 3..6
      const p = t % 5 === 0 ? topK(randomDist(g, v), 2) : randomDist(g, v);
      const q = t % 5 === 1 ? randomDist(g, v, [0]) : randomDist(g, v);
      for (const k of [2, 3]) {
        for (const drafts of schemes) {
          if (drafts === 'greedy' && k > v) continue;
          const sets = draftSets(q, k, drafts);
          const flow = maxFlow(p, sets);
          expect(bruteForceDual(p, sets)).toBeCloseTo(flow, 10); // strong duality, as a check of the checks
          expect(optimalAcceptance(p, q, k, { drafts }), `${drafts} k=${k} case ${t}`).toBeCloseTo(flow, 10);
        }
      }
    }
  });

  it('iid handles large vocabularies (sorting, not subsets); without-replacement refuses V > 20', () => {
    const g = rng(93);
    const p = randomDist(g, 5000);
    const q = randomDist(g, 5000);
    const a = optimalAcceptance(p, q, 4);
    expect(a).toBeGreaterThan(optimalAcceptance(p, q, 1));
    expect(a).toBeLessThanOrEqual(1);
    expect(() =>
      optimalAcceptance(randomDist(g, 21), randomDist(g, 21), 2, { drafts: 'without-replacement' }),
    ).toThrow(/vocabulary 21 > 20/);
  });
});

describe('verifiers against the optimal acceptance rate (Monte Carlo)', () => {
  const verifiers: {
    name: string;
    scheme: DraftScheme;
    run: (input: MultiDraftInput) => MultiDraftResult;
    optimal: boolean;
  }[] = [
    { name: 'RRS, iid drafts', scheme: 'iid', run: (i) => verifyRecursiveRejection(i), optimal: false },
    { name: 'K-SEQ, iid drafts', scheme: 'iid', run: verifyKSeq, optimal: false },
    {
      name: 'RRS, drafts without replacement',
      scheme: 'without-replacement',
      run: (i) => verifyRecursiveRejection({ ...i, scheme: 'without-replacement' }),
      optimal: false,
    },
    { name: 'greedy drafts + verifier', scheme: 'greedy', run: verifyGreedyDrafts, optimal: true },
  ];

  it('no verifier beats alpha*; the greedy-draft verifier attains it (table printed)', () => {
    const g = rng(94);
    const trials = 20_000;
    const lines: string[] = [
      'case            k  verifier                          MC accept   alpha*    gap',
    ];
    const cases = [
      { name: 'V=6 random', p: randomDist(g, 6), q: randomDist(g, 6) },
      { name: 'V=8 top-k p', p: topK(randomDist(g, 8), 4), q: randomDist(g, 8) },
      { name: 'V=10 random', p: randomDist(g, 10), q: randomDist(g, 10) },
    ];
    for (const { name, p, q } of cases) {
      for (const k of [2, 3]) {
        for (const ver of verifiers) {
          const alpha = optimalAcceptance(p, q, k, { drafts: ver.scheme });
          const mc = checkExact(ver.run, p, q, k, ver.scheme, trials, g);
          const sd = Math.sqrt((alpha * (1 - alpha)) / trials) || 1 / trials;
          expect(mc, `${ver.name} on ${name}, k=${k}`).toBeLessThanOrEqual(alpha + Z_ALPHA * sd);
          if (ver.optimal) expect(Math.abs(mc - alpha)).toBeLessThanOrEqual(Z_ALPHA * sd);
          lines.push(
            `${name.padEnd(15)} ${k}  ${ver.name.padEnd(33)} ${mc.toFixed(4)}      ${alpha.toFixed(4)}    ${(mc - alpha).toFixed(4)}`,
          );
        }
      }
    }
    console.log(lines.join('\n'));
  });

  it('sampled drafts used as draft sets reproduce the scheme (sanity of the MC harness)', () => {
    // The set distribution the harness draws equals the enumerated one for each scheme.
    const q = Float64Array.from([0.5, 0.3, 0.2, 0]);
    const g = rng(95);
    for (const scheme of schemes) {
      const exact = draftSets(q, 2, scheme);
      const seen = new Map<string, number>();
      const n = 20_000;
      for (let t = 0; t < n; t++) {
        const key = [...new Set(sampleDrafts(q, 2, g, scheme))].sort((a, b) => a - b).join(',');
        seen.set(key, (seen.get(key) ?? 0) + 1);
      }
      for (const [key, prob] of exact) {
        const z = Math.abs((seen.get(key) ?? 0) - n * prob) / Math.sqrt(n * prob * (1 - prob) || 1);
        expect(z, `${scheme} set {${key}}`).toBeLessThan(Z_ALPHA);
      }
      for (const key of seen.keys())
        expect(exact.has(key), `${scheme} drew impossible set {${key}}`).toBe(true);
    }
  });
});
