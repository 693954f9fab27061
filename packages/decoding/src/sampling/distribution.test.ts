/**
 * Distribution preservation: generate({ doSample: true }) with each processor draws from exactly the
 * processed distribution. A synthetic model has a known next-token distribution; for each processor
 * the test computes the processed distribution itself (its own formulas, below) and runs Pearson's
 * chi-square test on N = 10000 draws (10000 rows of one batch, each with its own Philox stream) at
 * fixed seeds, significance alpha = 0.001 (bins merged to expected counts >= 5). Tokens the
 * processor removes must never be drawn (checked exactly). The seeds are fixed, so each test is
 * deterministic; alpha says how unlikely a pass would be to turn into a failure under another seed.
 */
import { describe, expect, it } from 'vitest';
import { generate } from '../generation/generate';
import type { GenerateOptions } from '../generation/options';
import { chiSquare, histogram, SyntheticLM, softmaxRef } from '../testing';

const ALPHA = 1e-3;
const N = 10000;
const NEG = Number.NEGATIVE_INFINITY;
const BASE = [1.2, -0.5, 0.3, 2.0, -1.0, 0.8, 0.0, -2.0, 1.5, -0.3, 0.6, -1.5];
const V = BASE.length;
const PROMPT = [5, 3, 1, 6, 5];

/** The model: BASE whatever the context. */
const model = new SyntheticLM(V, () => BASE);

/** Counts of the token at `index` of N rows sampled with `opts` (prompt PROMPT unless given). */
async function draw(
  m: SyntheticLM,
  opts: Partial<GenerateOptions>,
  seed: number,
  index = 0,
  prompt = PROMPT,
): Promise<number[]> {
  const r = await generate(m, {
    prompt: Array.from({ length: N }, () => prompt),
    maxNewTokens: index + 1,
    doSample: true,
    seed,
    stopTokens: [],
    ...opts,
  });
  return histogram(
    r.rows.map((row) => row.tokens[index]),
    V,
  );
}

function expectDistribution(counts: number[], probs: number[]): void {
  const { p, impossible, df } = chiSquare(counts, probs);
  expect(impossible).toBe(0);
  expect(df).toBeGreaterThan(0);
  expect(p).toBeGreaterThan(ALPHA);
}

const masked = (logits: number[], keep: (i: number) => boolean) => logits.map((x, i) => (keep(i) ? x : NEG));
const byProbDesc = (p: number[]) => p.map((_, i) => i).sort((a, b) => p[b] - p[a] || a - b);

// The processed distributions, computed from the definitions.
const ref = {
  temperature: (x: number[], t: number) => x.map((v) => v / t),
  topK: (x: number[], k: number) => {
    const kth = [...x].sort((a, b) => b - a)[k - 1];
    return masked(x, (i) => x[i] >= kth);
  },
  topP: (x: number[], top: number) => {
    const p = softmaxRef(x);
    const keep = new Set<number>();
    let cum = 0;
    for (const i of byProbDesc(p)) {
      if (keep.size > 0 && cum >= top) break;
      keep.add(i);
      cum += p[i];
    }
    return masked(x, (i) => keep.has(i));
  },
  minP: (x: number[], m: number) => {
    const p = softmaxRef(x);
    const pmax = Math.max(...p);
    return masked(x, (i) => p[i] >= m * pmax);
  },
  typical: (x: number[], mass: number) => {
    const p = softmaxRef(x);
    const h = -p.reduce((s, pi) => s + (pi > 0 ? pi * Math.log(pi) : 0), 0);
    const dist = p.map((pi) => Math.abs(-Math.log(pi) - h));
    const order = p.map((_, i) => i).sort((a, b) => dist[a] - dist[b] || a - b);
    // Shortest prefix of the ranking reaching the mass; keep every token no farther than its last.
    let cum = 0;
    let last = order[order.length - 1];
    for (const i of order) {
      cum += p[i];
      if (cum >= mass) {
        last = i;
        break;
      }
    }
    return masked(x, (i) => dist[i] <= dist[last]);
  },
};

