import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTokenizer } from '../load';
import { fixtureDir } from '../testing';
import { ByteTokenizer } from './byte';
import { HFTokenizer } from './hf';
import { tokenizerFromFiles } from './tokenizer';

/** A tiny byte-level BPE tokenizer.json (GPT-2 style) with a few merges that build "hello". */
function tinyBpe() {
  const chars = ['h', 'e', 'l', 'o', 'Ġ', 'w', 'r', 'd', 'he', 'll', 'hell', 'hello'];
  const vocab: Record<string, number> = { '<s>': 0, '</s>': 1 };
  for (const c of chars) vocab[c] = Object.keys(vocab).length;
  const special = (id: number, content: string) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(0, '<s>'), special(1, '</s>')],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '<s>', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
      ],
      special_tokens: { '<s>': { id: '<s>', ids: [0], tokens: ['<s>'] } },
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
      merges: ['h e', 'l l', 'he ll', 'hell o'],
    },
  };
}

describe('ByteTokenizer', () => {
  it('reads the fixture tokenizer_config.json: BOS + UTF-8 bytes, specials skipped on decode', () => {
    const tok = loadTokenizer(fixtureDir('families/llama-mha'));
    expect(tok).toBeInstanceOf(ByteTokenizer);
    expect([tok.vocabSize, tok.bosTokenId, tok.eosTokenId, tok.padTokenId]).toEqual([260, 256, 257, 258]);
    const text = 'def f(x):\n    return "é→🙂"';
    const ids = tok.encode(text);
    expect(ids[0]).toBe(256);
    expect(ids.slice(1)).toEqual([...new TextEncoder().encode(text)]);
    expect(tok.encode('ab', { addSpecialTokens: false })).toEqual([97, 98]);
    expect(tok.decode([...ids, 257])).toBe(text);
    expect(tok.decode([256, 104, 105, 257], { skipSpecialTokens: false })).toBe('<bos>hi<eos>');
    expect(() => tok.decode([300])).toThrow(/id 300 is not a byte or a special token/);
  });

  it('rejects a bad config', () => {
    expect(() =>
      ByteTokenizer.fromConfig({ tokenizer_class: 'ByteLevelHasten', vocab_size: 100, special_tokens: {} }),
    ).toThrow(/exceeds vocab_size 100/);
    expect(() =>
      ByteTokenizer.fromConfig({ tokenizer_class: 'ByteLevelHasten', special_tokens: {} }),
    ).toThrow(/vocab_size/);
  });
});

describe('HFTokenizer (tokenizer.json through @huggingface/tokenizers)', () => {
  it('encodes and decodes a byte-level BPE with special tokens', () => {
    const tok = new HFTokenizer(tinyBpe(), { bos_token: '<s>', eos_token: { content: '</s>' } });
    expect(tok.vocabSize).toBe(14);
    expect([tok.bosTokenId, tok.eosTokenId, tok.padTokenId]).toEqual([0, 1, undefined]);
    const ids = tok.encode('hello world');
    // <s>, "hello" (merged), then Ġ w o r l d unmerged
    expect(ids).toEqual([0, 13, 6, 7, 5, 8, 4, 9]);
    expect(tok.encode('hello', { addSpecialTokens: false })).toEqual([13]);
    expect(tok.decode(ids)).toBe('hello world');
    expect(tok.decode(ids, { skipSpecialTokens: false })).toBe('<s>hello world');
  });

  it('loadTokenizer prefers tokenizer.json; clear errors without tokenizer files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hasten-tok-'));
    expect(() => loadTokenizer(dir)).toThrow(/no tokenizer files/);
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'LlamaTokenizer' }));
    expect(() => loadTokenizer(dir)).toThrow(/need tokenizer.json/);
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tinyBpe()));
    expect(loadTokenizer(dir)).toBeInstanceOf(HFTokenizer);
    writeFileSync(join(dir, 'tokenizer.json'), '{"model": ');
    expect(() => loadTokenizer(dir)).toThrow(/tokenizer.json: is not valid JSON/);
    expect(() => tokenizerFromFiles({ tokenizerJson: { nope: 1 } })).toThrow(/with a "model" field/);
  });
});

describe('tokenizer options are strict: an unknown key or a bad value names the field and what is allowed', () => {
  it('tokenizerFromFiles', () => {
    const tokenizerConfig = { tokenizer_class: 'ByteLevelHasten', vocab_size: 260, special_tokens: {} };
    expect(() => tokenizerFromFiles({ tokenizerConfig, tokenizerJSON: tinyBpe() } as never)).toThrow(
      'tokenizerFromFiles: options is invalid: Unrecognized key: "tokenizerJSON"; allowed: tokenizerJson, tokenizerConfig',
    );
  });

  const byte = () => loadTokenizer(fixtureDir('families/llama-mha'));
  const hf = () => new HFTokenizer(tinyBpe(), { bos_token: '<s>' });
  it.each([
    ['ByteTokenizer', byte],
    ['HFTokenizer', hf],
  ] as const)('%s encode and decode', (name, make) => {
    const tok = make();
    expect(() => tok.encode('hi', { addSpecialToken: false } as never)).toThrow(
      `${name}.encode: options is invalid: Unrecognized key: "addSpecialToken"; allowed: addSpecialTokens`,
    );
    expect(() => tok.encode('hi', { addSpecialTokens: 0 } as never)).toThrow(
      `${name}.encode: option 'addSpecialTokens' is invalid: Invalid input: expected boolean, received number`,
    );
    expect(() => tok.decode([104], { skipSpecial: true } as never)).toThrow(
      `${name}.decode: options is invalid: Unrecognized key: "skipSpecial"; allowed: skipSpecialTokens`,
    );
    expect(() => tok.decode([104], { skipSpecialTokens: 'yes' } as never)).toThrow(
      `${name}.decode: option 'skipSpecialTokens' is invalid: Invalid input: expected boolean, received string`,
    );
  });
});
