/**
 * Bench prompts shared by run.ts and projection.ts: byte-level code prompts cut from the held-out
 * CPython files of fixtures/corpus/heldout (files the fixtures never saw in training).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findRepoRoot } from '@hasten/eval/node';

const heldoutDir = () => join(findRepoRoot(), 'fixtures/corpus/heldout');
const heldoutFiles = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.py'))
    .sort();

/** Held-out code prompts: BOS + 200 bytes from a line start of each held-out file. */
export function heldout(count: number): number[][] {
  const dir = heldoutDir();
  return heldoutFiles(dir)
    .slice(0, count)
    .map((f) => {
      const bytes = readFileSync(join(dir, f));
      let at = Math.floor(bytes.length / 3);
      while (at < bytes.length && bytes[at - 1] !== 0x0a) at++;
      return [256, ...bytes.subarray(at, at + 200)];
    });
}

/** Code editing: a block of a file, a marker, then the block's first line again (the rest repeats). */
export function editing(count: number): number[][] {
  const dir = heldoutDir();
  return heldoutFiles(dir)
    .slice(count, 2 * count)
    .map((f) => {
      const bytes = readFileSync(join(dir, f));
      let at = Math.floor(bytes.length / 2);
      while (at < bytes.length && bytes[at - 1] !== 0x0a) at++;
      const block = [...bytes.subarray(at, at + 240)];
      const firstLine = block.slice(0, block.indexOf(0x0a) + 1);
      const marker = [...Buffer.from('\n# the same code, reformatted:\n')];
      return [256, ...block, ...marker, ...firstLine];
    });
}
