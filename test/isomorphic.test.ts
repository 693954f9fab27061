/**
 * Every package's main entry point must run unchanged in a browser (DESIGN.md §1): no module
 * reachable from its src/index.ts may import a Node built-in (fs, path, worker_threads, ...) or use
 * Node's `Buffer`, `process` or `require`. Node-only code lives behind a `/node` or `/ort` subpath
 * (src/node.ts, src/ort/), which index.ts must not reach. The walk follows every static and dynamic
 * relative import, so a new file cannot slip past it. kernels-cuda is Node-only by design.
 */

import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const PACKAGES = join(dirname(fileURLToPath(import.meta.url)), '..', 'packages');
const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** Import specifiers of a module: `import ... from`, `export ... from`, bare `import '...'` and `import('...')`. */
function specifiers(code: string): string[] {
  const out: string[] = [];
  const re =
    /(?:^|[;\s])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|[;\s])import\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const m of code.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

/** Uses of Node globals, outside comments. */
function nodeGlobals(code: string): string[] {
  const stripped = code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const found: string[] = [];
  if (/(?<![\w$.])Buffer\s*[.(]/.test(stripped)) found.push('Buffer');
  if (/(?<![\w$.])process\s*\./.test(stripped)) found.push('process');
  if (/(?<![\w$.])require\s*\(/.test(stripped)) found.push('require');
  if (/(?<![\w$.])__dirname\b/.test(stripped)) found.push('__dirname');
  return found;
}

/** Every problem found walking the relative imports from `entry` (a path relative to a package's src/). */
function isomorphicProblems(entry: string, read: (file: string) => string): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const code = read(file);
    for (const g of nodeGlobals(code)) problems.push(`${file} uses Node's ${g}`);
    for (const spec of specifiers(code)) {
      if (spec.startsWith('.')) {
        const target = join(dirname(file), spec.endsWith('.js') ? spec.slice(0, -3) : spec);
        queue.push(target.endsWith('.ts') ? target : `${target}.ts`);
      } else if (NODE_BUILTINS.has(spec) || spec.startsWith('node:')) {
        problems.push(`${file} imports the Node built-in '${spec}'`);
      }
    }
  }
  return problems;
}

const reader = (pkg: string) => (file: string) => {
  const path = join(PACKAGES, pkg, 'src', file);
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new Error(
      `isomorphic check: cannot resolve ${relative(PACKAGES, path)} (an import with another extension?)`,
    );
  }
};

/** Package -> files its entry point must reach (so the walk is known to cover it) and must not. */
const ENTRIES: Record<string, { reaches: string[]; avoids: string[] }> = {
  'core-tensor': {
    reaches: ['tensor.ts', 'ops/sdpa/sdpa.ts', 'safetensors/file.ts'],
    avoids: ['node.ts', 'ops/matmul/thread-pool.ts'],
  },
  'kernels-webgpu': { reaches: ['backend.ts', 'register.ts', 'ops/matmul.ts'], avoids: ['node.ts'] },
  kv: { reaches: ['contiguous.ts', 'eviction/scorer.ts'], avoids: [] },
  models: { reaches: ['llama/model.ts', 'tokenizers/hf.ts'], avoids: ['node.ts', 'ort/model.ts'] },
  eval: { reaches: ['harness/runBenchmark.ts'], avoids: ['node.ts'] },
  decoding: { reaches: ['generation/generate.ts', 'speculative/speculative-decode.ts'], avoids: [] },
  diffusion: { reaches: ['schedulers/dpm-solver-multistep.ts', 'sample.ts'], avoids: [] },
  scaling: { reaches: ['strategy.ts', 'smc.ts'], avoids: [] },
};

describe.each(Object.keys(ENTRIES))('@hasten/%s entry point', (pkg) => {
  it('reaches no Node built-in, Buffer, process or require from src/index.ts', () => {
    const reached: string[] = [];
    const read = reader(pkg);
    const problems = isomorphicProblems('index.ts', (f) => {
      reached.push(f);
      return read(f);
    });
    expect(problems).toEqual([]);
    expect(reached).toEqual(expect.arrayContaining(ENTRIES[pkg].reaches));
    for (const f of ENTRIES[pkg].avoids) expect(reached).not.toContain(f);
  });
});

describe('the isomorphic checker', () => {
  it('sees the Node dependencies where they are', () => {
    expect(isomorphicProblems('node.ts', reader('core-tensor'))).toEqual(
      expect.arrayContaining([
        "safetensors/node.ts imports the Node built-in 'node:fs/promises'",
        "ops/matmul/thread-pool.ts imports the Node built-in 'node:worker_threads'",
      ]),
    );
  });

  it('catches each kind of Node dependency', () => {
    const files: Record<string, string> = {
      'a.ts': "import { b } from './b';\nexport { c } from './c.js';\nconst m = await import('./d');",
      'b.ts': "import { readFile } from 'fs';\nexport const b = 1;",
      'c.ts': "// Buffer.from in a comment is fine\nexport const c = Buffer.from('x');",
      'd.ts': "import 'node:path';\nexport const d = process.env.X; /* require('x') */",
    };
    expect(isomorphicProblems('a.ts', (f) => files[f]).sort()).toEqual([
      "b.ts imports the Node built-in 'fs'",
      "c.ts uses Node's Buffer",
      "d.ts imports the Node built-in 'node:path'",
      "d.ts uses Node's process",
    ]);
  });
});
