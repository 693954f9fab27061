// Every runnable README example runs as written, from a fresh clone after `bash scripts/setup.sh`.
//
// Convention: in a package README (packages/*/README.md), a ```ts block directly preceded by the line
// `<!-- runnable example -->` is runnable. Each one is written, verbatim, to a temporary .ts file
// inside the repository (so @hasten/* imports resolve as they would for a user) and run from the
// repository root with `npx tsx`, as a user would; it must exit 0 and print what EXPECTED says. A
// README with no marked block must be one of a package that says it is not implemented yet.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadTokenizer } from '@hasten/models/node';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtureDir, readReference } from '../packages/models/src/testing';
import { npx, repoRoot as root } from './npx';

const MARKER = '<!-- runnable example -->';

/** The models example greedily continues this fixture's reference prompt for 64 tokens. */
async function pytorchGreedyText(): Promise<string> {
  const dir = fixtureDir('code-target');
  const ref = await readReference(dir);
  return loadTokenizer(dir).decode(Array.from(await ref.greedy_tokens!.data()).slice(0, 64));
}

/**
 * What each example must print, by `<package>#<n>` (n counts the README's marked blocks from 1): a
 * pattern, or a string the output must contain.
 */
const EXPECTED: Record<string, (RegExp | string)[]> = {
  // [batch, heads, head_dim, seq] after the transpose, then the first 4 probabilities of a row.
  'core-tensor#1': [/^\[ 1, 4, 32, 16 \] Float32Array\(4\) \[[\s\d.,e-]+\]$/m],
  'core-tensor#2': [/^\[ 8, 4096 \]$/m],
  // softmax of the rows of x x^T = [[14, 32], [32, 77]]: [e^-18, 1] and [e^-45, 1].
  'kernels-webgpu#1': [/^webgpu: /m, /^\[ 1\.52\d*e-8, 1, 2\.86\d*e-20, 1 \]$/m],
  'kv#1': [/allocatedBytes: 2097152,\s+usedBytes: 2048,\s+length: 1,\s+maxLength: 1024/],
  // What PyTorch's greedy decoding of the fixture produced (its reference.safetensors).
  'models#1': [`${await pytorchGreedyText()}\n`],
  // Two greedy rows with their finish reasons, a rate, then sampled text, contrastive text, two beams.
  'decoding#2': [/^".*" (stop|length)/m, /^\d+ tokens\/s$/m, /^-?\d+\.\d{3} ".*"$/m],
  // Speculative decoding reproduces greedy decoding with fewer target forwards than tokens.
  'decoding#1': [
    /^medusa: identical to greedy: true, \d+ target forwards for 64 tokens/m,
    /^prompt lookup: identical to greedy: true, /m,
  ],
  // DPM-Solver++ 2M at 20 steps against the exact ODE of a Gaussian mixture, then a guided batch.
  'diffusion#1': [
    /^20 model calls, RMS distance to the exact ODE solution [1-5]\.\de-2$/m,
    /^guided: 20 model calls, 320 item evaluations, 8\/8 in class 1$/m,
  ],
  // Feature caches on the seeded toy DiT: fewer block evaluations than the 240 uncached ones, close result.
  'diffusion#2': [
    /^teaCache: (?:[1-9]\d|1\d\d|2[0-3]\d) of 240 block evaluations, hit rate 0\.\d\d, relative error [1-9]\.\de-2$/m,
    /^taylorSeer: (?:[1-9]\d|1\d\d|2[0-3]\d) of 240 block evaluations, hit rate 0\.\d\d, relative error [1-9]\.\de-2$/m,
  ],
  // ECAD on the toy DiT at 6/16 of the block evaluations, then a σ search that beats the default spacing.
  'diffusion#3': [
    /^ECAD: 36 of 96 block evaluations, calibration PSNR \d+\.\d dB$/m,
    /^timesteps: 6 model calls, RMS to the exact ODE \d\.\de-2 = 0\.[0-6]\d × the default spacing's$/m,
  ],
  // The CUDA backend when a GPU is usable, else the CPU: the same product either way.
  'kernels-cuda#1': [/^(cpu|cuda) \[ 7, 10, 15, 22 \]$/m],
  // The native CPU kernels where the addon was built, else the WebAssembly ones: the same product.
  'kernels-cpu#1': [/^(cpu|cpu-native) \[ 15\.5, -0\.5 \]$/m],
  'eval#1': [/^0\.497\d+\n(1|0\.99999\d+)\n/, /sum of squares .* PASS relative error/],
  // Particle filtering on a toy 3-step solver (seeded), reproducibility, best-of-N, the particle kernel.
  'scaling#1': [
    /^particle-filtering right 8 particles 2$/m,
    /^reproducible: true$/m,
    /^best-of-n 8 samples$/m,
    /^\[ 0, 1, 1, 2 \] 2\.66666666666666\d+$/m,
  ],
};

interface Example {
  id: string;
  code: string;
}

function readmes(): { pkg: string; text: string }[] {
  return readdirSync(join(root, 'packages'))
    .sort()
    .map((pkg) => ({ pkg, text: readFileSync(join(root, 'packages', pkg, 'README.md'), 'utf8') }));
}

function examples(pkg: string, text: string): Example[] {
  const out: Example[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== MARKER) continue;
    if (lines[i + 1] !== '```ts')
      throw new Error(`${pkg}/README.md:${i + 1}: ${MARKER} must come right before a \`\`\`ts line`);
    const end = lines.indexOf('```', i + 2);
    if (end < 0) throw new Error(`${pkg}/README.md:${i + 2}: unclosed \`\`\`ts block`);
    out.push({ id: `${pkg}#${out.length + 1}`, code: `${lines.slice(i + 2, end).join('\n')}\n` });
  }
  return out;
}

const tmp = mkdtempSync(join(root, 'test', '.readme-examples-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('README examples', () => {
  const all = readmes();

  it.each(all.map(({ pkg, text }) => [pkg, text] as const))(
    '%s: has a runnable example, or says it is not implemented',
    (pkg, text) => {
      if (examples(pkg, text).length > 0) return;
      expect(text, `${pkg}/README.md has no ${MARKER} block`).toMatch(/\*\*Status: not implemented\.\*\*/);
    },
  );

  const runnable = all.flatMap(({ pkg, text }) => examples(pkg, text));

  it('finds the marked examples, and each has its expected output here', () => {
    expect(runnable.map((e) => e.id).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(runnable.map((e) => [e.id, e] as const))(
    '%s runs with `npx tsx` and prints what it says',
    async (id, ex) => {
      const file = join(tmp, `${id.replace('#', '-')}.ts`);
      writeFileSync(file, ex.code);
      const run = await npx(['tsx', relative(root, file)]);
      expect({ id, status: run.status, stderr: run.status === 0 ? '' : run.stderr }).toEqual({
        id,
        status: 0,
        stderr: '',
      });
      for (const want of EXPECTED[id] ?? []) {
        if (typeof want === 'string') expect(run.stdout).toContain(want);
        else expect(run.stdout).toMatch(want);
      }
    },
    // Several seconds each when idle (tsx start-up, a model load, SwiftShader); more on a busy machine.
    300_000,
  );
});
