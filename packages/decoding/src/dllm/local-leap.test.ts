/**
 * LocalLeap: the commit rule against a plain-loop reference on fresh random confidences, hand
 * cases, a hand simulation through generateDiffusion on a synthetic model, and option errors.
 */
import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { softmaxRef } from '../testing';
import { type DiffusionStepEvent, generateDiffusion, streamDiffusion } from './generate-diffusion';
import { localLeapCommits } from './local-leap';
import { SyntheticMDLM } from './testing';

const S = { anchorThreshold: 0.9, localThreshold: 0.6, leapRadius: 2 };

/** Plain reading of the rule: anchors, their relaxed neighbours, else the single best. */
function reference(c: { position: number; confidence: number }[], s: typeof S): number[] {
  const out: number[] = [];
  let anyAnchor = false;
  for (const a of c) if (a.confidence >= s.anchorThreshold) anyAnchor = true;
  if (!anyAnchor) {
    let best = -1;
    for (let i = 0; i < c.length; i++) {
      if (
        best < 0 ||
        c[i].confidence > c[best].confidence ||
        (c[i].confidence === c[best].confidence && c[i].position < c[best].position)
      ) {
        best = i;
      }
    }
    return [best];
  }
  for (let i = 0; i < c.length; i++) {
    if (c[i].confidence >= s.anchorThreshold) {
      out.push(i);
      continue;
    }
    if (c[i].confidence < s.localThreshold) continue;
    for (const a of c) {
      if (a.confidence >= s.anchorThreshold && Math.abs(a.position - c[i].position) <= s.leapRadius) {
        out.push(i);
        break;
      }
    }
  }
  return out;
}

describe('LocalLeap commit rule', () => {
  it('equals the plain-loop reference on random confidences and gaps (seed 17, 300 cases)', () => {
    const g = rng(17);
    let leaps = 0;
    for (let t = 0; t < 300; t++) {
      const n = 1 + Math.floor(g.uniform(1)[0] * 12);
      const u = g.uniform(2 * n);
      let pos = 0;
      const c = Array.from({ length: n }, (_, i) => {
        pos += 1 + Math.floor(u[2 * i] * 3); // gaps of 1..3 (committed positions between)
        return { position: pos, confidence: u[2 * i + 1] };
      });
      const got = localLeapCommits(c, S);
      expect(got.map((p) => p.index)).toEqual(reference(c, S));
      leaps += got.filter((p) => p.reason === 'local-leap').length;
    }
    expect(leaps).toBeGreaterThan(20); // the relaxed commits do happen on this sample
  });

  it('hand cases', () => {
    const c = (xs: [number, number][]) => xs.map(([position, confidence]) => ({ position, confidence }));
    // anchor at 5; 4 and 7 within radius 2 above 0.6; 8 is at distance 3; 3 below 0.6.
    expect(
      localLeapCommits(
        c([
          [3, 0.5],
          [4, 0.65],
          [5, 0.95],
          [7, 0.7],
          [8, 0.8],
        ]),
        S,
      ),
    ).toEqual([
      { index: 1, reason: 'local-leap' },
      { index: 2, reason: 'anchor' },
      { index: 3, reason: 'local-leap' },
    ]);
    // No anchor: the single most confident, the lower position on ties.
    expect(
      localLeapCommits(
        c([
          [3, 0.5],
          [4, 0.8],
          [6, 0.8],
        ]),
        S,
      ),
    ).toEqual([{ index: 1, reason: 'low-confidence' }]);
    expect(localLeapCommits([], S)).toEqual([]);
  });
});

describe('LocalLeap in generateDiffusion', () => {
  const V = 6;
  const MASK = 5;
  const fn = (pos: number, x: readonly number[]) => {
    const out = [0, 0, 0, 0, 0, -40];
    out[pos % 5] += 0.5 * (pos % 9);
    if (pos > 0 && x[pos - 1] !== MASK) out[(x[pos - 1] + 1) % 5] += 3;
    return out;
  };

  it('commits what the rule picks from the block confidences, step by step (hand simulation)', async () => {
    const x = [0, ...new Array(16).fill(MASK)];
    const want: [number, string][][] = [];
    while (x.includes(MASK)) {
      const cand: { position: number; confidence: number; tok: number }[] = [];
      for (let p = 1; p < x.length; p++) {
        if (x[p] !== MASK) continue;
        const l = fn(p, x);
        const tok = l.indexOf(Math.max(...l));
        cand.push({ position: p, confidence: softmaxRef(l)[tok], tok });
      }
      const idx = reference(cand, S);
      const anchored = cand.some((c) => c.confidence >= S.anchorThreshold);
      const why = (c: number) =>
        !anchored ? 'low-confidence' : c >= S.anchorThreshold ? 'anchor' : 'local-leap';
      want.push(idx.map((i) => [cand[i].position - 1, why(cand[i].confidence)]));
      for (const i of idx) x[cand[i].position] = cand[i].tok;
    }
    const model = new SyntheticMDLM(MASK, V, fn);
    const events: DiffusionStepEvent[] = [];
    for await (const e of streamDiffusion(model, {
      prompt: [0],
      genLength: 16,
      commit: 'local-leap',
      ...S,
      eosFill: false,
    })) {
      if (e.type === 'step') events.push(e);
    }
    expect(events.map((e) => e.commits.map((c) => [c.position, c.reason]))).toEqual(want);
    expect(want.some((s) => s.length > 1)).toBe(true);
    expect(model.forwards).toBe(want.length);
  });

  it('names the field of a bad option', async () => {
    const model = new SyntheticMDLM(MASK, V, fn);
    const run = (o: Record<string, unknown>) => generateDiffusion(model, { prompt: [0], genLength: 4, ...o });
    await expect(run({ commit: 'local-leap', anchorThreshold: 0.5, localThreshold: 0.7 })).rejects.toThrow(
      /option 'localThreshold' must be at most anchorThreshold 0.5/,
    );
    await expect(run({ commit: 'threshold', leapRadius: 3 })).rejects.toThrow(
      /option 'commit' must be 'local-leap' when option 'leapRadius' is set/,
    );
    await expect(run({ commit: 'local-leap', leapRadius: 0 })).rejects.toThrow(/leapRadius/);
    await expect(run({ commit: 'local-leap', remasking: 'random' })).rejects.toThrow(/remasking/);
  });
});
