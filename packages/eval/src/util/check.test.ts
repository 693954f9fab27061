import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { checkFiniteArray, checkInteger, parseOptions } from './check.js';

describe('input checks', () => {
  it('names the function, the field and what is allowed', () => {
    expect(() => checkInteger('f', 'k', 2.5)).toThrow('f: k must be an integer (got 2.5)');
    expect(() => checkInteger('f', 'k', 9, 1, 5)).toThrow('f: k must be in [1, 5] (got 9)');
    expect(() => checkFiniteArray('f', 'xs', [1, Number.NaN])).toThrow(
      'f: xs[1] must be a finite number (got NaN)',
    );
    expect(() => checkFiniteArray('f', 'xs', [1], { length: 2 })).toThrow('must have length 2');
  });

  it('reports every bad option of a zod schema', () => {
    const schema = z.object({ a: z.number().int(), b: z.enum(['x', 'y']) }).strict();
    expect(() => parseOptions(schema, { a: 1.5, b: 'z' }, 'g')).toThrow(
      /g: invalid options\.a: .*; options\.b: /,
    );
    expect(parseOptions(schema, { a: 1, b: 'x' }, 'g')).toEqual({ a: 1, b: 'x' });
  });
});
