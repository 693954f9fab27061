/**
 * LlamaModel.quantize on the code target: the quantized model computes exactly what an f32 model
 * holding the DEQUANTIZED weights computes (the kernel's own rounding aside), its weight memory is
 * what the formats' layouts say, and its logits stay close to the f32 model's.
 */
import { dequantize, type QuantizedWeight, tensor, writeValues } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { loadCausalLM } from '../load';
import { fixtureDir } from '../testing';
import type { LlamaModel } from './model';

const dir = fixtureDir('code-target');
const prompt = [
  256,
  ...Array.from('def parse(line):\n    key, _, value = line.partition("=")\n', (c) => c.charCodeAt(0)),
];
const ids = () => tensor(Int32Array.from(prompt), [1, prompt.length], { dtype: 'i32' });

async function logits(model: LlamaModel): Promise<Float32Array> {
  const out = await model.forward({ tokens: ids() });
  return Float32Array.from((await out.logits.data()) as Float32Array);
}
const maxAbs = (a: Float32Array, b: Float32Array) =>
  a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

describe('LlamaModel.quantize', () => {
  it.each([
    ['int8', 1e-3],
    ['int4-group', 1e-3],
    ['q4_0', 1e-3],
    ['f16', 1e-4],
  ] as const)('%s equals the f32 model holding the dequantized weights', async (format, tol) => {
    const q = (await loadCausalLM(dir)).quantize({ format });
    // The same weights, dequantized into an f32 copy of the model.
    const ref = await loadCausalLM(dir);
    const qw = (q as unknown as { weights: { layers: Record<string, unknown>[]; lmHead: QuantizedWeight } })
      .weights;
    const rw = (ref as unknown as { weights: { layers: Record<string, unknown>[]; lmHead: unknown } })
      .weights;
    for (let i = 0; i < qw.layers.length; i++) {
      for (const name of ['q', 'k', 'v', 'o', 'gate', 'up', 'down']) {
        writeValues(rw.layers[i][name] as never, dequantize(qw.layers[i][name] as QuantizedWeight));
      }
    }
    // The reference gets the dequantized head as its own tensor (tied or not).
    rw.lmHead = tensor(Float32Array.from(dequantize(qw.lmHead)), [...qw.lmHead.shape]);
    const a = await logits(q);
    const b = await logits(ref);
    const scale = b.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    expect(maxAbs(a, b) / scale).toBeLessThan(tol);
    q.dispose();
    ref.dispose();
  });

  it('holds the bytes the layouts say, and stays close to f32', async () => {
    const f32 = await loadCausalLM(dir);
    const c = f32.config;
    const want = await logits(f32);
    // Linear weights: per layer q, k, v, o, gate, up, down; plus the (tied) head of vocab x hidden.
    const shapes: [number, number][] = [];
    const H = c.hiddenSize;
    const q = c.numHeads * c.headDim;
    const kv = c.numKvHeads * c.headDim;
    const I = c.intermediateSize;
    for (let l = 0; l < c.numLayers; l++)
      shapes.push([q, H], [kv, H], [kv, H], [H, q], [I, H], [I, H], [H, I]);
    const linearF32 = shapes.reduce((s, [n, k]) => s + n * k * 4, 0);
    const head: [number, number] = [c.vocabSize, H];
    // Embedding and norms stay f32; an untied head (this fixture's) is replaced, a tied one gets a copy.
    const headF32 = c.tieWordEmbeddings ? 0 : c.vocabSize * H * 4;
    const other = f32.weightBytes() - linearF32 - headF32;
    const bytes = {
      int8: (n: number, k: number) => n * k + 2 * n, // int8 values + one f16 scale per row
      'int4-group': (n: number, k: number) => (n * k) / 2 + (2 * n * k) / 32, // nibbles + f16 per 32
      q8_0: (n: number, k: number) => (n * k * 34) / 32, // 32 int8 + f16 per block
      q4_0: (n: number, k: number) => (n * k * 18) / 32, // 16 bytes of nibbles + f16 per block
    } as const;
    for (const [format, per] of Object.entries(bytes)) {
      const m = (await loadCausalLM(dir)).quantize({ format: format as keyof typeof bytes });
      const expected = other + shapes.reduce((s, [n, k]) => s + per(n, k), 0) + per(...head);
      expect(m.weightBytes(), format).toBe(expected);
      const got = await logits(m);
      const scale = want.reduce((x, y) => Math.max(x, Math.abs(y)), 0);
      // RTN on a 3M-parameter model: 8-bit within 2% of the logit range, 4-bit within 15%.
      expect(maxAbs(got, want) / scale, format).toBeLessThan(format.includes('8') ? 0.02 : 0.15);
      m.dispose();
    }
    f32.dispose();
  });

  it('quantizes through loadCausalLM, once, and rejects bad options', async () => {
    const m = await loadCausalLM(dir, { quantize: { format: 'q8_0', lmHead: false } });
    const f32 = await loadCausalLM(dir);
    expect(m.weightBytes()).toBeLessThan(f32.weightBytes() / 2);
    expect(() => m.quantize({ format: 'int8' })).toThrow(/already quantized \(q8_0\)/);
    expect(() => f32.quantize({ format: 'int3' as never })).toThrow(/format/);
    expect(() => f32.quantize({ format: 'int8', bits: 8 } as never)).toThrow(
      /"bits".*allowed: format, groupSize, symmetric, lmHead, plan/,
    );
    m.dispose();
    f32.dispose();
  });
});
