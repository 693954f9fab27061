import { describe, expect, it } from 'vitest';
import { byteTokenizer } from '../testing';
import { IncrementalDetokenizer } from './detokenizer';

const utf8 = (s: string) => Array.from(new TextEncoder().encode(s));

describe('IncrementalDetokenizer', () => {
  it('emits a multi-byte character only once it is complete', () => {
    const d = new IncrementalDetokenizer(byteTokenizer(), [256]);
    const deltas = utf8('a😀b').map((t) => d.push(t));
    expect(deltas).toEqual(['a', '', '', '', '😀', 'b']);
    expect(d.flush()).toBe('');
  });

  it('special tokens are skipped by default, kept on request', () => {
    const tok = byteTokenizer();
    const skip = new IncrementalDetokenizer(tok, [256]);
    expect([...utf8('x'), 257].map((t) => skip.push(t)).join('')).toBe('x');
    const keep = new IncrementalDetokenizer(tok, [256], false);
    expect([...utf8('x'), 257].map((t) => keep.push(t)).join('')).toBe('x<eos>');
  });

  it('the prompt gives context but is not emitted', () => {
    const d = new IncrementalDetokenizer(byteTokenizer(), [256, ...utf8('prompt ')]);
    expect(utf8('ok').map((t) => d.push(t))).toEqual(['o', 'k']);
  });

  it('flush releases an incomplete character as U+FFFD', () => {
    const d = new IncrementalDetokenizer(byteTokenizer(), []);
    expect(
      utf8('€')
        .slice(0, 2)
        .map((t) => d.push(t)),
    ).toEqual(['', '']);
    expect(d.flush()).toBe('\uFFFD');
  });
});
