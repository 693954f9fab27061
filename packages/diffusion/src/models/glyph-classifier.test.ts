/**
 * The glyph classifier against the PyTorch reference outputs of tools/fixtures/glyph_classifier.py
 * (fixtures/glyph-classifier: logits, log-probabilities and features of 8 held-out-font glyphs and 2
 * noise images); chunked batches against single images; its features in @hasten/eval's Fréchet
 * distance; config, checkpoint and input checks. Skipped, with the reason, when the fixture is absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSafetensors } from '@hasten/core-tensor/node';
import { frechetDistance } from '@hasten/eval';
import { describe, expect, it } from 'vitest';
import { loadGlyphClassifier } from '../node';
import { GlyphClassifier } from './glyph-classifier';

const FIXTURES = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../../fixtures');
const DIR = join(FIXTURES, 'glyph-classifier');
const PRESENT = existsSync(join(DIR, 'reference.safetensors'));
if (!PRESENT)
  console.warn(
    `glyph-classifier tests skipped: ${DIR} not exported yet (tools/fixtures/glyph_classifier.py)`,
  );

// f32 against PyTorch's f32: max |a − b| ≤ TOL · (1 + max |ref|) per tensor.
const TOL = 5e-5;

async function readRef(): Promise<Map<string, Float32Array>> {
  const f = await openSafetensors(join(DIR, 'reference.safetensors'));
  const out = new Map<string, Float32Array>();
  for (const n of f.names) {
    const dt = f.info(n).dtype;
    out.set(n, Float32Array.from(dt === 'i32' ? await f.raw(n) : await f.raw(n, { dtype: 'f32' })));
  }
  await f.close();
  return out;
}

function get(m: Map<string, Float32Array>, k: string): Float32Array {
  const v = m.get(k);
  if (!v) throw new Error(`reference tensor ${k} missing`);
  return v;
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / (1 + m);
}

describe.skipIf(!PRESENT)('GlyphClassifier (fixture)', () => {
  it('matches the PyTorch logits, log-probabilities and features', async () => {
    const model = await loadGlyphClassifier(DIR);
    const ref = await readRef();
    const images = get(ref, 'images');
    const logits = model.logits(images);
    const logProbs = model.logProbs(images);
    const features = model.features(images);
    expect([logits.rows, logits.cols]).toEqual([10, 36]);
    expect([features.rows, features.cols]).toEqual([10, model.config.feature_dim]);
    expect(relErr(logits.data, get(ref, 'logits'))).toBeLessThanOrEqual(TOL);
    expect(relErr(logProbs.data, get(ref, 'log_probs'))).toBeLessThanOrEqual(TOL);
    expect(relErr(features.data, get(ref, 'features'))).toBeLessThanOrEqual(TOL);
    // predictions are the arg-max of PyTorch's logits
    const refLogits = get(ref, 'logits');
    const refArgmax = Array.from({ length: 10 }, (_, r) => {
      const row = Array.from(refLogits.subarray(r * 36, (r + 1) * 36));
      return row.indexOf(Math.max(...row));
    });
    expect(Array.from(model.predict(images))).toEqual(refArgmax);
  });

  it('chunked batches (> 64 images) equal per-image calls', async () => {
    const model = await loadGlyphClassifier(DIR);
    const images = get(await readRef(), 'images');
    const n = 70;
    const batch = new Float64Array(n * model.imageSize);
    for (let i = 0; i < n; i++)
      batch.set(
        images.subarray((i % 10) * model.imageSize, ((i % 10) + 1) * model.imageSize),
        i * model.imageSize,
      );
    const all = model.features(batch);
    for (const i of [0, 63, 64, 69]) {
      const one = model.features(batch.subarray(i * model.imageSize, (i + 1) * model.imageSize));
      expect(Array.from(all.data.subarray(i * all.cols, (i + 1) * all.cols)), `image ${i}`).toEqual(
        Array.from(one.data),
      );
    }
  });

  it('features feed frechetDistance: a set against itself is ~0, glyphs against noise is far larger', async () => {
    const model = await loadGlyphClassifier(DIR);
    const images = get(await readRef(), 'images');
    const glyphs = model.features(images.subarray(0, 8 * model.imageSize));
    const noise = new Float64Array(8 * model.imageSize);
    let s = 12345;
    for (let i = 0; i < noise.length; i++) {
      s = (s * 1103515245 + 12345) % 2 ** 31;
      noise[i] = (s / 2 ** 31) * 2 - 1;
    }
    const fNoise = model.features(noise);
    // 8 samples in 128 dims: rank-deficient covariances, so the self-distance is ~0 up to the
    // square-root round-off of near-zero eigenvalues (~1e-5 measured), far below the cross distance.
    const self = Math.abs(frechetDistance(glyphs, glyphs));
    const cross = frechetDistance(glyphs, fNoise);
    expect(self).toBeLessThan(1e-3);
    expect(cross).toBeGreaterThan(1000 * self + 0.1);
  });

  it('rejects bad inputs, configs and checkpoints with errors that name them', async () => {
    const model = await loadGlyphClassifier(DIR);
    expect(() => model.logits(new Float32Array(1000))).toThrow(
      /images has 1000 values; expected a positive multiple of 1024/,
    );
    const nan = new Float32Array(1024);
    nan[5] = Number.NaN;
    expect(() => model.features(nan)).toThrow(/images\[5\] is not finite/);
    const cfg = JSON.parse(readFileSync(join(DIR, 'config.json'), 'utf8'));
    expect(() => GlyphClassifier.parseConfig({ ...cfg, dropout: 0.1 })).toThrow(/dropout/);
    expect(() => GlyphClassifier.parseConfig({ ...cfg, feature_dim: 64 })).toThrow(/feature_dim/);
    const bytes = new Uint8Array(readFileSync(join(DIR, 'model.safetensors')));
    await expect(GlyphClassifier.fromSafetensors({ ...cfg, num_classes: 10 }, bytes)).rejects.toThrow(
      /tensor 'head.weight' has shape \[36, 128\], expected \[10, 128\]/,
    );
    await expect(loadGlyphClassifier(join(FIXTURES, 'no-such-classifier'))).rejects.toThrow(
      /folder not found/,
    );
  });
});
