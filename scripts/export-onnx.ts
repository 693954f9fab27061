/**
 * Export a Llama-family Hugging Face checkpoint (llama, mistral, qwen2; f32/f16/bf16 safetensors, one
 * file or sharded) to our lean ONNX graph, then check it against the native model.
 *
 *   npm run export-onnx -- <hf-folder> [--out <dir>] [--external-data auto|always|never] [--force]
 *                          [--skip-parity] [--tolerance 1e-3] [--python <path>]
 *
 * 1. tools/fixtures/export_hf.py (numpy + onnx, no torch) writes <out>/onnx/model.onnx (weights in
 *    <out>/onnx/model.onnx_data above 1.5 GB) and copies config.json and the tokenizer files;
 * 2. scripts/onnx-parity.ts compares logits of `loadCausalLM(<hf-folder>)` and `OrtCausalLM.load(<out>)`
 *    on fixed tokens (prefill, then decode steps through the cache) and exits 1 beyond tolerance.
 * <out> defaults to the model folder, so one folder then serves both loaders.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { checkParity, formatParity, numberOption } from './onnx-parity';
import { DEBIAN_PACKAGES, findPython, missingPythonModules } from './python';

const USAGE =
  'usage: npm run export-onnx -- <hf-folder> [--out <dir>] [--external-data auto|always|never] [--force] [--skip-parity] [--tolerance 1e-3] [--python <path>]';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    out: { type: 'string' },
    'external-data': { type: 'string', default: 'auto' },
    force: { type: 'boolean', default: false },
    'skip-parity': { type: 'boolean', default: false },
    tolerance: { type: 'string' },
    python: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help || positionals.length !== 1) {
  console.error(USAGE);
  process.exit(values.help ? 0 : 2);
}
if (!['auto', 'always', 'never'].includes(values['external-data'])) {
  console.error(`--external-data must be auto, always or never, got ${values['external-data']}`);
  process.exit(2);
}
const tolerance = numberOption('tolerance', values.tolerance, 1e-3);

// npm runs scripts from the repo root; paths are relative to where it was invoked.
// biome-ignore lint/suspicious/noUndeclaredEnvVars: set by npm for `npm run`; not a turbo task
const cwd = process.env.INIT_CWD ?? process.cwd();
const src = resolve(cwd, positionals[0]);
const out = resolve(cwd, values.out ?? positionals[0]);

const python = findPython(values.python);
const missing = missingPythonModules(python, ['numpy', 'onnx']);
if (missing.length) {
  console.error(
    `export-onnx: ${python} cannot import ${missing.join(', ')}; on Debian: apt-get install ${missing.map((m) => DEBIAN_PACKAGES[m]).join(' ')} (or set HASTEN_PYTHON / --python)`,
  );
  process.exit(3);
}

const exporter = fileURLToPath(new URL('../tools/fixtures/export_hf.py', import.meta.url));
const args = [exporter, src, '--out', out, '--external-data', values['external-data']];
if (values.force) args.push('--force');
const run = spawnSync(python, args, { stdio: 'inherit' });
if (run.status !== 0) process.exit(run.status ?? 1);

if (values['skip-parity']) {
  console.log('export-onnx: parity check skipped (--skip-parity)');
  process.exit(0);
}
const report = await checkParity(src, out, { tolerance });
console.log(formatParity(report));
process.exit(report.pass ? 0 : 1);
