/**
 * @file `fromSafetensors`: the isomorphic loader (browsers included). Give it config.json (parsed
 * JSON) and a safetensors reader from @hasten/core-tensor; in Node, `loadCausalLM(dir)` from
 * `@hasten/models/node` does the file handling for you.
 */
import type { SafetensorsReader } from '@hasten/core-tensor';
import { parseConfig } from './config';
import { LlamaModel } from './llama/model';
import type { LlamaModelOptions } from './llama/weights';

// async, so that a bad option or config rejects the promise like every other load error.
export async function fromSafetensors(
  configJson: unknown,
  reader: SafetensorsReader,
  opts: LlamaModelOptions = {},
): Promise<LlamaModel> {
  return LlamaModel.fromSafetensors(parseConfig(configJson), reader, opts);
}
