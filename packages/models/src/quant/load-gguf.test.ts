/**
 * GGUF round trip on the code target: export (writeGGUF, q/k rows permuted as llama.cpp's
 * converter does) -> @huggingface/gguf reads our header back -> loadGGUF gives the same model:
 * F32 to f32 tolerance (the file stores rms_norm_eps as f32), F16 and Q8_0 holding exactly the bytes
 * `quantize({ format })` of the original holds.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type QuantizedWeight, readF32, tensor } from '@hasten/core-tensor';
import { gguf } from '@huggingface/gguf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LlamaModel } from '../llama/model';
import { isQuantized, type LinearWeight } from '../llama/weights';
import { loadCausalLM } from '../load';
import { fixtureDir } from '../testing';
import { byteTokenizerVocab, gpt2ByteChars, llamaToGGUF, permuteRows } from './gguf-llama';
import { loadGGUF } from './load-gguf';
import { saveGGUF } from './save-gguf';
import { writeGGUF } from './write-gguf';

const dir = fixtureDir('code-target');
const out = mkdtempSync(join(tmpdir(), 'hasten-gguf-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const prompt = [256, ...Array.from('import os\nprint(os.getcwd())\n', (c) => c.charCodeAt(0))];
async function logits(m: LlamaModel): Promise<Float32Array> {
  const r = await m.forward({
    tokens: tensor(Int32Array.from(prompt), [1, prompt.length], { dtype: 'i32' }),
  });
  return Float32Array.from((await r.logits.data()) as Float32Array);
}
const relErr = (a: Float32Array, b: Float32Array) => {
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return d / s;
};
const bytesOf = (w: LinearWeight) =>
  isQuantized(w) ? w.data : new Uint8Array(Float32Array.from(readF32(w)).buffer);

let f32: LlamaModel;
let want: Float32Array;
beforeAll(async () => {
  f32 = await loadCausalLM(dir);
  want = await logits(f32);
});
afterAll(() => f32.dispose());

describe('GGUF export and loadGGUF', () => {
  it('writes a header @huggingface/gguf parses, with llama.cpp names, shapes and q/k order', async () => {
    const c = f32.config;
    const path = join(out, 'f32.gguf');
    await saveGGUF(f32, path);
    const { metadata, tensorInfos, tensorDataOffset } = await gguf(path, { allowLocalFile: true });
    const m = metadata as unknown as Record<string, unknown>;
    expect(m.version).toBe(3);
    expect(m['general.architecture']).toBe('llama');
    expect(m['llama.embedding_length']).toBe(c.hiddenSize);
    expect(m['llama.attention.head_count_kv']).toBe(c.numKvHeads);
    expect(m['llama.attention.layer_norm_rms_epsilon']).toBe(Math.fround(c.rmsNormEps));
    expect(Number(tensorDataOffset) % 32).toBe(0);
    const q = tensorInfos.find((t) => t.name === 'blk.0.attn_q.weight');
    expect(q?.shape.map(Number)).toEqual([c.hiddenSize, c.numHeads * c.headDim]); // ne[0] = K first
    expect(tensorInfos.find((t) => t.name === 'output.weight')?.dtype).toBe(0);
    for (const t of tensorInfos) expect(Number(t.offset) % 32, t.name).toBe(0);
    // The stored q rows: head h, GGUF row 2i + j holds HF row j * D/2 + i (convert_hf_to_gguf permute).
    const { readFileSync } = await import('node:fs');
    const file = readFileSync(path);
    const H = c.hiddenSize;
    const D = c.headDim;
    const at = Number(tensorDataOffset) + Number(q?.offset);
    const stored = new Float32Array(
      file.buffer.slice(file.byteOffset + at, file.byteOffset + at + 4 * H * c.numHeads * D),
    );
    const hf = readF32(f32.heldWeights.layers[0].q as never);
    for (const [h, i, j] of [
      [0, 0, 1],
      [3, 5, 0],
      [7, D / 2 - 1, 1],
    ]) {
      const gg = h * D + 2 * i + j;
      const src = h * D + j * (D / 2) + i;
      expect(Array.from(stored.subarray(gg * H, gg * H + 4))).toEqual(
        Array.from(hf.subarray(src * H, src * H + 4)),
      );
    }
  });

  it('loads an F32 export with the logits of the original', async () => {
    const { model } = await loadGGUF(join(out, 'f32.gguf'));
    expect({ ...model.config, rmsNormEps: 0 }).toEqual({ ...f32.config, rmsNormEps: 0 });
    expect(model.config.rmsNormEps).toBe(Math.fround(f32.config.rmsNormEps));
    const l0 = model.heldWeights.layers[0];
    expect(bytesOf(l0.k)).toEqual(bytesOf(f32.heldWeights.layers[0].k));
    expect(relErr(await logits(model), want)).toBeLessThan(1e-5);
    model.dispose();
  });

  it.each(['f16', 'q8_0', 'q4_0'] as const)(
    'keeps %s as stored: the bytes of quantize({ format })',
    async (type) => {
      const path = join(out, `${type}.gguf`);
      await saveGGUF(f32, path, { type });
      const { model } = await loadGGUF(path);
      const ref = (await loadCausalLM(dir)).quantize({ format: type });
      const a = model.heldWeights;
      const b = ref.heldWeights;
      for (let i = 0; i < a.layers.length; i++)
        for (const k of ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] as const) {
          expect((a.layers[i][k] as QuantizedWeight).format, `${i}.${k}`).toBe(type);
          expect(bytesOf(a.layers[i][k]), `${i}.${k}`).toEqual(bytesOf(b.layers[i][k]));
        }
      expect(bytesOf(a.lmHead)).toEqual(bytesOf(b.lmHead));
      expect(relErr(await logits(model), await logits(ref))).toBeLessThan(1e-5);
      model.dispose();
      ref.dispose();
    },
  );

  it('keeps Q4_K and Q6_K tensors as stored (q rows un-permuted)', async () => {
    const c = f32.config;
    const { metadata, tensors } = llamaToGGUF(c, f32.heldWeights);
    // Random blocks with a small finite f16 super-block scale (0x1419 = 0.00101...).
    const blocks = (n: number, k: number, per: number, dAt: number[], seed: number) => {
      const data = new Uint8Array((n * k * per) / 256);
      let x = seed;
      for (let i = 0; i < data.length; i++) {
        x = (x * 1103515245 + 12345) >>> 0;
        data[i] = x >>> 24;
      }
      for (let b = 0; b < data.length; b += per)
        for (const d of dAt) {
          data[b + d] = 0x19;
          data[b + d + 1] = 0x14;
        }
      return data;
    };
    const H = c.hiddenSize;
    const qRows = c.numHeads * c.headDim;
    const q4k = blocks(qRows, H, 144, [0, 2], 3);
    const q6k = blocks(c.intermediateSize, H, 210, [208], 5);
    const edited = tensors.map((t) =>
      t.name === 'blk.0.attn_q.weight'
        ? { ...t, type: 'Q4_K' as const, data: q4k }
        : t.name === 'blk.1.ffn_up.weight'
          ? { ...t, type: 'Q6_K' as const, data: q6k }
          : t,
    );
    const path = join(out, 'k-quants.gguf');
    writeFileSync(path, writeGGUF(metadata, edited));
    const { model } = await loadGGUF(path);
    const q = model.heldWeights.layers[0].q as QuantizedWeight;
    const up = model.heldWeights.layers[1].up as QuantizedWeight;
    expect([q.format, up.format]).toEqual(['q4_k', 'q6_k']);
    expect(up.data).toEqual(q6k);
    // Row r of the loaded q is GGUF row (h, 2i + j) for r = h·D + j·D/2 + i: 144 bytes per row here.
    const D = c.headDim;
    for (const [h, i, j] of [
      [0, 1, 1],
      [5, 7, 0],
    ]) {
      const r = h * D + j * (D / 2) + i;
      const g = h * D + 2 * i + j;
      expect(q.data.subarray(r * 144, (r + 1) * 144)).toEqual(q4k.subarray(g * 144, (g + 1) * 144));
    }
    const l = await logits(model);
    expect(l.every(Number.isFinite)).toBe(true);
    model.dispose();
  });

  it('builds a byte-level BPE tokenizer from "gpt2" vocabularies', async () => {
    const small = await loadCausalLM(fixtureDir('families/llama-gqa2'));
    const { metadata, tensors } = llamaToGGUF(small.config, small.heldWeights);
    small.dispose();
    const byteChar = gpt2ByteChars();
    // GPT-2's table: printable bytes are themselves, the 68 others 256 + n in byte order.
    expect([byteChar[65], byteChar[0], byteChar[10], byteChar[255]]).toEqual([
      'A',
      '\u0100',
      '\u010a',
      '\u00ff',
    ]);
    const tokens = [...byteChar, 'he', 'll', 'hell', '<|endoftext|>'];
    const types = [...Array(259).fill(1), 3];
    const path = join(out, 'bpe.gguf');
    writeFileSync(
      path,
      writeGGUF(
        {
          ...metadata,
          'tokenizer.ggml.model': { type: 'string', value: 'gpt2' },
          'tokenizer.ggml.tokens': { type: 'array', itemType: 'string', value: tokens },
          'tokenizer.ggml.token_type': { type: 'array', itemType: 'i32', value: types },
          'tokenizer.ggml.merges': { type: 'array', itemType: 'string', value: ['h e', 'l l', 'he ll'] },
        },
        tensors,
      ),
    );
    const { model, tokenizer, vocab } = await loadGGUF(path);
    expect(vocab?.merges).toEqual(['h e', 'l l', 'he ll']);
    const id = (t: string) => tokens.indexOf(t);
    // " " is byte 32 -> U+0120 'Ġ'.
    expect(byteChar[32]).toBe('\u0120');
    expect(tokenizer?.encode('hello world')).toEqual([
      id('hell'),
      id('o'),
      id('\u0120'),
      id('w'),
      id('o'),
      id('r'),
      id('l'),
      id('d'),
    ]);
    expect(tokenizer?.decode([id('hell'), id('o'), id('\u0120'), id('w')])).toBe('hello w');
    model.dispose();
  });

  it("stores the fixtures' byte tokenizer so loadGGUF encodes as ByteTokenizer does", async () => {
    const path = join(out, 'bytes.gguf');
    await saveGGUF(f32, path, { vocab: byteTokenizerVocab(['<bos>', '<eos>', '<pad>', '<mask>']) });
    const { model, tokenizer } = await loadGGUF(path);
    const text = 'def f(x):\n\treturn x + 1  # é\n';
    const bytes = Array.from(new TextEncoder().encode(text));
    expect(tokenizer?.encode(text)).toEqual(bytes);
    expect(tokenizer?.decode(bytes)).toBe(text);
    expect(tokenizer?.encode('<eos>')).toEqual([257]);
    model.dispose();
    expect(() => llamaToGGUF(f32.config, f32.heldWeights, { vocab: byteTokenizerVocab([]) })).toThrow(
      /vocab has 256 tokens, the model 260/,
    );
  });

  it('permutes rows and back, and rejects what it cannot map', async () => {
    const rows = 8;
    const bytes = Uint8Array.from({ length: rows * 3 }, (_, i) => i);
    const there = permuteRows(bytes, rows, 2, 'to-gguf');
    // head 0 of 4 rows: GGUF order is HF rows 0, 2, 1, 3.
    expect(Array.from(there.subarray(0, 12))).toEqual([0, 1, 2, 6, 7, 8, 3, 4, 5, 9, 10, 11]);
    expect(permuteRows(there, rows, 2, 'to-hf')).toEqual(bytes);
    const qwen = await loadCausalLM(fixtureDir('families/qwen2-tied'));
    expect(() => llamaToGGUF(qwen.config, qwen.heldWeights)).toThrow(/model_type 'qwen2'.*supported: llama/);
    qwen.dispose();
    expect(() => llamaToGGUF(f32.config, f32.heldWeights, { type: 'q2_k' } as never)).toThrow(/type/);
    // A GGUF of another architecture, and a missing tensor, are named.
    const bad = join(out, 'bad.gguf');
    writeFileSync(bad, writeGGUF({ 'general.architecture': { type: 'string', value: 'gpt2' } }, []));
    await expect(loadGGUF(bad)).rejects.toThrow(/architecture 'gpt2'.*supported: llama/);
    const { metadata, tensors } = llamaToGGUF(f32.config, f32.heldWeights);
    writeFileSync(
      bad,
      writeGGUF(
        metadata,
        tensors.filter((t) => t.name !== 'blk.1.ffn_up.weight'),
      ),
    );
    await expect(loadGGUF(bad)).rejects.toThrow(/missing tensor blk\.1\.ffn_up\.weight/);
    await expect(loadGGUF(join(out, 'nope.gguf'))).rejects.toThrow(/not found/);
  });
});
