import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTokenizer } from '../load';
import { HFTokenizer } from './hf';

// Llama 3 (128,256 tokens) and Qwen2 (151,646) have vocabularies larger than V8 accepts as spread
// arguments (`Math.max(...ids)` overflows the stack from roughly 120k), so a tokenizer that works on
// the small test vocabularies can still fail on every real checkpoint. This builds one of that size.
const SIZE = 150_000;

/** GPT-2's byte-to-unicode table: the 256 single-character tokens of every byte-level BPE. */
function byteLevelAlphabet(): string[] {
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
  const out: string[] = [];
  let shifted = 0;
  for (let b = 0; b < 256; b++) out.push(String.fromCodePoint(printable(b) ? b : 256 + shifted++));
  return out;
}

/**
 * A byte-level BPE tokenizer.json of SIZE entries, laid out like Llama 3's: the byte alphabet, filler
 * tokens no merge produces, the merged tokens ("hello", "Ġworld") last of the regular vocabulary, then
 * the special tokens at the very top of the id range.
 */
function largeByteLevelBpe() {
  const merges = ['h e', 'l l', 'he ll', 'hell o', 'Ġ w', 'o r', 'Ġw or', 'l d', 'Ġwor ld'];
  const merged = merges.map((m) => m.replace(' ', ''));
  const specials = ['<|begin_of_text|>', '<|end_of_text|>'];
  const vocab: Record<string, number> = {};
  let next = 0;
  for (const c of byteLevelAlphabet()) vocab[c] = next++;
  const fillerEnd = SIZE - merged.length - specials.length;
  while (next < fillerEnd) vocab[`filler${next}`] = next++;
  for (const t of merged) vocab[t] = next++;
  const added = specials.map((content) => {
    vocab[content] = next;
    return {
      id: next++,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    };
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: specials[0], type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: specials[0], type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
      ],
      special_tokens: { [specials[0]!]: { id: specials[0], ids: [SIZE - 2], tokens: [specials[0]] } },
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}

describe('HFTokenizer with a real-size vocabulary (150k tokens, like Llama 3 / Qwen2)', () => {
  it('loads tokenizer.json from a folder, encodes and decodes with ids at the top of the range', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hasten-tok-large-'));
    try {
      const json = largeByteLevelBpe();
      writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
      writeFileSync(
        join(dir, 'tokenizer_config.json'),
        JSON.stringify({ bos_token: '<|begin_of_text|>', eos_token: '<|end_of_text|>' }),
      );
      const tok = loadTokenizer(dir);
      expect(tok).toBeInstanceOf(HFTokenizer);
      expect(tok.vocabSize).toBe(SIZE);
      expect([tok.bosTokenId, tok.eosTokenId]).toEqual([SIZE - 2, SIZE - 1]);
      const { hello, Ġworld: world } = json.model.vocab;
      expect(Math.min(hello!, world!)).toBeGreaterThan(SIZE - 12);
      const ids = tok.encode('hello world');
      expect(ids).toEqual([SIZE - 2, hello, world]);
      expect(tok.decode([...ids, SIZE - 1])).toBe('hello world');
      expect(tok.decode(ids, { skipSpecialTokens: false })).toBe('<|begin_of_text|>hello world');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
