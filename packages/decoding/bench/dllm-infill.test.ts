/**
 * The dLLM bench's code infilling problems (bench/dllm-infill.ts, `bench/dllm.ts --task infill`):
 * - problems come from the held-out split of tools/fixtures/corpus/MANIFEST.json (names and sha256),
 *   and prefix + span + suffix are exactly the file's bytes at the stated offsets, the span ending at
 *   a line end, the whole window ASCII, spans not overlapping, the draw fixed by the seed;
 * - scoreInfill's exact match, byte accuracy and edit similarity on hand-made spans;
 * - LLaDA one token per step with the committed code-mdlm on one problem (prefix and suffix around
 *   the masked span) runs one forward per position and returns a span of the requested length; the
 *   suffix reaches the model (another suffix changes the first step's confidence).
 * (Beside the bench, like arith-mdlm.test.ts: it checks the bench's problems and a fixture.)
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SourceFile } from '@hasten/eval';
import { loadHeldoutFiles } from '@hasten/eval/node';
import { loadMaskedDiffusionLM } from '@hasten/models/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDiffusion, streamDiffusion } from '../src/index';
import { FIXTURES } from '../src/testing';
import { type InfillProblem, infillProblems, scoreInfill } from './dllm-infill';

const SHAPE = { prefixLength: 128, spanLength: 16, suffixLength: 64 };
let files: SourceFile[];
let problems: InfillProblem[];
beforeAll(() => {
  files = loadHeldoutFiles({ dir: join(FIXTURES, 'corpus', 'heldout') });
  problems = infillProblems(files, { seed: 0, count: 12, ...SHAPE });
});

describe('infilling problems', () => {
  it('come from held-out files of the corpus manifest, never the training split', () => {
    const manifest = JSON.parse(
      readFileSync(join(FIXTURES, '..', 'tools', 'fixtures', 'corpus', 'MANIFEST.json'), 'utf8'),
    ) as { files: { name: string; split: string; sha256: string }[] };
    const byName = new Map(manifest.files.map((f) => [f.name, f]));
    expect(manifest.files.some((f) => f.split === 'train')).toBe(true);
    for (const p of problems) {
      const entry = byName.get(p.file);
      expect(entry?.split).toBe('heldout');
      const bytes = readFileSync(join(FIXTURES, 'corpus', 'heldout', p.file));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(entry?.sha256);
    }
  });

  it('prefix + span + suffix are the file bytes at the offsets, the span ending at a line end', () => {
    expect(problems).toHaveLength(12);
    for (const p of problems) {
      const bytes = readFileSync(join(FIXTURES, 'corpus', 'heldout', p.file));
      expect(p.prefix).toHaveLength(SHAPE.prefixLength);
      expect(p.span).toHaveLength(SHAPE.spanLength);
      expect(p.suffix).toHaveLength(SHAPE.suffixLength);
      expect(p.spanStart).toBe(p.start + SHAPE.prefixLength);
      const window = [...p.prefix, ...p.span, ...p.suffix];
      expect(window).toEqual(Array.from(bytes.subarray(p.start, p.start + window.length)));
      expect(p.span[p.span.length - 1]).toBe(10);
      expect(window.every((b) => b < 128)).toBe(true);
      expect(p.span.filter((b) => ![32, 9, 10, 13].includes(b)).length).toBeGreaterThanOrEqual(8);
    }
    // Spans do not overlap within a file.
    for (let i = 0; i < problems.length; i++) {
      for (let j = i + 1; j < problems.length; j++) {
        const [a, b] = [problems[i], problems[j]];
        if (a.file !== b.file) continue;
        const apart =
          a.spanStart + SHAPE.spanLength <= b.spanStart || b.spanStart + SHAPE.spanLength <= a.spanStart;
        expect(apart).toBe(true);
      }
    }
    // More than one file is drawn from.
    expect(new Set(problems.map((p) => p.file)).size).toBeGreaterThan(1);
  });

  it('the seed fixes the draw; another seed draws other spans', () => {
    const again = infillProblems(files, { seed: 0, count: 12, ...SHAPE });
    expect(again).toEqual(problems);
    // File order in the input does not matter (files are sorted by name).
    expect(infillProblems([...files].reverse(), { seed: 0, count: 12, ...SHAPE })).toEqual(problems);
    const other = infillProblems(files, { seed: 1, count: 12, ...SHAPE });
    const key = (p: InfillProblem) => `${p.file}:${p.spanStart}`;
    expect(other.map(key)).not.toEqual(problems.map(key));
  });

  it('rejects bad options and counts the files cannot hold', () => {
    expect(() => infillProblems(files, { spanLength: 0 })).toThrow(/spanLength/);
    expect(() => infillProblems(files, { count: 3, spanLenght: 8 } as never)).toThrow(/spanLenght/);
    const tiny: SourceFile[] = [{ name: 'a.py', text: 'x = 1\n'.repeat(20) }];
    expect(() => infillProblems(tiny, { count: 1, ...SHAPE })).toThrow(/count/);
  });
});

describe('scoreInfill', () => {
  const p: InfillProblem = {
    file: 'x.py',
    start: 0,
    spanStart: 1,
    prefix: [35],
    span: Array.from(new TextEncoder().encode('abcd')),
    suffix: [],
  };
  const enc = (s: string) => Array.from(new TextEncoder().encode(s));

  it('exact match, byte accuracy by position and edit similarity', () => {
    expect(scoreInfill(p, enc('abcd'))).toEqual({ exact: true, byteAccuracy: 1, editSimilarity: 1 });
    expect(scoreInfill(p, enc('abxd'))).toEqual({ exact: false, byteAccuracy: 0.75, editSimilarity: 0.75 });
    // A shift by one: every position wrong, but two edits (drop 'a', add ' ') away.
    const shifted = scoreInfill(p, enc('bcd '));
    expect(shifted.exact).toBe(false);
    expect(shifted.byteAccuracy).toBe(0);
    expect(shifted.editSimilarity).toBe(0.5);
    // A special token (<eos> 257) is a wrong position and dropped from the edit comparison.
    const eos = scoreInfill(p, [...enc('abc'), 257]);
    expect(eos.byteAccuracy).toBe(0.75);
    expect(eos.editSimilarity).toBe(0.75);
  });
});

describe('LLaDA infilling on code-mdlm', () => {
  let model: Awaited<ReturnType<typeof loadMaskedDiffusionLM>>;
  beforeAll(async () => {
    model = await loadMaskedDiffusionLM(join(FIXTURES, 'code-mdlm'));
  });
  afterAll(() => model?.dispose());

  it('one token per step fills a span of the requested length between prefix and suffix', async () => {
    const [p] = infillProblems(files, {
      seed: 0,
      count: 1,
      prefixLength: 64,
      spanLength: 8,
      suffixLength: 32,
      minSpanChars: 4,
    });
    const opts = { prompt: p.prefix, genLength: 8, blockLength: 8, steps: 8, eosFill: false };
    const r = await generateDiffusion(model, { ...opts, suffix: p.suffix });
    expect(r.rows[0].canvas).toHaveLength(8);
    expect(r.rows[0].canvas.every((t) => t >= 0 && t < 259)).toBe(true);
    expect(r.stats.forwards).toBe(8);
    expect(r.stats.decodedTokens).toBe(8);
    // The suffix reaches the model: with another suffix the first step's confidences differ (the
    // weak fixture may still write the same bytes).
    const firstConfidences = async (suffix: number[]) => {
      const it = streamDiffusion(model, { ...opts, suffix });
      for (;;) {
        const e = await it.next();
        if (e.done) throw new Error('no step');
        if (e.value.type === 'step') return e.value.commits.map((c) => c.confidence);
      }
    };
    const real = await firstConfidences(p.suffix);
    const other = await firstConfidences(new Array(32).fill(35));
    expect(real).toHaveLength(1);
    expect(Math.abs((real[0] ?? 0) - (other[0] ?? 0))).toBeGreaterThan(1e-6);
  });
});
