/**
 * saveQuantized + loadCausalLM: every format round-trips bit-exactly (same bytes in every
 * QuantizedWeight, same f32 tensors, same logits), mixed models and the GGUF k-quants included, and
 * a failed save leaves no file behind.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { f32ToF16Bits, type QuantizedWeight, readF32, tensor } from '@hasten/core-tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config';
import { LlamaModel } from '../llama/model';
import type { LlamaWeights } from '../llama/weights';
import { isQuantized } from '../llama/weights';
import { loadCausalLM } from '../load';
import { fixtureDir } from '../testing';
import { saveQuantized } from './save-quantized';

const dir = fixtureDir('code-target');
// The format sweep runs on the small random family checkpoints (2 layers, hidden 64): untied GQA
// and tied qwen2 with q/k/v biases.
const small = 'families/llama-gqa2';
const tied = 'families/qwen2-tied';
const temps: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'hasten-quant-'));
  temps.push(d);
  return d;
};
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

const prompt = [256, ...Array.from('for i in range(10):\n    print(i)\n', (c) => c.charCodeAt(0))];
async function logits(m: LlamaModel): Promise<Float32Array> {
  const out = await m.forward({
    tokens: tensor(Int32Array.from(prompt), [1, prompt.length], { dtype: 'i32' }),
  });
  return Float32Array.from((await out.logits.data()) as Float32Array);
}

/** Every held weight, flattened to comparable byte arrays keyed by position. */
function snapshot(w: LlamaWeights): Map<string, Uint8Array | Float32Array | string> {
  const out = new Map<string, Uint8Array | Float32Array | string>();
  const add = (key: string, x: LlamaWeights['lmHead']) => {
    if (isQuantized(x)) {
      out.set(`${key}.meta`, JSON.stringify([x.format, x.shape, x.groupSize, x.scaleDtype]));
      out.set(`${key}.data`, x.data);
      if (x.scales) out.set(`${key}.scales`, x.scales);
      if (x.zeros) out.set(`${key}.zeros`, x.zeros);
    } else out.set(key, readF32(x));
  };
  add('embed', w.embed);
  add('norm', w.norm);
  add('lmHead', w.lmHead);
  w.layers.forEach((l, i) => {
    for (const [k, x] of Object.entries(l)) add(`${i}.${k}`, x);
  });
  return out;
}

/** A random, valid q4_k / q6_k weight (finite f16 super-block scales). */
function randomKQuant(format: 'q4_k' | 'q6_k', n: number, k: number, seed: number): QuantizedWeight {
  const per = format === 'q4_k' ? 144 : 210;
  const data = new Uint8Array((n * k * per) / 256);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = s >>> 24;
  }
  const d = f32ToF16Bits(0.002);
  for (let b = 0; b < data.length / per; b++) {
    const o = b * per;
    const at = format === 'q4_k' ? [o, o + 2] : [o + 208];
    for (const p of at) {
      data[p] = d & 0xff;
      data[p + 1] = d >>> 8;
    }
  }
  return { format, shape: [n, k], data };
}

describe('saveQuantized / loadCausalLM', () => {
  it.each([
    [small, { format: 'int8' }],
    [small, { format: 'int8-group', groupSize: 64 }],
    [small, { format: 'int8-group', symmetric: false }],
    [small, { format: 'int4-group', groupSize: 32 }],
    [tied, { format: 'int4-group', groupSize: 128, symmetric: false }],
    [small, { format: 'q8_0' }],
    [tied, { format: 'q4_0' }],
    [small, { format: 'f16' }],
    [tied, { format: 'bf16', lmHead: false }],
  ] as const)('%s %o round-trips bit-exactly', async (from, opts) => {
    const m = (await loadCausalLM(fixtureDir(from))).quantize(opts);
    const out = tmp();
    await saveQuantized(m, out);
    const back = await loadCausalLM(out);
    expect(back.config).toEqual(m.config);
    const a = snapshot(m.heldWeights);
    const b = snapshot(back.heldWeights);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [k, v] of a) expect(b.get(k), k).toEqual(v);
    expect(await logits(back)).toEqual(await logits(m));
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(cfg.quantization_config.quant_method).toBe('hasten');
    const linears = 7 * m.config.numLayers + ('lmHead' in opts ? 0 : 1);
    expect(cfg.quantization_config.formats[opts.format]).toBe(linears);
    m.dispose();
    back.dispose();
  });

  it('keeps a mixed model with k-quants and f32 linears as stored', async () => {
    const f32 = await loadCausalLM(dir);
    const c = f32.config;
    const w = f32.heldWeights;
    const layers = w.layers.map((l, i) => ({
      ...l,
      q: randomKQuant('q4_k', c.numHeads * c.headDim, c.hiddenSize, 1 + i),
      gate: randomKQuant('q6_k', c.intermediateSize, c.hiddenSize, 7 + i),
    }));
    const m = new LlamaModel(c, { ...w, layers }, 'cpu');
    const out = tmp();
    await saveQuantized(m, out);
    const back = await loadCausalLM(out);
    const a = snapshot(m.heldWeights);
    const b = snapshot(back.heldWeights);
    for (const [k, v] of a) expect(b.get(k), k).toEqual(v);
    expect((back.heldWeights.layers[0].q as QuantizedWeight).format).toBe('q4_k');
    expect(isQuantized(back.heldWeights.layers[0].k)).toBe(false);
    expect(await logits(back)).toEqual(await logits(m));
    expect(() => parseConfig(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')))).not.toThrow();
    back.dispose();
    f32.dispose();
  });

  it('leaves nothing behind when the save fails, and rejects bad options', async () => {
    const m = (await loadCausalLM(fixtureDir(small))).quantize({ format: 'q8_0' });
    const w = m.heldWeights;
    const broken = new LlamaModel(
      m.config,
      {
        ...w,
        layers: [
          { ...w.layers[0], q: { ...(w.layers[0].q as QuantizedWeight), data: new Uint8Array(5) } },
          ...w.layers.slice(1),
        ],
      },
      'cpu',
    );
    const out = tmp();
    await expect(saveQuantized(broken, out)).rejects.toThrow(/q_proj.*'data' has 5 bytes/);
    expect(readdirSync(out)).toEqual([]);
    await expect(saveQuantized(m, out, { shards: 2 } as never)).rejects.toThrow(
      /shards.*allowed: extraConfig/,
    );
    expect(readdirSync(out)).toEqual([]);
    await saveQuantized(m, out);
    await expect(loadCausalLM(out, { quantize: { format: 'int8' } })).rejects.toThrow(/already quantized/);
    m.dispose();
  });
});
