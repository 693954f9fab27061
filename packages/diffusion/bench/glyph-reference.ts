/**
 * Reference statistics for the glyph bench's Fréchet distance (bench/glyphs.ts): real glyphs of the held-out
 * fonts (the classifier's "test" split, rendered by tools/fixtures/glyphs.py through bench/real-glyphs.py;
 * Python because the renderer is PIL's), passed through the glyph classifier (`features`, 128-dim); their
 * mean and covariance, and the Fréchet distance of small real sets of the bench's sample count to them (the
 * floor a perfect sampler would reach at that count), are written to
 * fixtures/glyph-classifier/real-features.json. The reference is never computed from a sampler's output.
 *
 *   npx tsx packages/diffusion/bench/glyph-reference.ts     (needs /usr/bin/python3 with numpy and PIL, and
 *                                                            the Debian fonts of tools/fixtures/glyphs.py)
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { featureStatistics, frechetDistanceFromStatistics } from '@hasten/eval';
import { loadGlyphClassifier } from '../src/node';

/** The bench's 12 classes (every third of 0..9A..Z): 0 3 6 9 C F I L O R U X. */
export const BENCH_CLASSES = [0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 33];
const REF_PER_CLASS = 50;
const REF_SEED = 7;
/** Sample counts of the bench (per class) whose real-data floor is recorded, and draws per count. */
const FLOOR_PER_CLASS = [1, 2];
const FLOOR_DRAWS = 8;
const FLOOR_SEED = 8;

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');

function render(perClass: number, seed: number): { x: Float32Array; labels: number[] } {
  const out = execFileSync(
    '/usr/bin/python3',
    [
      join(here, 'real-glyphs.py'),
      '--classes',
      BENCH_CLASSES.join(','),
      '--per-class',
      String(perClass),
      '--seed',
      String(seed),
    ],
    { maxBuffer: 1 << 30 },
  );
  const nl = out.indexOf(10);
  const { labels } = JSON.parse(out.subarray(0, nl).toString('utf8')) as { labels: number[] };
  const bytes = out.subarray(nl + 1);
  const x = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  if (x.length !== labels.length * 1024)
    throw new Error(`real-glyphs.py: ${x.length} values for ${labels.length} labels`);
  return { x, labels };
}

const round = (v: number) => Number(v.toPrecision(7));

async function main() {
  const clf = await loadGlyphClassifier(join(root, 'fixtures', 'glyph-classifier'));
  const ref = render(REF_PER_CLASS, REF_SEED);
  const stats = featureStatistics(clf.features(ref.x));
  const pred = clf.predict(ref.x);
  const accuracy = ref.labels.filter((l, i) => pred[i] === l).length / ref.labels.length;
  const floor = [];
  for (const perClass of FLOOR_PER_CLASS) {
    const draws = render(perClass * FLOOR_DRAWS, FLOOR_SEED + perClass);
    const k = perClass * BENCH_CLASSES.length;
    const fds: number[] = [];
    for (let d = 0; d < FLOOR_DRAWS; d++) {
      const x = draws.x.subarray(d * k * 1024, (d + 1) * k * 1024);
      fds.push(frechetDistanceFromStatistics(featureStatistics(clf.features(x)), stats));
    }
    const mean = fds.reduce((a, v) => a + v, 0) / fds.length;
    const sd = Math.sqrt(fds.reduce((a, v) => a + (v - mean) ** 2, 0) / (fds.length - 1));
    floor.push({
      perClass,
      items: k,
      draws: FLOOR_DRAWS,
      mean: round(mean),
      sd: round(sd),
      min: round(Math.min(...fds)),
      max: round(Math.max(...fds)),
    });
  }
  const file = {
    description:
      'Classifier features (fixtures/glyph-classifier, 128-dim pooled activations) of real held-out-font glyphs (split "test" of tools/fixtures/glyphs.py, with jitter): mean and covariance (row-major, 1/(n-1)); floor: Fréchet distance of independent real sets of the given size to these statistics.',
    command: 'npx tsx packages/diffusion/bench/glyph-reference.ts',
    classes: BENCH_CLASSES,
    perClass: REF_PER_CLASS,
    seed: REF_SEED,
    items: ref.labels.length,
    classifierAccuracy: round(accuracy),
    floor,
    mean: Array.from(stats.mean, round),
    cov: Array.from(stats.cov, round),
  };
  const path = join(root, 'fixtures', 'glyph-classifier', 'real-features.json');
  writeFileSync(path, `${JSON.stringify(file)}\n`);
  console.log(
    `${path}: ${file.items} real glyphs, classifier accuracy ${accuracy.toFixed(3)}, floor ${JSON.stringify(floor)}`,
  );
}

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) await main();
