/**
 * @file Code infilling problems for the dLLM bench (`bench/dllm.ts --task infill`): fill-in-the-middle
 * on the held-out CPython files of fixtures/corpus/heldout (never the training split of
 * tools/fixtures/corpus/MANIFEST.json), the setting masked diffusion LMs decode natively (the masked
 * span sits between a prefix and a suffix the bidirectional model reads; FIM evaluation as in
 * Bavarian et al., "Efficient Training of Language Models to Fill in the Middle", arXiv 2207.14255,
 * here with the span's length given, as a masked diffusion LM decodes a fixed number of positions).
 *
 * Construction (version 1), on bytes (the fixtures' byte tokenizer): files in name order; a candidate
 * is a line end e (byte e - 1 is '\n') with `prefixLength` bytes of prefix, a span of `spanLength`
 * bytes ending at e (so it ends with that newline and usually starts inside a line) and
 * `suffixLength` bytes of suffix inside the file, the whole window ASCII, and at least
 * `minSpanChars` non-whitespace bytes in the span; a seeded shuffle of all candidates (createRng of
 * @hasten/eval, as its code-completion task) then takes them in order, skipping any whose span
 * overlaps a span already taken in the same file, until `count`. prefix + span + suffix is the file's
 * bytes [start, start + window). Scored by exact match of the span, byte accuracy (share of the span's
 * positions decoded to the original byte) and edit similarity (1 - Levenshtein / longer length,
 * CodeXGLUE's, @hasten/eval editSimilarity).
 */
import { createRng, editSimilarity, type SourceFile } from '@hasten/eval';
import { z } from 'zod';
import { parseOptions } from '../src/options';

export const INFILL_VERSION = 1;

export interface InfillProblem {
  /** Held-out file name (fixtures/corpus/heldout). */
  file: string;
  /** Byte offset of the prefix's first byte in the file. */
  start: number;
  /** Byte offset of the span's first byte. */
  spanStart: number;
  prefix: number[];
  /** The masked middle: what the decoder must write. */
  span: number[];
  suffix: number[];
}

const InfillOptionsSchema = z.strictObject({
  seed: z.number().int().min(0).default(0),
  count: z.number().int().min(1).default(20),
  prefixLength: z.number().int().min(1).default(128),
  spanLength: z.number().int().min(1).default(32),
  suffixLength: z.number().int().min(0).default(96),
  minSpanChars: z.number().int().min(0).default(8),
});
export type InfillOptions = z.input<typeof InfillOptionsSchema>;

const NEWLINE = 10;
const isSpace = (b: number) => b === 32 || b === 9 || b === 10 || b === 13;

export function infillProblems(files: readonly SourceFile[], options: InfillOptions = {}): InfillProblem[] {
  const o = parseOptions(InfillOptionsSchema, options, 'infillProblems');
  const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const bytes = sorted.map((f) => new TextEncoder().encode(f.text));
  const candidates: { file: number; end: number }[] = [];
  bytes.forEach((b, fi) => {
    // nonAscii[i]: number of non-ASCII bytes in b[0, i).
    const nonAscii = new Int32Array(b.length + 1);
    for (let i = 0; i < b.length; i++) nonAscii[i + 1] = nonAscii[i] + (b[i] >= 128 ? 1 : 0);
    for (let end = o.prefixLength + o.spanLength; end + o.suffixLength <= b.length; end++) {
      if (b[end - 1] !== NEWLINE) continue;
      const start = end - o.spanLength - o.prefixLength;
      if (nonAscii[end + o.suffixLength] - nonAscii[start] > 0) continue;
      let chars = 0;
      for (let i = end - o.spanLength; i < end; i++) if (!isSpace(b[i])) chars++;
      if (chars >= o.minSpanChars) candidates.push({ file: fi, end });
    }
  });
  const rng = createRng(o.seed);
  const taken: InfillProblem[] = [];
  const spans: { file: number; lo: number; hi: number }[] = [];
  for (const { file, end } of rng.shuffle(candidates)) {
    if (taken.length === o.count) break;
    const lo = end - o.spanLength;
    if (spans.some((s) => s.file === file && s.lo < end && lo < s.hi)) continue;
    spans.push({ file, lo, hi: end });
    const b = bytes[file];
    taken.push({
      file: sorted[file].name,
      start: lo - o.prefixLength,
      spanStart: lo,
      prefix: Array.from(b.subarray(lo - o.prefixLength, lo)),
      span: Array.from(b.subarray(lo, end)),
      suffix: Array.from(b.subarray(end, end + o.suffixLength)),
    });
  }
  if (taken.length < o.count) {
    throw new Error(
      `infillProblems: option 'count' is ${o.count} but the files hold only ${taken.length} non-overlapping spans of this shape`,
    );
  }
  return taken;
}

export interface InfillScore {
  exact: boolean;
  /** Share of the span's positions decoded to the original byte. */
  byteAccuracy: number;
  /** 1 - Levenshtein / longer length over the decoded bytes (special tokens dropped). */
  editSimilarity: number;
}

const latin1 = (ids: readonly number[]) => String.fromCharCode(...ids.filter((t) => t < 256));

/** Scores the generated positions `canvas` (all genLength of them) against the problem's span. */
export function scoreInfill(problem: InfillProblem, canvas: readonly number[]): InfillScore {
  const want = problem.span;
  let same = 0;
  for (let i = 0; i < want.length; i++) if (canvas[i] === want[i]) same++;
  return {
    exact: canvas.length === want.length && same === want.length,
    byteAccuracy: same / want.length,
    editSimilarity: editSimilarity(latin1(canvas), latin1(want)),
  };
}
