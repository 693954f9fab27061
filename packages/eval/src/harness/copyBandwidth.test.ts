import { describe, expect, it } from 'vitest';
import { measureCopyBandwidth } from './copyBandwidth.js';

describe('measureCopyBandwidth', () => {
  it('gives a positive finite rate, and names bad options', () => {
    const gbps = measureCopyBandwidth({ bytes: 8 * 2 ** 20, repeats: 2 });
    expect(Number.isFinite(gbps)).toBe(true);
    expect(gbps).toBeGreaterThan(0);
    expect(() => measureCopyBandwidth({ bytes: 0 })).toThrow(/bytes/);
    expect(() => measureCopyBandwidth({ byts: 1 } as never)).toThrow(/"byts"/);
  });
});
