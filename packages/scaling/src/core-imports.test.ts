import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The core stays model-free (issue 12, DESIGN.md): nothing under src/ except src/adapters/ may import
// @hasten/models, @hasten/decoding, @hasten/diffusion or @hasten/kv, nor the adapters themselves (they
// are the `@hasten/scaling/adapters` entry, never re-exported by the core's index).
const SRC = fileURLToPath(new URL('.', import.meta.url));
const FORBIDDEN =
  /from\s+['"]@hasten\/(models|decoding|diffusion|kv)(\/[^'"]*)?['"]|import\(\s*['"]@hasten\/(models|decoding|diffusion|kv)|from\s+['"](\.\.?\/)+adapters/;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('the scaling core', () => {
  it('imports no model package outside src/adapters/', () => {
    const all = files(SRC).map((f) => relative(SRC, f));
    expect(all.length).toBeGreaterThan(40);
    const offenders = all.filter(
      (f) =>
        !f.startsWith('adapters') &&
        f !== 'core-imports.test.ts' &&
        FORBIDDEN.test(readFileSync(join(SRC, f), 'utf8')),
    );
    expect(offenders).toEqual([]);
    // The pattern does catch such an import.
    expect(FORBIDDEN.test("import { generate } from '@hasten/decoding';")).toBe(true);
    expect(FORBIDDEN.test("import { PagedKVPool } from '@hasten/kv';")).toBe(true);
    expect(FORBIDDEN.test("export { llmProposer } from './adapters/llm-proposer';")).toBe(true);
    expect(FORBIDDEN.test("import { fkSteering } from '../strategies/fk-steering';")).toBe(false);
  });
});
