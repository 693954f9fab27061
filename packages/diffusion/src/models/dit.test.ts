/**
 * The DiT against the PyTorch reference outputs of tools/fixtures/glyph_dit.py (fixtures/glyph-dit-random:
 * untrained with non-zero adaLN; fixtures/glyph-dit: trained, when present), block by block; against a
 * plain f64 re-derivation on fresh random inputs; the `tokens` option against full compute; and the
 * uncached forward in the sampling loop.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rng, scopeAsync } from '@hasten/core-tensor';
import { openSafetensors } from '@hasten/core-tensor/node';
import { describe, expect, it } from 'vitest';
import { fullForward } from '../block-denoiser';
import { loadDiT } from '../node';
import { sample } from '../sample';
import { FlowMatchEulerDiscreteScheduler } from '../schedulers/flow-match-euler-discrete';
import { DiT } from './dit';

const FIXTURES = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../../fixtures');
const RANDOM = join(FIXTURES, 'glyph-dit-random');
const TRAINED = join(FIXTURES, 'glyph-dit');
const HAS_TRAINED = existsSync(join(TRAINED, 'reference.safetensors'));

// f32 against PyTorch's f32 (different summation orders): max |a − b| ≤ TOL · (1 + max |ref|) per tensor.
const TOL = 2e-5;
// Against the f64 re-derivation the model's f32 rounding of the timestep argument t·f_i (up to
// ~3e-5 absolute at t ≈ 1000, as PyTorch rounds it) shows through the timestep MLP: a looser bound.
const TOL_F64 = 2e-4;

async function readAll(path: string): Promise<Map<string, Float32Array>> {
  const f = await openSafetensors(path);
  const out = new Map<string, Float32Array>();
  for (const n of f.names) out.set(n, Float32Array.from(await f.raw(n, { dtype: 'f32' })));
  await f.close();
  return out;
}

async function readInts(path: string, name: string): Promise<number[]> {
  const f = await openSafetensors(path);
  const v = Array.from(await f.raw(name));
  await f.close();
  return v;
}

/** max |a − b| / (1 + max |b|). */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / (1 + m);
}

function get(m: Map<string, Float32Array>, k: string): Float32Array {
  const v = m.get(k);
  if (!v) throw new Error(`reference tensor ${k} missing`);
  return v;
}

