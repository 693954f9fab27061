// The user-facing export command (`npm run export-onnx`, scripts/export-onnx.ts + tools/fixtures/
// export_hf.py) on the random-weight family checkpoints and a generated Llama with every optional
// bias: the export loads in OrtCausalLM, matches the native model through the parity check,
// reproduces the PyTorch reference, and the parity check fails when the two models differ. Needs Debian's python3-numpy and python3-onnx (not torch).
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OrtCausalLM } from '@hasten/models/ort';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureDir, readReference, relativeError } from '../packages/models/src/testing';
import { findPython, missingPythonModules } from '../scripts/python';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const python = findPython();
const missing = missingPythonModules(python, ['numpy', 'onnx']);
const skip = missing.length > 0;
// Each case spawns Python and Node (a few seconds each on a busy 2-core machine).
const TIMEOUT = 180_000;
const why = `${python} cannot import ${missing.join(', ')}; apt-get install python3-numpy python3-onnx to run them`;
if (skip) console.warn(`export-onnx tests SKIPPED: ${why}`);

/** `npm run -s <script> -- args` from the repo root (so relative paths resolve there). */
function npmRun(script: string, args: string[]) {
  const r = spawnSync('npm', ['run', '-s', script, '--', ...args], { cwd: ROOT, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** The overall max |diff| that the parity summary line reports. */
function parityDiff(out: string): number {
  const m = /^ {2}max \|diff\| (\S+) \(max \|logit\|/m.exec(out);
  if (!m) throw new Error(`no parity summary in:\n${out}`);
  return Number(m[1]);
}

describe.skipIf(skip)(`npm run export-onnx${skip ? ` (SKIPPED: ${why})` : ''}`, () => {
  let tmp = '';
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'hasten-export-'));
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  // qwen2: q/k/v biases, tied embeddings, GQA 4/2, f32; mistral: bf16 weights, GQA 4/1, rope_theta 1e6.
  it.each(['qwen2-tied', 'mistral-gqa4'])(
    'exports families/%s and passes the parity check',
    (name) => {
      const src = fixtureDir(`families/${name}`);
      const out = join(tmp, name);
      const r = npmRun('export-onnx', [src, '--out', out]);
      expect(r.status, r.out).toBe(0);
      expect(r.out).toContain('parity: PASS');
      // f32 against f32 on a 2-layer model: summation-order noise only.
      expect(parityDiff(r.out)).toBeLessThan(1e-5);
      expect(r.out).toMatch(/argmax agrees at 16\/16/);
      expect(existsSync(join(out, 'onnx', 'model.onnx'))).toBe(true);
      expect(existsSync(join(out, 'onnx', 'model.onnx_data'))).toBe(false); // small: weights inline
      for (const f of [
        'config.json',
        'generation_config.json',
        'tokenizer_config.json',
        'special_tokens_map.json',
      ]) {
        expect(readFileSync(join(out, f), 'utf8')).toBe(readFileSync(join(src, f), 'utf8'));
      }
      // A second export into the same folder must not overwrite silently.
      const again = npmRun('export-onnx', [src, '--out', out, '--skip-parity']);
      expect(again.status).toBe(2);
      expect(again.out).toMatch(/already exists; pass --force/);
    },
    TIMEOUT,
  );

  it(
    'sharded Llama-3 rope scaling with external data reproduces the PyTorch reference over 200 positions',
    async () => {
      const src = fixtureDir('families/llama3-rope-scaling');
      const out = join(tmp, 'llama3');
      const r = npmRun('export-onnx', [src, '--out', out, '--external-data', 'always']);
      expect(r.status, r.out).toBe(0);
      expect(r.out).toContain('parity: PASS');
      expect(existsSync(join(out, 'onnx', 'model.onnx_data'))).toBe(true);
      // The reference runs to position 199, past original_max_position_embeddings (64), where the
      // scaled low frequencies matter; it was computed by llama_ref.py (HF eager semantics).
      const ref = await readReference(src);
      const model = await OrtCausalLM.load(out, { intraOpNumThreads: 1 });
      const { logits } = await model.forward({ tokens: ref.input_ids });
      expect(await relativeError(logits, ref.logits)).toBeLessThan(1e-4);
      logits.dispose();
      model.dispose();
      // A longer parity run through the cache at those positions too.
      const p = npmRun('onnx-parity', [src, out, '--prefill', '180', '--decode', '8']);
      expect(p.status, p.out).toBe(0);
      expect(parityDiff(p.out)).toBeLessThan(1e-5);
    },
    TIMEOUT,
  );

  it(
    'covers o_proj and MLP biases, linear RoPE scaling and an untied head (a generated bf16 Llama)',
    () => {
      const src = join(tmp, 'llama-bias-tiny');
      const gen = spawnSync(
        python,
        [join(ROOT, 'tools/fixtures/random_checkpoint.py'), '--shape', 'llama-bias-tiny', '--out', src],
        { encoding: 'utf8' },
      );
      expect(gen.status, gen.stderr).toBe(0);
      const r = npmRun('export-onnx', [src]); // --out defaults to the model folder
      expect(r.status, r.out).toBe(0);
      expect(r.out).toContain('parity: PASS');
      expect(parityDiff(r.out)).toBeLessThan(1e-5);
      expect(existsSync(join(src, 'onnx', 'model.onnx'))).toBe(true);
    },
    TIMEOUT,
  );

  it(
    'fails the parity check when the native weights differ from the exported ones',
    () => {
      const src = fixtureDir('families/qwen2-tied');
      const out = join(tmp, 'qwen2-for-tamper');
      expect(npmRun('export-onnx', [src, '--out', out, '--skip-parity']).status).toBe(0);
      // The same checkpoint with the final norm weight scaled by 1.25.
      const bad = join(tmp, 'qwen2-tampered');
      mkdirSync(bad);
      copyFileSync(join(src, 'config.json'), join(bad, 'config.json'));
      const bytes = readFileSync(join(src, 'model.safetensors'));
      const n = Number(bytes.readBigUInt64LE(0));
      const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
      const info = header['model.norm.weight'];
      expect(info.dtype).toBe('F32');
      for (let o = 8 + n + info.data_offsets[0]; o < 8 + n + info.data_offsets[1]; o += 4) {
        bytes.writeFloatLE(bytes.readFloatLE(o) * 1.25, o);
      }
      writeFileSync(join(bad, 'model.safetensors'), bytes);
      const r = npmRun('onnx-parity', [bad, out]);
      expect(r.status, r.out).toBe(1);
      expect(r.out).toContain('parity: FAIL');
      expect(parityDiff(r.out)).toBeGreaterThan(1e-2);
    },
    TIMEOUT,
  );

  it(
    'refuses an architecture it cannot reproduce, naming it',
    () => {
      const bad = join(tmp, 'gpt2');
      mkdirSync(bad);
      const cfg = JSON.parse(readFileSync(join(fixtureDir('families/llama-mha'), 'config.json'), 'utf8'));
      writeFileSync(
        join(bad, 'config.json'),
        JSON.stringify({ ...cfg, model_type: 'gpt2', architectures: ['GPT2LMHeadModel'] }),
      );
      const r = npmRun('export-onnx', [bad]);
      expect(r.status).toBe(2);
      expect(r.out).toMatch(
        /unsupported architecture 'gpt2'; supported model_type values: llama, mistral, qwen2/,
      );
    },
    TIMEOUT,
  );
});
