import { describe, expect, it } from 'vitest';
import { FrequencyPresencePenaltyProcessor } from './frequency-presence-penalty';

describe('FrequencyPresencePenaltyProcessor (OpenAI formula)', () => {
  it('subtracts count * frequency + presence for generated tokens only', () => {
    const x = Float32Array.from([1, 1, 1, 1]);
    // prompt [2, 2]; generated [0, 0, 1]
    new FrequencyPresencePenaltyProcessor(0.5, 0.25).process(x, {
      tokens: [2, 2, 0, 0, 1],
      promptLength: 2,
      row: 0,
    });
    expect(Array.from(x)).toEqual([1 - 2 * 0.5 - 0.25, 1 - 0.5 - 0.25, 1, 1]);
  });

  it('negative values encourage repetition', () => {
    const x = Float32Array.from([0, 0]);
    new FrequencyPresencePenaltyProcessor(-1, 0).process(x, { tokens: [1, 1], promptLength: 0, row: 0 });
    expect(Array.from(x)).toEqual([0, 2]);
  });
});
