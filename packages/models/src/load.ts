/**
 * @file Node-only loading from a Hugging Face model folder: config.json plus model.safetensors or
 * a sharded checkpoint (model.safetensors.index.json + shards), and the tokenizer files.
 * Reached through `@hasten/models/node`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SafetensorsReader } from '@hasten/core-tensor';
import { openShardedSafetensors } from '@hasten/core-tensor/node';
import { z } from 'zod';
import { parseConfig } from './config';
import { ModelError } from './errors';
import { readJsonFile, requireDir } from './files';
import { LlamaModel } from './llama/model';
import { QuantizeOptions } from './llama/quantize';
import { defaultDevice, deviceOption, parseOptions } from './options';
import { isQuantizedCheckpoint, readQuantizedWeights } from './quant/quantized-safetensors';
import { type Tokenizer, tokenizerFromFiles } from './tokenizers/tokenizer';

const LoadOptions = z.strictObject({
  /** core-tensor backend for the native model (default: core-tensor's default backend, initially 'cpu'). */
  device: deviceOption.optional(),
  /** Reject a weight holding NaN or ±Inf (default true; one pass over each widened tensor). */
  checkFinite: z.boolean().optional(),
  /** Quantize the linear layers' weights after loading (LlamaModel.quantize; host-memory backends only). */
  quantize: QuantizeOptions.optional(),
});
export type LoadOptions = z.input<typeof LoadOptions>;

/** The folder's weights: model.safetensors, or the shards named by model.safetensors.index.json. */
export async function openWeights(dir: string): Promise<SafetensorsReader> {
  requireDir(dir, 'model folder');
  const single = join(dir, 'model.safetensors');
  const index = join(dir, 'model.safetensors.index.json');
  if (existsSync(single)) return open(dir);
  if (existsSync(index)) {
    const idx = readJsonFile(index, 'sharded checkpoint index') as { weight_map?: Record<string, string> };
    if (!idx.weight_map || typeof idx.weight_map !== 'object') {
      throw new ModelError('file', `${index}: has no "weight_map" object`);
    }
    const shards = [...new Set(Object.values(idx.weight_map))].map((f) => join(dir, f));
    const missing = shards.filter((s) => !existsSync(s));
    if (missing.length) throw new ModelError('file', `${index}: shard(s) not found: ${missing.join(', ')}`);
    return open(dir);
  }
  throw new ModelError(
    'file',
    `${dir}: no weights found (need model.safetensors or model.safetensors.index.json)`,
  );
}

/** openShardedSafetensors with its errors as ModelError('file'). */
async function open(dir: string): Promise<SafetensorsReader> {
  try {
    return await openShardedSafetensors(dir);
  } catch (e) {
    throw new ModelError('file', (e as Error).message);
  }
}

/** Load a Llama-family checkpoint (llama, mistral, qwen2) from a Hugging Face folder. */
export async function loadCausalLM(dir: string, opts: LoadOptions = {}): Promise<LlamaModel> {
  const o = parseOptions(LoadOptions, opts, 'loadCausalLM');
  requireDir(dir, 'model folder');
  const config = parseConfig(readJsonFile(join(dir, 'config.json'), 'model configuration'));
  const weights = await openWeights(dir);
  try {
    const { quantize, ...rest } = o;
    if (isQuantizedCheckpoint(weights)) {
      // A checkpoint written by saveQuantized (src/quant/): linears kept as stored.
      if (quantize)
        throw new ModelError('input', `loadCausalLM: ${dir} is already quantized; drop 'quantize'`);
      const device = rest.device ?? defaultDevice();
      return new LlamaModel(config, await readQuantizedWeights(config, weights, device, dir), device);
    }
    const model = await LlamaModel.fromSafetensors(config, weights, { ...rest, source: dir });
    return quantize ? model.quantize(quantize) : model;
  } finally {
    await weights.close();
  }
}

/** tokenizer.json (+ tokenizer_config.json) through @huggingface/tokenizers, or the fixtures' byte tokenizer. */
export function loadTokenizer(dir: string): Tokenizer {
  requireDir(dir, 'tokenizer folder');
  const json = join(dir, 'tokenizer.json');
  const cfg = join(dir, 'tokenizer_config.json');
  const tokenizerConfig = existsSync(cfg) ? readJsonFile(cfg, 'tokenizer configuration') : undefined;
  const tokenizerJson = existsSync(json) ? readJsonFile(json, 'tokenizer') : undefined;
  if (!tokenizerJson && !tokenizerConfig) {
    throw new ModelError('file', `${dir}: no tokenizer files (need tokenizer.json or tokenizer_config.json)`);
  }
  return tokenizerFromFiles({ tokenizerJson, tokenizerConfig });
}
