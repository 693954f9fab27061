import { z } from 'zod';
import { editSimilarity, prefixMatch } from '../metrics/editSimilarity.js';
import { fail, isArray, parseOptions } from '../util/check.js';
import { fnv1a } from '../util/fingerprint.js';
import { createRng } from '../util/seededRng.js';
import { type CheckResult, type Task, type TaskItem, taskId } from './task.js';

// Next-line code completion on held-out source files (the line-level completion setting of CodeXGLUE,
// arXiv 2102.04664, and RepoBench, arXiv 2306.03091): the prompt is the file up to the start of a line,
// the reference is that line. Scored by exact match (pass) and edit similarity (score), with the
// character prefix match as a detail. The task takes file texts, so it runs in a browser; the Node
// helper `loadHeldoutFiles` in `@hasten/eval/node` reads fixtures/corpus/heldout/*.py.
// Version 1: candidate lines are non-blank, not comments, >= minTargetChars after trimming, with at
// least minContextLines lines before them; files in name order, then a seeded shuffle picks `count`.

export const CODE_COMPLETION_VERSION = 1;

export interface SourceFile {
  name: string;
  text: string;
}

const codeOptions = z
  .object({
    seed: z.number().int().default(0),
    count: z.number().int().min(1).default(100),
    minContextLines: z.number().int().min(0).default(8),
    minTargetChars: z.number().int().min(1).default(8),
    /** Keep at most this many characters of the prompt (cut at a line start). */
    maxPromptChars: z.number().int().min(1).default(2048),
  })
  .strict();
export type CodeCompletionOptions = z.input<typeof codeOptions>;

export interface CodeCompletionItem extends TaskItem {
  file: string;
  /** 0-based line number of the target in the file. */
  line: number;
  /** File text before the target line (ends with a newline). */
  prompt: string;
  /** The next line, without its newline (indentation kept). */
  target: string;
}

export function codeCompletionTask(
  files: readonly SourceFile[],
  options: CodeCompletionOptions = {},
): Task<CodeCompletionItem, string> {
  const where = 'codeCompletionTask';
  const opts = parseOptions(codeOptions, options, where);
  if (!isArray(files) || files.length === 0)
    fail(where, 'files', 'must be a non-empty array of { name, text }');
  files.forEach((f, i) => {
    if (typeof f?.name !== 'string' || typeof f.text !== 'string')
      fail(where, `files[${i}]`, 'must be { name, text }');
  });
  const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const candidates: { file: number; line: number }[] = [];
  const split = sorted.map((f) => f.text.replace(/\r\n?/g, '\n').split('\n'));
  split.forEach((lines, fi) => {
    for (let li = opts.minContextLines; li < lines.length; li++) {
      const t = lines[li]!.trim();
      if (t.length >= opts.minTargetChars && !t.startsWith('#')) candidates.push({ file: fi, line: li });
    }
  });
  if (candidates.length < opts.count) {
    fail(
      where,
      'options.count',
      `is ${opts.count} but the files hold only ${candidates.length} candidate lines`,
    );
  }
  const rng = createRng(opts.seed);
  const picked = rng.shuffle(candidates).slice(0, opts.count);
  const id = taskId('code-completion', CODE_COMPLETION_VERSION);
  const items = picked.map(({ file, line }, i): CodeCompletionItem => {
    const lines = split[file]!;
    // Keep whole lines, walking back from the target until the character budget is spent.
    let start = line;
    let chars = 0;
    while (start > 0 && chars + lines[start - 1]!.length + 1 <= opts.maxPromptChars) {
      start--;
      chars += lines[start]!.length + 1;
    }
    return {
      id: `${id}/s${opts.seed}/${i}`,
      file: sorted[file]!.name,
      line,
      prompt: lines
        .slice(start, line)
        .map((l) => `${l}\n`)
        .join(''),
      target: lines[line]!.replace(/\s+$/, ''),
    };
  });
  return {
    id,
    name: 'code-completion',
    version: CODE_COMPLETION_VERSION,
    seed: opts.seed,
    fingerprint: fnv1a([JSON.stringify(opts), ...sorted.flatMap((f) => [f.name, f.text])]),
    items,
    check: checkCodeCompletion,
  };
}

/** Scores the first line of `output` against the target (trailing whitespace ignored). */
export function checkCodeCompletion(item: CodeCompletionItem, output: string): CheckResult {
  if (typeof output !== 'string') fail('checkCodeCompletion', 'output', 'must be a string');
  const predicted = output.replace(/\r\n?/g, '\n').split('\n')[0]!.replace(/\s+$/, '');
  const exact = predicted === item.target;
  const similarity = editSimilarity(predicted, item.target);
  return {
    pass: exact,
    score: similarity,
    details: {
      exactMatch: exact,
      editSimilarity: similarity,
      prefixMatch: prefixMatch(predicted, item.target),
    },
  };
}
