/**
 * @file saveGGUF (Node): a llama LlamaModel written as a GGUF v3 file (gguf-llama.ts for the
 * mapping, write-gguf.ts for the bytes), atomically (temporary file in the same folder, then rename).
 */

import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { LlamaModel } from '../llama/model';
import { type GGUFExportOptions, llamaToGGUF } from './gguf-llama';
import { writeFileAtomic } from './save-quantized';
import { writeGGUF } from './write-gguf';

export async function saveGGUF(model: LlamaModel, path: string, opts: GGUFExportOptions = {}): Promise<void> {
  const { metadata, tensors } = llamaToGGUF(model.config, model.heldWeights, opts);
  const bytes = writeGGUF(metadata, tensors);
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, bytes);
}