/** A literal f64 re-derivation of the DiT forward from the checkpoint (names of facebookresearch/DiT). */
function referenceForward(
  W: Map<string, Float32Array>,
  model: DiT,
  x: Float64Array,
  t: number,
  labels: number[],
): { blocks: Float64Array[]; out: Float64Array } {
  const cfg = model.config;
  const h = cfg.hidden_size;
  const p = cfg.patch_size;
  const g = cfg.image_size / p;
  const T = g * g;
  const C = cfg.in_channels;
  const S = cfg.image_size;
  const H = cfg.num_heads;
  const d = h / H;
  const B = labels.length;
  const lin = (name: string, v: ArrayLike<number>, inp: number): Float64Array => {
    const w = get(W, `${name}.weight`);
    const b = get(W, `${name}.bias`);
    const out = b.length;
    const rows = v.length / inp;
    const r = new Float64Array(rows * out);
    for (let i = 0; i < rows; i++)
      for (let o = 0; o < out; o++) {
        let s = b[o];
        for (let j = 0; j < inp; j++) s += v[i * inp + j] * w[o * inp + j];
        r[i * out + o] = s;
      }
    return r;
  };
  const silu = (v: number) => v / (1 + Math.exp(-v));
  const ln = (v: Float64Array): Float64Array => {
    const r = new Float64Array(v.length);
    for (let i = 0; i < v.length / h; i++) {
      let mu = 0;
      for (let j = 0; j < h; j++) mu += v[i * h + j] / h;
      let va = 0;
      for (let j = 0; j < h; j++) va += (v[i * h + j] - mu) ** 2 / h;
      for (let j = 0; j < h; j++) r[i * h + j] = (v[i * h + j] - mu) / Math.sqrt(va + cfg.layer_norm_eps);
    }
    return r;
  };
  // patches (c, py, px), tokens row-major
  const patches = new Float64Array(B * T * C * p * p);
  for (let b = 0; b < B; b++)
    for (let ty = 0; ty < g; ty++)
      for (let tx = 0; tx < g; tx++)
        for (let c = 0; c < C; c++)
          for (let py = 0; py < p; py++)
            for (let px = 0; px < p; px++)
              patches[(((b * T + ty * g + tx) * C + c) * p + py) * p + px] =
                x[((b * C + c) * S + ty * p + py) * S + tx * p + px];
  let hid = lin('x_embedder.proj', patches, C * p * p);
  const pos = get(W, 'pos_embed');
  for (let i = 0; i < hid.length; i++) hid[i] += pos[i % (T * h)];
  const half = cfg.frequency_embedding_size / 2;
  const tf = new Float64Array(2 * half);
  for (let i = 0; i < half; i++) {
    const a = t * Math.exp((-Math.log(10000) * i) / half);
    tf[i] = Math.cos(a);
    tf[half + i] = Math.sin(a);
  }
  const tEmb = lin('t_embedder.mlp.2', lin('t_embedder.mlp.0', tf, 2 * half).map(silu), h);
  const table = get(W, 'y_embedder.embedding_table.weight');
  const sc = new Float64Array(B * h);
  for (let b = 0; b < B; b++)
    for (let j = 0; j < h; j++) sc[b * h + j] = silu(tEmb[j] + table[labels[b] * h + j]);
  const chunk = (mod: Float64Array, width: number, b: number, k: number, j: number) =>
    mod[b * width + k * h + j];
  const blocks: Float64Array[] = [];
  for (let i = 0; i < cfg.depth; i++) {
    const mod = lin(`blocks.${i}.adaLN_modulation.1`, sc, h);
    const n1 = ln(hid);
    for (let r = 0; r < B * T; r++) {
      const b = Math.floor(r / T);
      for (let j = 0; j < h; j++)
        n1[r * h + j] = n1[r * h + j] * (1 + chunk(mod, 6 * h, b, 1, j)) + chunk(mod, 6 * h, b, 0, j);
    }
    const qkv = lin(`blocks.${i}.attn.qkv`, n1, h);
    const att = new Float64Array(B * T * h);
    for (let b = 0; b < B; b++)
      for (let hd = 0; hd < H; hd++)
        for (let qi = 0; qi < T; qi++) {
          const sc2 = new Float64Array(T);
          let mx = -Infinity;
          for (let ki = 0; ki < T; ki++) {
            let s = 0;
            for (let e = 0; e < d; e++)
              s += qkv[(b * T + qi) * 3 * h + hd * d + e] * qkv[(b * T + ki) * 3 * h + h + hd * d + e];
            sc2[ki] = s / Math.sqrt(d);
            mx = Math.max(mx, sc2[ki]);
          }
          let z = 0;
          for (let ki = 0; ki < T; ki++) {
            sc2[ki] = Math.exp(sc2[ki] - mx);
            z += sc2[ki];
          }
          for (let e = 0; e < d; e++) {
            let s = 0;
            for (let ki = 0; ki < T; ki++)
              s += (sc2[ki] / z) * qkv[(b * T + ki) * 3 * h + 2 * h + hd * d + e];
            att[(b * T + qi) * h + hd * d + e] = s;
          }
        }
    const a = lin(`blocks.${i}.attn.proj`, att, h);
    hid = hid.map((v, idx) => v + chunk(mod, 6 * h, Math.floor(idx / (T * h)), 2, idx % h) * a[idx]);
    const n2 = ln(hid);
    for (let r = 0; r < B * T; r++) {
      const b = Math.floor(r / T);
      for (let j = 0; j < h; j++)
        n2[r * h + j] = n2[r * h + j] * (1 + chunk(mod, 6 * h, b, 4, j)) + chunk(mod, 6 * h, b, 3, j);
    }
    const gelu = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
    const f = lin(`blocks.${i}.mlp.fc2`, lin(`blocks.${i}.mlp.fc1`, n2, h).map(gelu), cfg.mlp_ratio * h);
    hid = hid.map((v, idx) => v + chunk(mod, 6 * h, Math.floor(idx / (T * h)), 5, idx % h) * f[idx]);
    blocks.push(hid);
  }
  const fm = lin('final_layer.adaLN_modulation.1', sc, h);
  const nf = ln(hid);
  for (let r = 0; r < B * T; r++) {
    const b = Math.floor(r / T);
    for (let j = 0; j < h; j++)
      nf[r * h + j] = nf[r * h + j] * (1 + chunk(fm, 2 * h, b, 1, j)) + chunk(fm, 2 * h, b, 0, j);
  }
  const y = lin('final_layer.linear', nf, h);
  const out = new Float64Array(B * C * S * S);
  for (let b = 0; b < B; b++)
    for (let ty = 0; ty < g; ty++)
      for (let tx = 0; tx < g; tx++)
        for (let py = 0; py < p; py++)
          for (let px = 0; px < p; px++)
            for (let c = 0; c < C; c++)
              out[((b * C + c) * S + ty * p + py) * S + tx * p + px] =
                y[(b * T + ty * g + tx) * p * p * C + (py * p + px) * C + c];
  return { blocks, out };
}

