/**
 * @file saveQuantized (Node): writes a LlamaModel (quantized or not) as `model.safetensors` in the
 * layout of quantized-safetensors.ts plus a `config.json` carrying a `quantization_config` block
 * (`quant_method: "hasten"`), which `loadCausalLM(dir)` recognises. Both files are written to a
 * temporary file in the target folder and renamed over the target (safetensors through
 * core-tensor's saveSafetensors), so an error never leaves a half-written file.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { saveSafetensors } from '@hasten/core-tensor/node';
import { z } from 'zod';
import type { LlamaModel } from '../llama/model';
import { isQuantized, type LinearWeight } from '../llama/weights';
import { parseOptions } from '../options';
import { llamaConfigJson } from './llama-config-json';
import { QUANT_LAYOUT_VERSION, quantizedCheckpoint } from './quantized-safetensors';

export const SaveQuantizedOptions = z.strictObject({
  /** Extra config.json fields to keep (e.g. the source checkpoint's); the model's own fields win. */
  extraConfig: z.record(z.string(), z.unknown()).optional(),
});
export type SaveQuantizedOptions = z.input<typeof SaveQuantizedOptions>;

/** Write `bytes` to `path` through a temporary file in the same folder and a rename. */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
    await handle.close();
    await rename(tmp, path);
  } catch (e) {
    await handle.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
}

/** The `quantization_config` block: method, layout version and the formats used (by count). */
function quantizationConfig(model: LlamaModel): Record<string, unknown> {
  const w = model.heldWeights;
  const formats: Record<string, number> = {};
  const linears: LinearWeight[] = [...w.layers.flatMap((l) => [l.q, l.k, l.v, l.o, l.gate, l.up, l.down])];
  if (w.lmHead !== w.embed) linears.push(w.lmHead);
  for (const x of linears) {
    const f = isQuantized(x) ? x.format : 'f32';
    formats[f] = (formats[f] ?? 0) + 1;
  }
  return {
    quant_method: 'hasten',
    layout_version: Number(QUANT_LAYOUT_VERSION),
    formats,
    lm_head: isQuantized(w.lmHead),
  };
}

/** Save `model` into `dir` (created if missing): model.safetensors + config.json. */
export async function saveQuantized(
  model: LlamaModel,
  dir: string,
  opts: SaveQuantizedOptions = {},
): Promise<void> {
  const o = parseOptions(SaveQuantizedOptions, opts, 'saveQuantized');
  const { tensors, metadata, created } = quantizedCheckpoint(model.config, model.heldWeights);
  try {
    const config = {
      ...(o.extraConfig ?? {}),
      ...llamaConfigJson(model.config),
      torch_dtype: 'float32',
      quantization_config: quantizationConfig(model),
    };
    await mkdir(dir, { recursive: true });
    await saveSafetensors(join(dir, 'model.safetensors'), tensors, metadata);
    await writeFileAtomic(
      join(dir, 'config.json'),
      new TextEncoder().encode(`${JSON.stringify(config, null, 2)}\n`),
    );
  } finally {
    for (const t of created) t.dispose();
  }
}
