import { describe, expect, it } from 'vitest';
import { configureCpuKernels, currentSettings, resolveThreads, TWO_THREAD_MIN_WEIGHTS } from './options';

describe("threads: 'auto'", () => {
  it('splits only products with N >= 32 and at least twoThreadMinWeights weights', () => {
    expect(resolveThreads('auto', 4864, 896, TWO_THREAD_MIN_WEIGHTS)).toBe(2);
    expect(resolveThreads('auto', 64, 64, TWO_THREAD_MIN_WEIGHTS)).toBe(1);
    expect(resolveThreads('auto', 16, 1 << 20, TWO_THREAD_MIN_WEIGHTS)).toBe(1); // too few rows to split
    expect(resolveThreads('auto', 64, 64, 0)).toBe(2);
    expect(resolveThreads(1, 4864, 896, 0)).toBe(1);
    expect(resolveThreads(2, 8, 8, TWO_THREAD_MIN_WEIGHTS)).toBe(2);
  });
});

describe('configureCpuKernels({ dot })', () => {
  it("accepts 'float' and 'int8'; a bad value or unknown key is an error naming the field", () => {
    expect(() => configureCpuKernels({ dot: 'int8' })).not.toThrow();
    expect(currentSettings().dot).toBe('int8');
    expect(() => configureCpuKernels({ dot: 'float' })).not.toThrow();
    expect(currentSettings().dot).toBe('float');
    expect(() => configureCpuKernels({ dot: 'int4' as 'int8' })).toThrow(/dot.*(float|int8)/);
    expect(() => configureCpuKernels({ dots: 'int8' } as object)).toThrow(/dots/);
    expect(currentSettings().dot).toBe('float'); // unchanged by the rejected calls
  });
});
