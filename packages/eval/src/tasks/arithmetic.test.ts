import { describe, expect, it } from 'vitest';
import { arithmeticTask, checkArithmetic, parseFinalInteger } from './arithmetic.js';
import { evaluateTask } from './evaluateTask.js';

describe('arithmetic task', () => {
  it('is frozen for version 1: seed 0 gives these items', () => {
    const t = arithmeticTask({ seed: 0, count: 3 });
    expect(t.id).toBe('arithmetic@1');
    expect(t.items.map((i) => [i.prompt, i.answer])).toEqual([
      ['18+1+13*9=', 136],
      ['15-13-19+6=', -11],
      ['20*13+15+6=', 281],
    ]);
    expect(t.items[1]!.steps).toEqual(['2-19+6', '-17+6', '-11']);
    expect(t.items[0]!.id).toBe('arithmetic@1/s0/0');
  });

  it('answers are exact under the usual precedence (checked with an independent evaluator)', () => {
    const t = arithmeticTask({ seed: 9, count: 200, operations: 5, operandMin: 0, operandMax: 99 });
    for (const item of t.items) {
      const expr = item.prompt.slice(0, -1);
      // Independent evaluation: sum of products of the +/- separated terms.
      const terms = expr.match(/[+-]?[^+-]+/g)!;
      const value = terms.reduce((s, term) => {
        const sign = term.startsWith('-') ? -1 : 1;
        const product = term
          .replace(/^[+-]/, '')
          .split('*')
          .reduce((p, f) => p * Number(f), 1);
        return s + sign * product;
      }, 0);
      expect(item.answer).toBe(value);
      expect(item.steps[item.steps.length - 1]).toBe(String(value));
    }
  });

  it('respects the difficulty options and differs across seeds', () => {
    const t = arithmeticTask({
      seed: 1,
      count: 50,
      operations: 2,
      operandMin: 3,
      operandMax: 5,
      operators: ['*'],
    });
    for (const item of t.items) {
      expect(item.prompt).toMatch(/^[345]\*[345]\*[345]=$/);
    }
    expect(arithmeticTask({ seed: 2, count: 5 }).items).not.toEqual(
      arithmeticTask({ seed: 3, count: 5 }).items,
    );
    expect(() => arithmeticTask({ operandMin: 5, operandMax: 2 })).toThrow(
      /operandMin must be <= operandMax/,
    );
    expect(() => arithmeticTask({ operators: ['/' as '+'] })).toThrow(/options\.operators\.0/);
    expect(() =>
      arithmeticTask({ operations: 30, operandMin: 900000, operandMax: 1000000, operators: ['*'] }),
    ).toThrow(/beyond 2\^53/);
  });

  it('parses the final answer from free-form model output', () => {
    expect(parseFinalInteger('12+7*3-5=28')).toBe(28);
    expect(parseFinalInteger('first 12+21-5, then 33-5, so the answer is 28.')).toBe(28);
    expect(parseFinalInteger('The answer is -11')).toBe(-11);
    expect(parseFinalInteger('so \\boxed{1,234} and then 7')).toBe(1234);
    expect(parseFinalInteger('#### 42\n')).toBe(42);
    expect(parseFinalInteger('no digits')).toBeNull();
    const item = arithmeticTask({ seed: 0, count: 1 }).items[0]!;
    expect(checkArithmetic(item, '... = 136').pass).toBe(true);
    expect(checkArithmetic(item, '135')).toEqual({
      pass: false,
      score: 0,
      details: { parsed: 135, expected: 136 },
    });
  });

  it('evaluates outputs end to end', async () => {
    const t = arithmeticTask({ seed: 4, count: 4 });
    const outputs = t.items.map((it, i) => (i < 3 ? `${it.answer}` : 'dunno'));
    const ev = await evaluateTask(t, outputs);
    expect(ev.passRate).toBe(0.75);
    expect(ev.meanScore).toBe(0.75);
    expect(ev.taskId).toBe('arithmetic@1');
    await expect(evaluateTask(t, ['1'])).rejects.toThrow(/one output per item \(4\)/);
  });
});
