/**
 * @file loadGGUF (Node): a llama-architecture GGUF file as a native LlamaModel. The header, the
 * metadata and the tensor infos are parsed by @huggingface/gguf (the maintained parser; GGUF spec:
 * ggml-org/ggml docs/gguf.md); tensor bytes are read with positional reads at
 * `tensorDataOffset + offset`, one tensor at a time. The mapping (names, metadata, llama.cpp's q/k
 * row permutation undone, quantized types kept as stored) is gguf-llama.ts.
 *
 * Tokenizer: for `tokenizer.ggml.model` "gpt2" (byte-level BPE) the vocabulary and merges are
 * turned into a Hugging Face tokenizer.json (BPE model, ByteLevel pre-tokenizer and decoder) and
 * loaded through the project's @huggingface/tokenizers dependency. The GPT-2 pre-tokenizer regex is
 * used: models with another `tokenizer.ggml.pre` (llama-bpe, qwen2, ...) split text differently,
 * so their encodings may differ; `vocab` exposes the raw lists either way.
 */
import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { gguf } from '@huggingface/gguf';
import { z } from 'zod';
import { ModelError } from '../errors';
import { LlamaModel } from '../llama/model';
import { defaultDevice, deviceOption, parseOptions } from '../options';
import { type Tokenizer, tokenizerFromFiles } from '../tokenizers/tokenizer';
import { configFromGGUF, type GGUFTensorInfoLike, weightsFromGGUF } from './gguf-llama';

const Options = z.strictObject({
  /** core-tensor backend of the model (default: core-tensor's default backend). */
  device: deviceOption.optional(),
});
export type LoadGGUFOptions = z.input<typeof Options>;

export interface GGUFVocab {
  /** `tokenizer.ggml.model` ("gpt2", "llama", ...). */
  model: string;
  tokens: string[];
  merges?: string[];
  tokenTypes?: number[];
}

export interface LoadedGGUF {
  model: LlamaModel;
  /** The file's metadata as @huggingface/gguf parsed it. */
  metadata: Record<string, unknown>;
  /** The tokenizer lists from the metadata, when present. */
  vocab?: GGUFVocab;
  /** A tokenizer, for byte-level BPE ("gpt2") vocabularies. */
  tokenizer?: Tokenizer;
}

/** A Hugging Face tokenizer.json object for a GGUF "gpt2" (byte-level BPE) vocabulary. */
export function byteLevelBpeTokenizerJson(v: GGUFVocab): Record<string, unknown> {
  const CONTROL = 3; // llama.cpp token types: NORMAL 1, UNKNOWN 2, CONTROL 3, USER_DEFINED 4, UNUSED 5, BYTE 6
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: v.tokens.flatMap((content, id) =>
      v.tokenTypes?.[id] === CONTROL
        ? [
            {
              id,
              content,
              single_word: false,
              lstrip: false,
              rstrip: false,
              normalized: false,
              special: true,
            },
          ]
        : [],
    ),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(v.tokens.map((t, i) => [t, i])),
      merges: v.merges ?? [],
    },
  };
}

function vocabOf(meta: Record<string, unknown>): GGUFVocab | undefined {
  const model = meta['tokenizer.ggml.model'];
  const tokens = meta['tokenizer.ggml.tokens'];
  if (typeof model !== 'string' || !Array.isArray(tokens)) return undefined;
  const merges = meta['tokenizer.ggml.merges'];
  const types = meta['tokenizer.ggml.token_type'];
  return {
    model,
    tokens: tokens as string[],
    ...(Array.isArray(merges) ? { merges: merges as string[] } : {}),
    ...(Array.isArray(types) ? { tokenTypes: (types as unknown[]).map(Number) } : {}),
  };
}

/** Load a llama-architecture GGUF file (F32/F16/BF16/Q8_0/Q4_0/Q4_K/Q6_K tensors). */
export async function loadGGUF(path: string, opts: LoadGGUFOptions = {}): Promise<LoadedGGUF> {
  const o = parseOptions(Options, opts, 'loadGGUF');
  if (!existsSync(path)) throw new ModelError('file', `${path}: not found (GGUF file)`);
  const device = o.device ?? defaultDevice();
  let parsed: Awaited<ReturnType<typeof gguf>>;
  try {
    parsed = await gguf(path, { allowLocalFile: true });
  } catch (e) {
    throw new ModelError('file', `${path}: not a readable GGUF file: ${(e as Error).message}`);
  }
  if (!parsed.littleEndian) throw new ModelError('file', `${path}: big-endian GGUF files are not supported`);
  const metadata = parsed.metadata as unknown as Record<string, unknown>;
  const infos: GGUFTensorInfoLike[] = parsed.tensorInfos;
  const config = configFromGGUF(metadata, infos, path);
  const base = parsed.tensorDataOffset;
  const handle = await open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    const read = async (info: GGUFTensorInfoLike, bytes: number): Promise<Uint8Array> => {
      const at = Number(base) + Number(info.offset ?? 0);
      if (at + bytes > size)
        throw new ModelError(
          'file',
          `${path}: tensor ${info.name} (${bytes} bytes at ${at}) runs past the end of the file (${size} bytes)`,
        );
      const out = new Uint8Array(bytes);
      let done = 0;
      while (done < bytes) {
        const { bytesRead } = await handle.read(out, done, bytes - done, at + done);
        if (bytesRead === 0)
          throw new ModelError('file', `${path}: unexpected end of file in tensor ${info.name}`);
        done += bytesRead;
      }
      return out;
    };
    const weights = await weightsFromGGUF(config, infos, read, device, path);
    const vocab = vocabOf(metadata);
    const tokenizer =
      vocab?.model === 'gpt2'
        ? tokenizerFromFiles({ tokenizerJson: byteLevelBpeTokenizerJson(vocab) })
        : undefined;
    return {
      model: new LlamaModel(config, weights, device),
      metadata,
      ...(vocab ? { vocab } : {}),
      ...(tokenizer ? { tokenizer } : {}),
    };
  } finally {
    await handle.close();
  }
}
