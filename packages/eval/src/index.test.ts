import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as api from './index.js';

// The main entry must run in a browser: walk the import graph from src/index.ts and check that no
// Node built-in (fs, path, os, child_process, ...) and no Buffer is reachable.

const NODE_MODULES =
  /^(node:|fs$|fs\/|path$|os$|child_process$|url$|module$|crypto$|stream$|util$|process$|worker_threads$|cli-progress$|commander$)/;

function reachable(entry: string): Map<string, string> {
  const seen = new Map<string, string>();
  const stack = [entry];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    const text = readFileSync(file, 'utf8');
    seen.set(file, text);
    for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g)) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith('.')) stack.push(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
    }
  }
  return seen;
}

describe('@hasten/eval entry', () => {
  it('is isomorphic: no Node built-ins or Buffer reachable from src/index.ts', () => {
    const files = reachable(join(__dirname, 'index.ts'));
    expect(files.size).toBeGreaterThan(30);
    for (const [file, text] of files) {
      expect(file).not.toMatch(/[\\/]src[\\/]node[\\/]|cli\.ts$/);
      for (const m of text.matchAll(/from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g)) {
        const spec = (m[1] ?? m[2])!;
        expect(NODE_MODULES.test(spec), `${file} imports ${spec}`).toBe(false);
      }
      expect(/\bBuffer\b/.test(text), `${file} mentions Buffer`).toBe(false);
    }
  });

  it('exports the main API by name', () => {
    for (const name of [
      'passAtK',
      'frechetDistance',
      'ssim',
      'runBenchmark',
      'arithmeticTask',
      'renderReport',
      'benchResultSchema',
    ]) {
      expect(typeof (api as Record<string, unknown>)[name]).not.toBe('undefined');
    }
  });
});
