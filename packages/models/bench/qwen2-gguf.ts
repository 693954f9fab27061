/**
 * @file A qwen2-architecture GGUF export for the peer benches, on top of the llama mapping
 * (src/quant/gguf-llama.ts), until saveGGUF learns the architecture. What differs from llama, in
 * llama.cpp's terms (gguf-py/gguf/constants.py MODEL_ARCH.QWEN2 tensors; src/llama-model.cpp):
 * - metadata keys are `qwen2.*` instead of `llama.*`, `general.architecture` is "qwen2";
 * - q, k and v have biases (`blk.N.attn_q.bias`, ..., F32);
 * - llama.cpp rotates qwen2 with NEOX RoPE (rotate-half, the Hugging Face order), so the q/k rows
 *   keep the HF order: llama's adjacent-pair permutation is undone here;
 * - the tied LM head is `token_embd` unless `output` is present.
 * The 0.5B-shaped random checkpoint has no tokenizer: `fillerVocab` gives llama.cpp the 256 GPT-2
 * byte characters (its BPE loader looks up the newline) and unique placeholders for the rest; the
 * benches feed token ids, never text.
 */
import { writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { readF32, type Tensor } from '@hasten/core-tensor';
import type { LlamaModel } from '@hasten/models';
import { type GGUFExportOptions, gpt2ByteChars, llamaToGGUF, permuteRows } from '../src/quant/gguf-llama';
import { type GGUFTensorInput, type GGUFValue, writeGGUF } from '../src/quant/write-gguf';

/** GGUF metadata and tensors of a qwen2 model's weights. */
export function qwen2ToGGUF(model: LlamaModel, opts: GGUFExportOptions = {}) {
  const c = model.config;
  const w = model.heldWeights;
  if (c.modelType !== 'qwen2') throw new Error(`qwen2ToGGUF: model_type is '${c.modelType}', expected qwen2`);
  if (c.oBias || c.mlpBias) throw new Error('qwen2ToGGUF: only q/k/v biases are supported');
  if (c.contextLength < c.maxPositionEmbeddings)
    throw new Error('qwen2ToGGUF: sliding-window attention is not exported');
  const llama = llamaToGGUF({ ...c, modelType: 'llama', qkvBias: false }, w, opts);
  const metadata: Record<string, GGUFValue> = {};
  for (const [key, value] of Object.entries(llama.metadata))
    metadata[key.startsWith('llama.') ? `qwen2.${key.slice(6)}` : key] = value;
  metadata['general.architecture'] = { type: 'string', value: 'qwen2' };
  const tensors: GGUFTensorInput[] = [];
  const bias = (name: string, t: Tensor | undefined) => {
    if (!t) return;
    const a = Float32Array.from(readF32(t));
    tensors.push({ name, shape: [a.length], type: 'F32', data: new Uint8Array(a.buffer) });
  };
  for (const t of llama.tensors) {
    const m = /^blk\.(\d+)\.attn_([qkv])\.weight$/.exec(t.name);
    if (!m) {
      tensors.push(t);
      continue;
    }
    const l = w.layers[Number(m[1])];
    const heads = m[2] === 'q' ? c.numHeads : c.numKvHeads;
    tensors.push(m[2] === 'v' ? t : { ...t, data: permuteRows(t.data, t.shape[0], heads, 'to-hf') });
    bias(`blk.${m[1]}.attn_${m[2]}.bias`, m[2] === 'q' ? l.qBias : m[2] === 'k' ? l.kBias : l.vBias);
  }
  return { metadata, tensors };
}

/** Writes `model` (qwen2) to `path` as GGUF, weights as held (f32 or quantized to a GGUF type). */
export async function saveQwen2GGUF(model: LlamaModel, path: string, opts: GGUFExportOptions = {}) {
  const { metadata, tensors } = qwen2ToGGUF(model, opts);
  await mkdir(dirname(path), { recursive: true });
  writeFileSync(path, writeGGUF(metadata, tensors));
}

/** A "gpt2" vocabulary of `size` tokens: the 256 byte characters, then unique placeholders. */
export function fillerVocab(size: number): NonNullable<GGUFExportOptions['vocab']> {
  const bytes = gpt2ByteChars();
  const tokens = Array.from({ length: size }, (_, i) => (i < 256 ? bytes[i] : `<|filler_${i}|>`));
  return { model: 'gpt2', tokens, tokenTypes: tokens.map(() => 1), merges: [] };
}
