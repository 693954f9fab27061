/**
 * The random-weight Qwen2-0.5B-shaped checkpoint of the real-size benches (real-size.ts here,
 * packages/decoding/bench/projection.ts) and its ONNX export, each made only when `dir` lacks it:
 * tools/fixtures/random_checkpoint.py writes model.safetensors and config.json, then
 * `npm run export-onnx -- <dir> --skip-parity` adds onnx/.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

function run(cmd: string, argv: string[], cwd: string): number {
  const t = performance.now();
  const r = spawnSync(cmd, argv, { cwd, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (exit ${r.status})`);
  return performance.now() - t;
}

/** Makes what `dir` lacks (the ONNX export unless `onnx: false`); returns the milliseconds spent writing the checkpoint and exporting (0: reused). */
export function ensureRealSizeCheckpoint(
  dir: string,
  root: string,
  python: string,
  { onnx = true }: { onnx?: boolean } = {},
): { genMs: number; exportMs: number } {
  let genMs = 0;
  let exportMs = 0;
  if (!existsSync(join(dir, 'model.safetensors'))) {
    genMs = run(python, [join(root, 'tools/fixtures/random_checkpoint.py'), '--out', dir], root);
  }
  if (onnx && !existsSync(join(dir, 'onnx', 'model.onnx'))) {
    exportMs = run('npm', ['run', '-s', 'export-onnx', '--', dir, '--skip-parity'], root);
  }
  return { genMs, exportMs };
}
