/**
 * @file Node-only loading of a masked diffusion LM (LLaDA-style) from a Hugging Face folder: the
 * Llama-family weights through `loadCausalLM`, and the mask token and attention from config.json
 * (`mask_token_id`, `diffusion_attention`). Reached through `@hasten/models/node`.
 */
import { join } from 'node:path';
import { readJsonFile, requireDir } from './files';
import { type LoadOptions, loadCausalLM } from './load';
import { maskedDiffusionOptionsFromConfig, NativeMaskedDiffusionLM } from './masked-diffusion-lm';

/** Loads e.g. `fixtures/code-mdlm`; a config without `mask_token_id` is rejected before any weight is read. */
export async function loadMaskedDiffusionLM(
  dir: string,
  opts: LoadOptions = {},
): Promise<NativeMaskedDiffusionLM> {
  requireDir(dir, 'model folder');
  const md = maskedDiffusionOptionsFromConfig(readJsonFile(join(dir, 'config.json'), 'model configuration'));
  return new NativeMaskedDiffusionLM(await loadCausalLM(dir, opts), md);
}
