import { describe, expect, it } from 'vitest';
import { StopStrings } from './stop-strings';

describe('StopStrings', () => {
  it('holds back a tail that could start a stop string, releases it when ruled out', () => {
    const s = new StopStrings(['END']);
    expect(s.push('abc E')).toEqual({ text: 'abc ' });
    expect(s.push('N')).toEqual({ text: '' });
    expect(s.push('x')).toEqual({ text: 'ENx' });
    expect(s.finish()).toBe('');
  });

  it('cuts at the earliest stop string, across deltas', () => {
    const s = new StopStrings(['\n\n', 'return']);
    expect(s.push('x = 1\n')).toEqual({ text: 'x = 1' });
    expect(s.push('\nreturn')).toEqual({ text: '', stop: '\n\n' });
    expect(s.text).toBe('x = 1');
  });

  it('finish releases what was held back', () => {
    const s = new StopStrings(['stop']);
    expect(s.push('no st')).toEqual({ text: 'no ' });
    expect(s.finish()).toBe('st');
    expect(s.text).toBe('no st');
  });

  it('without stop strings nothing is held', () => {
    const s = new StopStrings([]);
    expect(s.push('abc')).toEqual({ text: 'abc' });
  });
});
