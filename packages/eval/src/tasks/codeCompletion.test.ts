import { describe, expect, it } from 'vitest';
import { checkCodeCompletion, codeCompletionTask } from './codeCompletion.js';

// A small synthetic Python file, so the test does not depend on fixtures/corpus.
const py = [
  '"""A tiny module."""',
  'import os',
  '',
  '',
  'def greet(name):',
  '    # say hello',
  '    message = "hello, " + name',
  '    return message.upper()',
  '',
  '',
  'class Counter:',
  '    def __init__(self, start=0):',
  '        self.value = start',
  '',
  '    def step(self, by=1):',
  '        self.value += by',
  '        return self.value',
  '',
].join('\n');

const other = 'x = 1\ny = 2\nz = x + y\nprint(z)\n';

describe('code-completion task', () => {
  const files = [
    { name: 'b.py', text: other },
    { name: 'a.py', text: py },
  ];

  it('cuts prompts at line starts; the target is the next line', () => {
    const t = codeCompletionTask(files, { seed: 1, count: 5, minContextLines: 2, minTargetChars: 5 });
    expect(t.id).toBe('code-completion@1');
    expect(t.items).toHaveLength(5);
    for (const item of t.items) {
      const text = item.file === 'a.py' ? py : other;
      const lines = text.split('\n');
      expect(item.target).toBe(lines[item.line]);
      expect(text.startsWith(item.prompt) || text.includes(item.prompt)).toBe(true);
      expect(item.prompt.endsWith('\n')).toBe(true);
      expect(text.includes(item.prompt + item.target)).toBe(true);
      expect(item.target.trim().startsWith('#')).toBe(false);
      expect(item.line).toBeGreaterThanOrEqual(2);
    }
  });

  it('is deterministic from the seed and independent of file order', () => {
    const opts = { seed: 3, count: 4, minContextLines: 2, minTargetChars: 5 };
    const a = codeCompletionTask(files, opts);
    const b = codeCompletionTask([...files].reverse(), opts);
    expect(b.items).toEqual(a.items);
    expect(b.fingerprint).toBe(a.fingerprint);
    expect(codeCompletionTask(files, { ...opts, seed: 4 }).items).not.toEqual(a.items);
  });

  it('keeps at most maxPromptChars of whole lines', () => {
    const t = codeCompletionTask([{ name: 'a.py', text: py }], {
      seed: 0,
      count: 6,
      minContextLines: 8,
      minTargetChars: 5,
      maxPromptChars: 40,
    });
    for (const item of t.items) expect(item.prompt.length).toBeLessThanOrEqual(40);
  });

  it('scores exact match, edit similarity and prefix match', () => {
    const item = { id: 'x', file: 'a.py', line: 7, prompt: '', target: '    return message.upper()' };
    expect(checkCodeCompletion(item, '    return message.upper()  \nmore')).toMatchObject({
      pass: true,
      score: 1,
    });
    const r = checkCodeCompletion(item, '    return message.lower()');
    expect(r.pass).toBe(false);
    expect(r.score).toBeCloseTo(1 - 3 / 26, 12); // upper -> lower: 3 substitutions
    expect(r.details!.prefixMatch).toBeCloseTo(19 / 26, 12);
  });

  it('rejects too few candidate lines and bad files', () => {
    expect(() => codeCompletionTask(files, { count: 1000 })).toThrow(/hold only \d+ candidate lines/);
    expect(() => codeCompletionTask([], {})).toThrow(/files must be a non-empty array/);
    expect(() => codeCompletionTask([{ name: 'a.py' } as { name: string; text: string }])).toThrow(
      /files\[0\]/,
    );
  });
});
