/**
 * Prompt lookup: longest n-gram first, most recent (or earliest) earlier match, overlapping copy,
 * vLLM's defaults.
 */
import { describe, expect, it } from 'vitest';
import { PromptLookupDrafter } from './prompt-lookup';

describe('PromptLookupDrafter', () => {
  it('defaults follow vLLM: min = max = 5; one given sets the other', () => {
    expect(new PromptLookupDrafter()).toMatchObject({ min: 5, max: 5, prefer: 'latest' });
    expect(new PromptLookupDrafter({ max: 3 })).toMatchObject({ min: 3, max: 3 });
    expect(new PromptLookupDrafter({ min: 2 })).toMatchObject({ min: 2, max: 2 });
    expect(() => new PromptLookupDrafter({ min: 4, max: 2 })).toThrow(/min 4 is larger than max 2/);
    expect(() => new PromptLookupDrafter({ mn: 2 } as never)).toThrow(/allowed: min, max, prefer/);
  });

  it('copies what followed the most recent earlier occurrence (or the earliest)', () => {
    const ctx = [5, 1, 2, 9, 1, 2, 8, 1, 2];
    expect(new PromptLookupDrafter({ min: 2, max: 2 }).propose(ctx, 3).tokens).toEqual([8, 1, 2]);
    expect(new PromptLookupDrafter({ min: 2, max: 2, prefer: 'earliest' }).propose(ctx, 3).tokens).toEqual([
      9, 1, 2,
    ]);
  });

  it('prefers the longest n-gram from max down to min', () => {
    // Trailing 3-gram [7, 1, 2] occurs once at 0 (followed by 4); the 2-gram [1, 2] later (followed by 6).
    const ctx = [7, 1, 2, 4, 1, 2, 6, 7, 1, 2];
    expect(new PromptLookupDrafter({ min: 2, max: 3 }).propose(ctx, 2).tokens).toEqual([4, 1]);
    expect(new PromptLookupDrafter({ min: 2, max: 2 }).propose(ctx, 2).tokens).toEqual([6, 7]);
  });

  it('an overlapping copy keeps a repeating pattern going for all k tokens', () => {
    const ctx = [1, 2, 3, 4, 1, 2, 3];
    expect(new PromptLookupDrafter({ min: 3, max: 3 }).propose(ctx, 6).tokens).toEqual([4, 1, 2, 3, 4, 1]);
    expect(new PromptLookupDrafter({ min: 2, max: 4 }).propose([9, 9, 9, 9], 3).tokens).toEqual([9, 9, 9]);
  });

  it('no match, a short context or k = 0 propose nothing', () => {
    const d = new PromptLookupDrafter({ min: 2, max: 3 });
    expect(d.propose([1, 2, 3, 4], 3).tokens).toEqual([]);
    expect(d.propose([1, 2], 3).tokens).toEqual([]);
    expect(d.propose([1, 2, 1, 2], 0).tokens).toEqual([]);
    expect(() => d.propose([1], -1)).toThrow(/k must be/);
  });
});
