/**
 * @file `npm run export:gguf -w @hasten/models -- <model dir> <out.gguf> [--type f32|f16|q8_0|q4_0]`:
 * a Hugging Face llama folder (e.g. fixtures/code-target) exported to GGUF with saveGGUF. A fixture's
 * byte tokenizer is stored as a "gpt2" vocabulary (byteTokenizerVocab); other tokenizers are not
 * written (llama.cpp needs tokenizer metadata to run the file; loadGGUF does not).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCausalLM } from '../load';
import { byteTokenizerVocab } from './gguf-llama';
import { saveGGUF } from './save-gguf';

/** The fixtures' byte tokenizer (tokenizer_config.json class ByteLevelHasten) as a GGUF vocabulary. */
function fixtureVocab(dir: string) {
  const path = join(dir, 'tokenizer_config.json');
  if (!existsSync(path)) return undefined;
  const cfg = JSON.parse(readFileSync(path, 'utf8')) as {
    tokenizer_class?: string;
    special_tokens?: Record<string, number>;
  };
  if (cfg.tokenizer_class !== 'ByteLevelHasten' || !cfg.special_tokens) return undefined;
  const specials = Object.entries(cfg.special_tokens).sort((a, b) => a[1] - b[1]);
  return byteTokenizerVocab(specials.map(([t]) => t));
}

const USAGE = 'usage: export-gguf <model dir> <out.gguf> [--type f32|f16|q8_0|q4_0]';

async function main(argv: string[]): Promise<void> {
  const args = [...argv];
  let type = 'f32';
  const at = args.indexOf('--type');
  if (at >= 0) {
    type = args[at + 1] ?? '';
    args.splice(at, 2);
  }
  if (args.length !== 2) throw new Error(USAGE);
  const [dir, out] = args;
  const model = await loadCausalLM(dir);
  try {
    const vocab = fixtureVocab(dir);
    await saveGGUF(model, out, { type: type as 'f32', ...(vocab ? { vocab } : {}) });
    console.log(`wrote ${out} (${type})`);
  } finally {
    model.dispose();
  }
}

main(process.argv.slice(2)).catch((e) => {
  console.error((e as Error).message);
  process.exit(1);
});
