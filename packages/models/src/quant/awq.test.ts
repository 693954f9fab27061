/**
 * AWQ on the code target: the capture forward reproduces LlamaModel.forward; folding the scales
 * leaves the f32 model's function unchanged; after int4 quantization AWQ's held-out next-token NLL
 * is at most RTN's. Calibration: the first 384 bytes of fixtures/corpus/heldout/profile.py;
 * evaluation: 4 windows of 256 bytes from codecs.py and shutil.py (disjoint files).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tensor } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { loadCausalLM } from '../load';
import { FIXTURES, fixtureDir } from '../testing';
import { awqScale, awqScales, meanAbs } from './awq';
import { captureLinearInputs } from './capture-linear-inputs';
import { nextTokenNll } from './next-token-nll';

const dir = fixtureDir('code-target');
const corpus = (file: string, from: number, n: number) => [
  256,
  ...readFileSync(join(FIXTURES, 'corpus/heldout', file)).subarray(from, from + n - 1),
];
const calibration = corpus('profile.py', 0, 384);
const heldout = [...corpus('codecs.py', 0, 512), ...corpus('shutil.py', 2048, 512)];
const maxRel = (a: Float32Array, b: Float32Array) => {
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return d / s;
};

describe('AWQ', () => {
  it('computes scales as the paper states', () => {
    // X [2, 3]: mean |x| per channel = [1, 4, 0.25].
    const act = meanAbs(Float32Array.from([1, -4, 0.5, -1, 4, 0]), 2, 3);
    expect(Array.from(act)).toEqual([1, 4, 0.25]);
    expect(Array.from(awqScales(act, 0))).toEqual([1, 1, 1]);
    // α = 1: s = act / sqrt(4 · 0.25) = act.
    expect(Array.from(awqScales(act, 1))).toEqual([1, 4, 0.25]);
    // α = 0.5: sqrt(act) = [1, 2, 0.5], normalised by sqrt(2 · 0.5) = 1.
    expect(Array.from(awqScales(act, 0.5))).toEqual([1, 2, 0.5]);
  });

  it('captures the forward of LlamaModel, and folding keeps the f32 function', async () => {
    const model = await loadCausalLM(dir);
    const ids = calibration.slice(0, 64);
    const out = await model.forward({
      tokens: tensor(Int32Array.from(ids), [1, ids.length], { dtype: 'i32' }),
    });
    const want = Float32Array.from((await out.logits.data()) as Float32Array);
    const { logits } = await captureLinearInputs(model, ids);
    expect(maxRel(logits, want)).toBeLessThan(1e-5);
    const report = await awqScale(model, {
      tokens: calibration,
      quantize: { format: 'int4-group', groupSize: 128 },
      gridPoints: 5,
    });
    // GQA (8 query heads, 4 kv heads): no o group; 3 groups per layer.
    expect(report.map((r) => r.group)).toEqual(
      Array(model.config.numLayers).fill(['qkv', 'gate_up', 'down']).flat(),
    );
    for (const r of report) expect(r.loss).toBeLessThanOrEqual(r.rtnLoss);
    const after = await captureLinearInputs(model, ids);
    expect(maxRel(after.logits, want)).toBeLessThan(1e-5);
    model.dispose();
  });

  it('int4: AWQ held-out NLL <= RTN held-out NLL', async () => {
    const format = { format: 'int4-group', groupSize: 128 } as const;
    const rtn = (await loadCausalLM(dir)).quantize(format);
    const awq = await loadCausalLM(dir);
    const report = await awqScale(awq, { tokens: calibration, quantize: format });
    awq.quantize(format);
    const f32 = await loadCausalLM(dir);
    const nll = {
      f32: await nextTokenNll(f32, heldout),
      rtn: await nextTokenNll(rtn, heldout),
      awq: await nextTokenNll(awq, heldout),
    };
    console.info(
      'AWQ int4-group g128 held-out NLL (nats/token):',
      nll,
      'alphas:',
      report.map((r) => r.alpha).join(' '),
    );
    expect(nll.awq).toBeLessThanOrEqual(nll.rtn);
    expect(nll.rtn).toBeGreaterThan(nll.f32);
    for (const m of [rtn, awq, f32]) m.dispose();
  });

  it('rejects bad options and quantized models', async () => {
    const model = await loadCausalLM(fixtureDir('families/llama-mha'));
    await expect(
      awqScale(model, { tokens: [1, 2], quantize: { format: 'int4-group' }, grid: 3 } as never),
    ).rejects.toThrow(/"grid".*allowed: tokens, quantize, gridPoints/);
    await expect(awqScale(model, { tokens: [1, 99999], quantize: { format: 'q4_0' } })).rejects.toThrow(
      /token 1 is 99999/,
    );
    model.quantize({ format: 'q8_0' });
    await expect(awqScale(model, { tokens: [1, 2], quantize: { format: 'q4_0' } })).rejects.toThrow(
      /already quantized/,
    );
    model.dispose();
  });
});
