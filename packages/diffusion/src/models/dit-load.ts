/**
 * @file Node-only loading of a DiT fixture folder (config.json + model.safetensors, as written by
 * tools/fixtures/glyph_dit.py); reached through `@hasten/diffusion/node`. The model itself is built
 * from bytes by the isomorphic `DiT.fromSafetensors`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DiT } from './dit';

function readFile(path: string, what: string): Buffer {
  if (!existsSync(path)) throw new Error(`loadDiT: ${path}: not found (${what})`);
  return readFileSync(path);
}

/** Loads e.g. `fixtures/glyph-dit`; the config is checked before any weight is read. */
export async function loadDiT(dir: string): Promise<DiT> {
  if (!existsSync(dir)) throw new Error(`loadDiT: ${dir}: folder not found (model folder)`);
  const cfgPath = join(dir, 'config.json');
  let config: unknown;
  try {
    config = JSON.parse(readFile(cfgPath, 'model configuration').toString('utf8'));
  } catch (e) {
    if (e instanceof SyntaxError) throw new Error(`loadDiT: ${cfgPath}: is not valid JSON: ${e.message}`);
    throw e;
  }
  DiT.parseConfig(config);
  const bytes = readFile(join(dir, 'model.safetensors'), 'weights');
  return DiT.fromSafetensors(config, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}
