import { describe, expect, it } from 'vitest';
import { TemperatureProcessor } from './temperature';

describe('TemperatureProcessor', () => {
  it('divides every logit by T; -Infinity stays masked', () => {
    const x = Float32Array.from([2, -1, 0, Number.NEGATIVE_INFINITY]);
    new TemperatureProcessor(0.5).process(x);
    expect(Array.from(x)).toEqual([4, -2, 0, Number.NEGATIVE_INFINITY]);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])(
    'rejects T = %s, naming the option and the range',
    (t) => {
      expect(() => new TemperatureProcessor(t)).toThrow(/'temperature' must be a finite number > 0/);
    },
  );
});