function checkAgainstReference(dir: string) {
  return async () => {
    const model = await loadDiT(dir);
    const ref = await readAll(join(dir, 'reference.safetensors'));
    const labels = await readInts(join(dir, 'reference.safetensors'), 'labels');
    const ts = Array.from(get(ref, 't'));
    const cond = labels.map((y) => (y === model.config.null_class ? null : y));
    expect(cond).toContain(null);
    expect(ts.length).toBe(2);
    for (let k = 0; k < ts.length; k++) {
      const pass = model.begin(get(ref, 'x'), ts[k], cond);
      expect(pass.shape).toEqual([labels.length, model.numTokens, model.hiddenSize]);
      expect(relErr(pass.hidden, get(ref, `t${k}.stem`))).toBeLessThan(TOL);
      expect(relErr(pass.modulatedInput(), get(ref, `t${k}.modulated_input`))).toBeLessThan(TOL);
      for (let i = 0; i < model.numBlocks; i++) {
        pass.runBlock(i);
        const err = relErr(pass.hidden, get(ref, `t${k}.block${i}`));
        expect(err, `t${k} block ${i}`).toBeLessThan(TOL);
      }
      const out = pass.finish();
      expect(out).toBeInstanceOf(Float64Array);
      expect(relErr(out, get(ref, `t${k}.output`))).toBeLessThan(TOL);
    }
  };
}

