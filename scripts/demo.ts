/**
 * The main job until the playground exists: load the committed code model and complete a Python
 * prompt greedily, once on the native CPU path (core-tensor ops, WebAssembly matmul) and once
 * through ONNX Runtime, then print both completions, whether they agree, and decode speed.
 *
 *   npm run demo -- [--model fixtures/code-target] [--tokens 96] [--prompt "def fib(n):\n"]
 */
import { parseArgs } from 'node:util';
import { tensor } from '@hasten/core-tensor';
import type { CausalLM } from '@hasten/models';
import { loadCausalLM, loadTokenizer } from '@hasten/models/node';
import { OrtCausalLM } from '@hasten/models/ort';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'fixtures/code-target' },
    tokens: { type: 'string', default: '96' },
    prompt: {
      type: 'string',
      default: 'import os\n\n\ndef read_lines(path):\n    """Return the lines of a file."""\n',
    },
  },
});
const steps = Number(values.tokens);
if (!Number.isInteger(steps) || steps < 1 || steps > 900) {
  throw new Error(`--tokens must be an integer in 1..900, got ${values.tokens}`);
}
const prompt = values.prompt.replaceAll('\\n', '\n');

async function greedy(
  model: CausalLM,
  ids: number[],
): Promise<{ tokens: number[]; prefillMs: number; decodeMs: number }> {
  const cache = model.createCache({ maxLength: ids.length + steps });
  const tokens: number[] = [];
  let input = ids;
  const t0 = performance.now();
  let prefillMs = 0;
  for (let i = 0; i < steps; i++) {
    const t = tensor(Int32Array.from(input), [1, input.length], { dtype: 'i32' });
    const { logits } = await model.forward({ tokens: t, cache, logitsToKeep: 1 });
    const row = await logits.data();
    t.dispose();
    logits.dispose();
    let best = 0;
    for (let v = 1; v < row.length; v++) if (row[v] > row[best]) best = v;
    tokens.push(best);
    input = [best];
    if (i === 0) prefillMs = performance.now() - t0;
  }
  const decodeMs = performance.now() - t0 - prefillMs;
  cache.dispose();
  return { tokens, prefillMs, decodeMs };
}

const tok = loadTokenizer(values.model);
const ids = tok.encode(prompt);
console.log(`model: ${values.model}   prompt: ${ids.length} tokens   generating ${steps} tokens greedily\n`);

const native = await loadCausalLM(values.model);
const ort = await OrtCausalLM.load(values.model, { intraOpNumThreads: 1 });
const results: [string, Awaited<ReturnType<typeof greedy>>][] = [];
for (const [name, model] of [
  ['native CPU (core-tensor)', native],
  ['ONNX Runtime', ort],
] as const) {
  const r = await greedy(model, ids);
  results.push([name, r]);
  console.log(`--- ${name} ---\n${prompt}\x1b[1m${tok.decode(r.tokens)}\x1b[0m\n`);
}
for (const [name, r] of results) {
  const tps = ((steps - 1) / r.decodeMs) * 1000;
  console.log(
    `${name.padEnd(26)} prefill ${r.prefillMs.toFixed(1).padStart(7)} ms   decode ${tps.toFixed(1).padStart(7)} tok/s`,
  );
}
const same = results[0][1].tokens.every((t, i) => t === results[1][1].tokens[i]);
console.log(`\nnative and ONNX Runtime tokens ${same ? 'are identical' : 'DIFFER'}`);
native.dispose();
ort.dispose();
if (!same) process.exit(1);
