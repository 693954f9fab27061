import { describe, expect, it } from 'vitest';
import { RepetitionPenaltyProcessor } from './repetition-penalty';

describe('RepetitionPenaltyProcessor (CTRL / HF)', () => {
  it('divides positive and multiplies negative logits of context tokens, once per token', () => {
    const x = Float32Array.from([2, -1, 0.5, -3]);
    // token 1 occurs twice (prompt and generated): still penalised once; tokens 2 and 3 are absent.
    new RepetitionPenaltyProcessor(2).process(x, { tokens: [0, 1, 1], promptLength: 2, row: 0 });
    expect(Array.from(x)).toEqual([1, -2, 0.5, -3]);
  });

  it('θ < 1 encourages repetition', () => {
    const x = Float32Array.from([2, -1]);
    new RepetitionPenaltyProcessor(0.5).process(x, { tokens: [0, 1], promptLength: 0, row: 0 });
    expect(Array.from(x)).toEqual([4, -0.5]);
  });

  it.each([0, -1, Number.POSITIVE_INFINITY])('rejects θ = %s', (t) => {
    expect(() => new RepetitionPenaltyProcessor(t)).toThrow(
      /'repetitionPenalty' must be a finite number > 0/,
    );
  });
});
