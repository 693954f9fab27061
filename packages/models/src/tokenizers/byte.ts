/**
 * @file ByteTokenizer: the fixtures' byte-level tokenizer. Ids `byte_offset + b` are the raw UTF-8
 * bytes b = 0..255, followed by named special tokens (<bos>, <eos>, <pad>, <mask>), as written to
 * tokenizer_config.json by tools/fixtures/export.py.
 */
import { z } from 'zod';
import { ModelError } from '../errors';
import { type DecodeOptions, type EncodeOptions, parseDecodeOptions, parseEncodeOptions } from './options';
import type { Tokenizer } from './tokenizer';

const ByteConfig = z.looseObject({
  tokenizer_class: z.literal('ByteLevelHasten'),
  byte_offset: z.number().int().nonnegative().default(0),
  vocab_size: z.number().int().positive(),
  special_tokens: z.record(z.string(), z.number().int().nonnegative()),
  bos_token: z.string().optional(),
  eos_token: z.string().optional(),
  pad_token: z.string().optional(),
});

export class ByteTokenizer implements Tokenizer {
  static readonly CLASS = 'ByteLevelHasten';
  readonly vocabSize: number;
  readonly byteOffset: number;
  readonly bosTokenId?: number;
  readonly eosTokenId?: number;
  readonly padTokenId?: number;
  /** Special token id -> name. */
  readonly specials: ReadonlyMap<number, string>;
  private readonly utf8 = new TextEncoder();

  constructor(opts: {
    vocabSize: number;
    byteOffset?: number;
    specialTokens: Record<string, number>;
    bos?: string;
    eos?: string;
    pad?: string;
  }) {
    this.vocabSize = opts.vocabSize;
    this.byteOffset = opts.byteOffset ?? 0;
    if (this.byteOffset + 256 > this.vocabSize) {
      throw new ModelError(
        'config',
        `tokenizer_config.json: byte_offset ${this.byteOffset} + 256 bytes exceeds vocab_size ${this.vocabSize}`,
      );
    }
    this.specials = new Map(Object.entries(opts.specialTokens).map(([name, id]) => [id, name]));
    const id = (name?: string) => (name === undefined ? undefined : opts.specialTokens[name]);
    this.bosTokenId = id(opts.bos);
    this.eosTokenId = id(opts.eos);
    this.padTokenId = id(opts.pad);
  }

  static fromConfig(json: unknown): ByteTokenizer {
    const r = ByteConfig.safeParse(json);
    if (!r.success) {
      const i = r.error.issues[0];
      throw new ModelError(
        'config',
        `tokenizer_config.json: field '${i.path.join('.')}' is invalid: ${i.message}`,
      );
    }
    const c = r.data;
    return new ByteTokenizer({
      vocabSize: c.vocab_size,
      byteOffset: c.byte_offset,
      specialTokens: c.special_tokens,
      bos: c.bos_token,
      eos: c.eos_token,
      pad: c.pad_token,
    });
  }

  encode(text: string, options?: EncodeOptions): number[] {
    const opts = parseEncodeOptions(options, 'ByteTokenizer.encode');
    const bytes = this.utf8.encode(text);
    const out: number[] = [];
    if ((opts.addSpecialTokens ?? true) && this.bosTokenId !== undefined) out.push(this.bosTokenId);
    for (const b of bytes) out.push(this.byteOffset + b);
    return out;
  }

  decode(ids: ArrayLike<number>, options?: DecodeOptions): string {
    const skip = parseDecodeOptions(options, 'ByteTokenizer.decode').skipSpecialTokens ?? true;
    let text = '';
    let bytes: number[] = [];
    const flush = () => {
      if (bytes.length) text += new TextDecoder('utf-8').decode(new Uint8Array(bytes));
      bytes = [];
    };
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      const b = id - this.byteOffset;
      if (b >= 0 && b < 256) {
        bytes.push(b);
        continue;
      }
      const name = this.specials.get(id);
      if (name === undefined)
        throw new ModelError(
          'input',
          `ByteTokenizer.decode: id ${id} is not a byte or a special token (vocab ${this.vocabSize})`,
        );
      flush();
      if (!skip) text += name;
    }
    flush();
    return text;
  }
}
