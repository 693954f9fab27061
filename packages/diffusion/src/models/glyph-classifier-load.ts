/**
 * @file Node-only loading of the glyph classifier fixture folder (config.json + model.safetensors, as
 * written by tools/fixtures/glyph_classifier.py); reached through `@hasten/diffusion/node`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GlyphClassifier } from './glyph-classifier';

function readFile(path: string, what: string): Buffer {
  if (!existsSync(path)) throw new Error(`loadGlyphClassifier: ${path}: not found (${what})`);
  return readFileSync(path);
}

/** Loads e.g. `fixtures/glyph-classifier`; the config is checked before any weight is read. */
export async function loadGlyphClassifier(dir: string): Promise<GlyphClassifier> {
  if (!existsSync(dir)) throw new Error(`loadGlyphClassifier: ${dir}: folder not found (model folder)`);
  const cfgPath = join(dir, 'config.json');
  let config: unknown;
  try {
    config = JSON.parse(readFile(cfgPath, 'model configuration').toString('utf8'));
  } catch (e) {
    if (e instanceof SyntaxError)
      throw new Error(`loadGlyphClassifier: ${cfgPath}: is not valid JSON: ${e.message}`);
    throw e;
  }
  GlyphClassifier.parseConfig(config);
  const bytes = readFile(join(dir, 'model.safetensors'), 'weights');
  return GlyphClassifier.fromSafetensors(
    config,
    new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
  );
}