describe(`sampling draws from the processed distribution (chi-square, N = ${N}, alpha = ${ALPHA})`, () => {
  it('no processor: softmax of the logits', async () => {
    expectDistribution(await draw(model, {}, 1), softmaxRef(BASE));
  });

  it('temperature 0.6 (and the test has power: the untempered distribution is rejected)', async () => {
    const counts = await draw(model, { temperature: 0.6 }, 2);
    expectDistribution(counts, softmaxRef(ref.temperature(BASE, 0.6)));
    expect(chiSquare(counts, softmaxRef(BASE)).p).toBeLessThan(1e-9);
  });

  it('top-k 5', async () => {
    expectDistribution(await draw(model, { topK: 5 }, 3), softmaxRef(ref.topK(BASE, 5)));
  });

  it('top-p 0.7', async () => {
    expectDistribution(await draw(model, { topP: 0.7 }, 4), softmaxRef(ref.topP(BASE, 0.7)));
  });

  it('min-p 0.15', async () => {
    expectDistribution(await draw(model, { minP: 0.15 }, 5), softmaxRef(ref.minP(BASE, 0.15)));
  });

  it('typical-p 0.5', async () => {
    const want = softmaxRef(ref.typical(BASE, 0.5));
    expect(want.filter((p) => p === 0).length).toBeGreaterThan(0); // the filter removes something
    expectDistribution(await draw(model, { typicalP: 0.5 }, 6), want);
  });

  it('repetition penalty 1.8 over the prompt tokens (positive, negative and zero logits)', async () => {
    // PROMPT holds 5 (0.8), 3 (2.0), 1 (-0.5), 6 (0.0).
    const x = BASE.map((v, i) => (PROMPT.includes(i) ? (v > 0 ? v / 1.8 : v * 1.8) : v));
    expectDistribution(await draw(model, { repetitionPenalty: 1.8 }, 7), softmaxRef(x));
  });

  it('frequency 0.7 and presence 0.4 penalties over the generated tokens', async () => {
    // The first three new tokens are forced to 3, 3, 8 (every other logit -Infinity); the fourth is
    // drawn from BASE minus the penalties of counts {3: 2, 8: 1}.
    const forced = [3, 3, 8];
    const m = new SyntheticLM(V, (ctx) => {
      const k = ctx.length - PROMPT.length;
      return k < forced.length ? BASE.map((_, i) => (i === forced[k] ? 0 : NEG)) : BASE;
    });
    const x = [...BASE];
    x[3] -= 2 * 0.7 + 0.4;
    x[8] -= 1 * 0.7 + 0.4;
    expectDistribution(await draw(m, { frequencyPenalty: 0.7, presencePenalty: 0.4 }, 8, 3), softmaxRef(x));
  });

  it('logit bias', async () => {
    const x = [...BASE];
    x[4] += 3;
    x[3] -= 1.5;
    expectDistribution(await draw(model, { logitBias: { 4: 3, 3: -1.5 } }, 9), softmaxRef(x));
  });

  it('suppressed tokens are never drawn; the rest keep their relative odds', async () => {
    expectDistribution(
      await draw(model, { suppressTokens: [3, 8] }, 10),
      softmaxRef(masked(BASE, (i) => i !== 3 && i !== 8)),
    );
  });

  it('no-repeat n-gram 2: after ...5, 3, 1, 6, 5 the token 3 is banned', async () => {
    expectDistribution(
      await draw(model, { noRepeatNgramSize: 2 }, 11),
      softmaxRef(masked(BASE, (i) => i !== 3)),
    );
  });

  it('minNewTokens: the stop token is banned until enough tokens are generated', async () => {
    const counts = await draw(model, { minNewTokens: 2, stopTokens: [3] }, 12);
    expectDistribution(counts, softmaxRef(masked(BASE, (i) => i !== 3)));
  });

  it('contrastive: log p_expert - 0.5 log p_amateur over the plausible tokens (0.1)', async () => {
    const AMA = [2.5, -1, 0.3, 1.0, -1.0, 1.6, 0.2, -2.0, 0.2, -0.3, 0.0, 0.5];
    const amateur = new SyntheticLM(V, () => AMA);
    const le = softmaxRef(BASE).map(Math.log);
    const la = softmaxRef(AMA).map(Math.log);
    const pmax = Math.max(...softmaxRef(BASE));
    const x = le.map((v, i) => (Math.exp(v) >= 0.1 * pmax ? v - 0.5 * la[i] : NEG));
    expectDistribution(
      await draw(model, { contrastive: { model: amateur, alpha: 0.5, plausibility: 0.1 } }, 13),
      softmaxRef(x),
    );
    expect(amateur.forwards).toBe(1);
  });

  it('the standard chain in order: repetition, temperature, top-k, top-p, min-p', async () => {
    let x = BASE.map((v, i) => (PROMPT.includes(i) ? (v > 0 ? v / 1.3 : v * 1.3) : v));
    x = ref.temperature(x, 0.8);
    x = ref.topK(x, 8);
    x = ref.topP(x, 0.85);
    x = ref.minP(x, 0.05);
    const opts = { repetitionPenalty: 1.3, temperature: 0.8, topK: 8, topP: 0.85, minP: 0.05 };
    expectDistribution(await draw(model, opts, 14), softmaxRef(x));
  });
});