describe('DiT (fixtures/glyph-dit-random)', () => {
  it('matches the PyTorch reference block by block and at the output', checkAgainstReference(RANDOM), 60_000);

  it('matches a plain f64 re-derivation on fresh random inputs', async () => {
    const model = await loadDiT(RANDOM);
    const W = await readAll(join(RANDOM, 'model.safetensors'));
    const gen = rng(41);
    const x = gen.normal(2 * model.sampleSize);
    const t = 1000 * gen.uniform(1)[0];
    const labels = [Math.floor(gen.uniform(1)[0] * 36), model.config.null_class];
    const want = referenceForward(W, model, x, t, labels);
    const pass = model.begin(x, t, [labels[0], null]);
    for (let i = 0; i < model.numBlocks; i++) {
      pass.runBlock(i);
      expect(relErr(pass.hidden, want.blocks[i]), `block ${i}`).toBeLessThan(TOL_F64);
    }
    expect(relErr(pass.finish(), want.out)).toBeLessThan(TOL_F64);
  }, 60_000);

  it('every block and the label change the output (non-zero adaLN)', async () => {
    const model = await loadDiT(RANDOM);
    const x = rng(5).normal(model.sampleSize);
    const full = fullForward(model)(x, 500, [7]);
    const other = fullForward(model)(x, 500, [8]);
    expect(relErr(full, other)).toBeGreaterThan(1e-3);
    for (let skip = 0; skip < model.numBlocks; skip++) {
      const pass = model.begin(x, 500, [7]);
      for (let i = 0; i < model.numBlocks; i++) if (i !== skip) pass.runBlock(i);
      expect(relErr(pass.finish(), full), `without block ${skip}`).toBeGreaterThan(1e-3);
    }
  });

  it('tokens: selected rows equal the full block, the other rows are left as they were', async () => {
    const model = await loadDiT(RANDOM);
    const gen = rng(17);
    const x = gen.normal(3 * model.sampleSize);
    const tokens = Int32Array.from([0, 3, 17, 18, 40, model.numTokens - 1]);
    const { numTokens: T, hiddenSize: h } = model;
    for (let block = 0; block < model.numBlocks; block++) {
      const full = model.begin(x, 321.5, [1, null, 30]);
      const part = model.begin(x, 321.5, [1, null, 30]);
      // a fresh random block input, as a cache would substitute it
      const hidden = Float32Array.from(gen.normal(full.hidden.length));
      full.hidden = hidden.slice();
      part.hidden = hidden.slice();
      full.runBlock(block);
      part.runBlock(block, { tokens });
      const sel = new Set(tokens);
      let maxSel = 0;
      let changedOther = 0;
      let changedSel = 0;
      for (let b = 0; b < 3; b++)
        for (let r = 0; r < T; r++)
          for (let j = 0; j < h; j++) {
            const i = (b * T + r) * h + j;
            if (sel.has(r)) {
              maxSel = Math.max(maxSel, Math.abs(part.hidden[i] - full.hidden[i]));
              if (part.hidden[i] !== hidden[i]) changedSel++;
            } else if (part.hidden[i] !== hidden[i]) changedOther++;
          }
      expect(maxSel, `block ${block}`).toBeLessThan(1e-5);
      expect(changedSel).toBeGreaterThan(0);
      expect(changedOther).toBe(0);
    }
  });

  it('rejects bad tokens, cond, x, block index, options and configs with a clear error', async () => {
    const model = await loadDiT(RANDOM);
    const x = new Float64Array(model.sampleSize);
    const pass = model.begin(x, 10, [0]);
    expect(() => pass.runBlock(0, { tokens: Int32Array.from([3, 3]) })).toThrow(/strictly ascending/);
    expect(() => pass.runBlock(0, { tokens: Int32Array.from([model.numTokens]) })).toThrow(/0\.\.63/);
    expect(() => pass.runBlock(0, { tokenz: new Int32Array(1) } as never)).toThrow(/tokenz.*allowed: tokens/);
    expect(() => pass.runBlock(model.numBlocks)).toThrow(/block index/);
    expect(() => model.begin(x, 10, [36])).toThrow(/cond\[0\].*0\.\.35 or null/);
    expect(() => model.begin(x, 10, [0, 1])).toThrow(/x has 1024 values/);
    expect(() => model.begin(x, Number.NaN, [0])).toThrow(/finite/);
    pass.hidden = new Float32Array(5);
    expect(() => pass.finish()).toThrow(/hidden has 5 values/);
    const cfg = { ...model.config, hidden_sise: 3 };
    expect(() => DiT.parseConfig(cfg)).toThrow(/hidden_sise.*allowed: model_type/);
    expect(() => DiT.parseConfig({ ...model.config, num_heads: 5 })).toThrow(
      /hidden_size.*multiple of num_heads/,
    );
    expect(model.balancedSpan(1, model.numBlocks)).toBe(true);
    expect(model.balancedSpan(2, 1)).toBe(false);
  });

  it('owns its weights: loading inside a scope keeps them, dispose() releases them', async () => {
    const inScope = await scopeAsync(() => loadDiT(RANDOM));
    const outside = await loadDiT(RANDOM);
    const x = rng(6).normal(inScope.sampleSize);
    expect(Array.from(fullForward(inScope)(x, 250, [2]))).toEqual(
      Array.from(fullForward(outside)(x, 250, [2])),
    );
    inScope.dispose();
    expect(() => inScope.begin(x, 250, [2])).toThrow(/disposed/);
  });

  it('fullForward in sample() with FlowMatch Euler and CFG gives finite images', async () => {
    const model = await loadDiT(RANDOM);
    const r = sample(new FlowMatchEulerDiscreteScheduler(), fullForward(model), {
      steps: 4,
      batch: 2,
      dim: model.sampleSize,
      generator: rng(3),
      cond: [4, 20],
      guidanceScale: 3,
    });
    expect(r.sample.length).toBe(2 * model.sampleSize);
    expect(r.sample.every(Number.isFinite)).toBe(true);
    expect(r.nfe).toBe(4);
    expect(r.itemEvaluations).toBe(16);
  });
});

// Skipped (with this reason in their names) while fixtures/glyph-dit is absent: it is written by
// tools/fixtures/glyph_dit.py after its ~1 h training run.
describe('DiT (fixtures/glyph-dit, trained; skipped when the fixture is absent)', () => {
  it.skipIf(!HAS_TRAINED)(
    'matches the PyTorch reference block by block and at the output',
    checkAgainstReference(TRAINED),
    60_000,
  );

  it.skipIf(!HAS_TRAINED)(
    'samples glyph-like images: mostly background, some ink',
    async () => {
      const model = await loadDiT(TRAINED);
      const r = sample(new FlowMatchEulerDiscreteScheduler(), fullForward(model), {
        steps: 20,
        batch: 4,
        dim: model.sampleSize,
        generator: rng(12),
        cond: [0, 10, 22, 35],
        guidanceScale: 3,
      });
      expect(r.sample.every(Number.isFinite)).toBe(true);
      for (let b = 0; b < 4; b++) {
        const item = r.sample.subarray(b * model.sampleSize, (b + 1) * model.sampleSize);
        const background = item.filter((v) => v < -0.8).length / item.length;
        const ink = item.filter((v) => v > 0.5).length / item.length;
        expect(background, `item ${b}`).toBeGreaterThan(0.5);
        expect(ink, `item ${b}`).toBeGreaterThan(0.03);
      }
    },
    60_000,
  );
});
