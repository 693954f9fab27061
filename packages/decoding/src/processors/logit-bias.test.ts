import { describe, expect, it } from 'vitest';
import { LogitBiasProcessor } from './logit-bias';

describe('LogitBiasProcessor', () => {
  it('adds the bias of each listed token (record or map)', () => {
    const x = Float32Array.from([0, 1, 2]);
    new LogitBiasProcessor({ 0: 1.5, 2: -2 }).process(x);
    expect(Array.from(x)).toEqual([1.5, 1, 0]);
    const y = Float32Array.from([0, 1, 2]);
    new LogitBiasProcessor(new Map([[1, 3]])).process(y);
    expect(Array.from(y)).toEqual([0, 4, 2]);
  });

  it('rejects a non-finite bias, naming the token', () => {
    expect(() => new LogitBiasProcessor({ 3: Number.NaN })).toThrow(/'logitBias.3' must be a finite number/);
  });
});
