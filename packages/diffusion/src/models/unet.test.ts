/**
 * The UNet against the PyTorch reference outputs of tools/fixtures/glyph_unet.py
 * (fixtures/glyph-unet-random: untrained, non-zero norms and biases; fixtures/glyph-unet: trained, when
 * present), block by block; the skip stack under a DeepCache-style span substitution; `balancedSpan`
 * against the hand-listed spans of the 7-block layout; config and checkpoint checks; and the uncached
 * forward in the sampling loop with DDIM.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rng } from '@hasten/core-tensor';
import { openSafetensors } from '@hasten/core-tensor/node';
import { describe, expect, it } from 'vitest';
import { fullForward } from '../block-denoiser';
import { loadUNet } from '../node';
import { sample } from '../sample';
import { DDIMScheduler } from '../schedulers/ddim';
import { UNet } from './unet';

const FIXTURES = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../../fixtures');
const RANDOM = join(FIXTURES, 'glyph-unet-random');
const TRAINED = join(FIXTURES, 'glyph-unet');
const HAS_TRAINED = existsSync(join(TRAINED, 'reference.safetensors'));

// f32 against PyTorch's f32 (different summation orders, f32 timestep features through the MLP):
// max |a − b| ≤ TOL · (1 + max |ref|) per tensor.
const TOL = 5e-5;

async function readAll(path: string): Promise<Map<string, Float32Array>> {
  const f = await openSafetensors(path);
  const out = new Map<string, Float32Array>();
  for (const n of f.names) {
    const info = f.info(n);
    if (info.dtype === 'i32') out.set(n, Float32Array.from(await f.raw(n)));
    else out.set(n, Float32Array.from(await f.raw(n, { dtype: 'f32' })));
  }
  await f.close();
  return out;
}

function get(m: Map<string, Float32Array>, k: string): Float32Array {
  const v = m.get(k);
  if (!v) throw new Error(`reference tensor ${k} missing`);
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

async function blockByBlock(dir: string) {
  const model = await loadUNet(dir);
  const ref = await readAll(join(dir, 'reference.safetensors'));
  const x = get(ref, 'x');
  const labels = Array.from(get(ref, 'labels'));
  const cond = labels.map((y) => (y === model.config.null_class_id ? null : y));
  const rows: {
    key: string;
    what: string;
    err: number;
    shape?: readonly number[];
    len?: number;
    refLen?: number;
  }[] = [];
  for (const key of ['a', 'b']) {
    const t = get(ref, `${key}.timestep`)[0];
    const pass = model.begin(x, t, cond);
    rows.push({ key, what: 'conv_in', err: relErr(pass.modulatedInput(), get(ref, `${key}.conv_in`)) });
    rows.push({
      key,
      what: 'emb',
      err: relErr((pass as unknown as { emb: Float32Array }).emb, get(ref, `${key}.emb`)),
    });
    for (let i = 0; i < model.numBlocks; i++) {
      pass.runBlock(i);
      const r = get(ref, `${key}.hidden.${i}`);
      rows.push({
        key,
        what: `hidden.${i}`,
        err: relErr(pass.hidden, r),
        shape: pass.shape,
        len: pass.hidden.length,
        refLen: r.length,
      });
    }
    const out = pass.finish();
    rows.push({
      key,
      what: 'output',
      err: relErr(out, get(ref, `${key}.output`)),
      len: out.length,
      refLen: x.length,
    });
  }
  return rows;
}

describe('UNet (glyph fixture)', () => {
  it('matches the PyTorch reference block by block (random fixture, t = 700 and 25, with a null label)', async () => {
    const rows = await blockByBlock(RANDOM);
    expect(rows.length).toBe(2 * (2 + 7 + 1));
    for (const r of rows) {
      expect(r.len, `${r.key} ${r.what} size`).toBe(r.refLen);
      expect(r.err, `${r.key} ${r.what}`).toBeLessThanOrEqual(TOL);
    }
    // hidden shapes of the 3-level layout: down0 → 16x16, down1 → 8x8, up2 → 16x16, up1 → 32x32
    const hidden = rows.filter((r) => r.key === 'a' && r.shape).map((r) => r.shape);
    expect(hidden).toEqual([
      [4, 32, 16, 16],
      [4, 64, 8, 8],
      [4, 64, 8, 8],
      [4, 64, 8, 8],
      [4, 64, 16, 16],
      [4, 64, 32, 32],
      [4, 32, 32, 32],
    ]);
  });

  it.skipIf(!HAS_TRAINED)('matches the PyTorch reference block by block (trained fixture)', async () => {
    const rows = await blockByBlock(TRAINED);
    for (const r of rows) expect(r.err, `${r.key} ${r.what}`).toBeLessThanOrEqual(TOL);
  });

  it('balancedSpan: exactly the nested spans around mid, and empty spans', async () => {
    const model = await loadUNet(RANDOM);
    expect(model.numBlocks).toBe(7);
    // blocks: 0 down0 (push), 1 down1 (push), 2 down2 (push), 3 mid, 4 up2 (pop), 5 up1 (pop), 6 up0 (pop)
    const expected = new Set([
      '3,4',
      '2,5',
      '1,6',
      '0,7',
      ...[0, 1, 2, 3, 4, 5, 6, 7].map((k) => `${k},${k}`),
    ]);
    for (let s = 0; s <= 7; s++) {
      for (let e = s; e <= 7; e++)
        expect(model.balancedSpan(s, e), `[${s}, ${e})`).toBe(expected.has(`${s},${e}`));
    }
    expect(model.balancedSpan(-1, 7)).toBe(false);
    expect(model.balancedSpan(0, 8)).toBe(false);
    expect(model.balancedSpan(5, 2)).toBe(false);
  });

  it('a span substituted by its own output (DeepCache, blocks [1, 6)) gives the same prediction', async () => {
    const model = await loadUNet(RANDOM);
    const g = rng(11);
    const x = g.normal(2 * model.sampleSize);
    const full = model.begin(x, 400, [5, null]);
    let deep: Float32Array | undefined;
    let deepShape: readonly number[] = [];
    for (let i = 0; i < 7; i++) {
      full.runBlock(i);
      if (i === 5) {
        deep = full.hidden.slice();
        deepShape = full.shape;
      }
    }
    const want = full.finish();
    const cached = model.begin(x, 400, [5, null]);
    cached.runBlock(0);
    cached.hidden = deep as Float32Array;
    cached.shape = deepShape;
    cached.runBlock(6);
    const got = cached.finish();
    expect(Array.from(got)).toEqual(Array.from(want));
    // an unbalanced cut: up0 right after down0 finds a 16x16 hidden but the 32x32 skip
    const bad = model.begin(x, 400, [5, null]);
    bad.runBlock(0);
    expect(() => bad.runBlock(6)).toThrow(/up_0 needs the skip of down_0/);
    const empty = model.begin(x, 400, [5, null]);
    empty.hidden = new Float32Array(2 * 64 * 8 * 8);
    empty.shape = [2, 64, 8, 8];
    expect(() => empty.runBlock(4)).toThrow(/stack top is empty/);
  });

  it('rejects bad inputs, configs and checkpoints with errors that name them', async () => {
    const model = await loadUNet(RANDOM);
    const x = new Float32Array(model.sampleSize);
    expect(() => model.begin(x, 10, [36])).toThrow(/cond\[0\] must be a class id 0\.\.35 or null/);
    expect(() => model.begin(x, Number.NaN, [1])).toThrow(/timestep t must be finite/);
    expect(() => model.begin(x, 10, [1, 2])).toThrow(/x has 1024 values, expected 2 items/);
    const pass = model.begin(x, 10, [1]);
    expect(() => pass.runBlock(7)).toThrow(/block index must be an integer in 0\.\.6/);
    expect(() => pass.runBlock(0, { tokens: new Int32Array([0]) })).toThrow(/tokens/);
    pass.runBlock(0);
    expect(() => pass.finish()).toThrow(/expected the output of up_0/);
    pass.hidden = new Float32Array(32 * 32 * 32);
    pass.shape = [1, 32, 32, 32];
    expect(() => pass.finish()).toThrow(/1 skip feature\(s\) pushed by down blocks were never popped/);
    const cfg = JSON.parse(readFileSync(join(RANDOM, 'config.json'), 'utf8'));
    expect(() => UNet.parseConfig({ ...cfg, attention: true })).toThrow(/attention/);
    expect(() => UNet.parseConfig({ ...cfg, prediction_type: 'v_prediction' })).toThrow(/prediction_type/);
    expect(() => UNet.parseConfig({ ...cfg, block_out_channels: [32, 60, 64] })).toThrow(
      /block_out_channels/,
    );
    const bytes = readFileSync(join(RANDOM, 'model.safetensors'));
    await expect(UNet.fromSafetensors({ ...cfg, time_embed_dim: 64 }, new Uint8Array(bytes))).rejects.toThrow(
      /tensor 'time_linear_1.weight' has shape \[128, 32\], expected \[64, 32\]/,
    );
    await expect(
      UNet.fromSafetensors({ ...cfg, block_out_channels: [32, 64] }, new Uint8Array(bytes)),
    ).rejects.toThrow(/unexpected tensors in the checkpoint: .*down_blocks\.2/);
    await expect(loadUNet(join(FIXTURES, 'no-such-unet'))).rejects.toThrow(/folder not found/);
  });

  it('fullForward in sample() with DDIM and CFG gives finite images', async () => {
    const model = await loadUNet(RANDOM);
    const r = sample(new DDIMScheduler(), fullForward(model), {
      steps: 3,
      batch: 2,
      dim: model.sampleSize,
      generator: rng(3),
      cond: [4, 20],
      guidanceScale: 3,
    });
    expect(r.sample.length).toBe(2 * model.sampleSize);
    expect(r.sample.every(Number.isFinite)).toBe(true);
    expect(r.nfe).toBe(3);
    expect(r.itemEvaluations).toBe(12);
  });

  it.skipIf(!HAS_TRAINED)(
    'trained fixture: DDIM 20 steps with CFG samples mostly background with some ink',
    async () => {
      const model = await loadUNet(TRAINED);
      const r = sample(new DDIMScheduler(), fullForward(model), {
        steps: 20,
        batch: 3,
        dim: model.sampleSize,
        generator: rng(12),
        cond: [1, 12, 27], // '1', 'C', 'R'
        guidanceScale: 3,
      });
      expect(r.sample.every(Number.isFinite)).toBe(true);
      // background: clearly dark pixels (< -0.5; 20-step DDIM leaves a faint grey haze); ink: bright pixels
      // (> 0.5). Pure noise gives ~31% of each, so > 50% background rejects noise-like samples.
      for (let b = 0; b < 3; b++) {
        const item = r.sample.subarray(b * model.sampleSize, (b + 1) * model.sampleSize);
        const background = item.filter((v) => v < -0.5).length / item.length;
        const ink = item.filter((v) => v > 0.5).length / item.length;
        expect(background, `item ${b} background`).toBeGreaterThan(0.5);
        expect(ink, `item ${b} ink`).toBeGreaterThan(0.03);
      }
    },
  );
});
