/**
 * @file Node-only loading of a UNet fixture folder (config.json + model.safetensors, as written by
 * tools/fixtures/glyph_unet.py); reached through `@hasten/diffusion/node`. The model itself is built
 * from bytes by the isomorphic `UNet.fromSafetensors`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UNet } from './unet';

function readFile(path: string, what: string): Buffer {
  if (!existsSync(path)) throw new Error(`loadUNet: ${path}: not found (${what})`);
  return readFileSync(path);
}

/** Loads e.g. `fixtures/glyph-unet`; the config is checked before any weight is read. */
export async function loadUNet(dir: string): Promise<UNet> {
  if (!existsSync(dir)) throw new Error(`loadUNet: ${dir}: folder not found (model folder)`);
  const cfgPath = join(dir, 'config.json');
  let config: unknown;
  try {
    config = JSON.parse(readFile(cfgPath, 'model configuration').toString('utf8'));
  } catch (e) {
    if (e instanceof SyntaxError) throw new Error(`loadUNet: ${cfgPath}: is not valid JSON: ${e.message}`);
    throw e;
  }
  UNet.parseConfig(config);
  const bytes = readFile(join(dir, 'model.safetensors'), 'weights');
  return UNet.fromSafetensors(config, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}
