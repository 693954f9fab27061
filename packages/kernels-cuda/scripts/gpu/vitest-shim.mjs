// A minimal stand-in for the part of vitest that src/kernels.gpu.test.ts uses (describe / it /
// afterAll / expect with toBe, toEqual, toBeLessThanOrEqual, toContain), so the device tests can be
// bundled into one file and run with a bare `node` on the GPU machine, which has no node_modules.
// scripts/gpu-prepare.sh bundles with `--alias:vitest=` this file. Results: one line per test, and
// JSON at $HASTEN_GPU_TEST_JSON.
import { writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';

const tests = [];
const afterAlls = [];
const prefix = [];
let skipDepth = 0;

export function describe(name, fn) {
  prefix.push(name);
  fn();
  prefix.pop();
}
describe.skipIf = (cond) => (name, fn) => {
  if (cond) skipDepth++;
  describe(name, fn);
  if (cond) skipDepth--;
};

export function it(name, optsOrFn, maybeFn) {
  const fn = typeof optsOrFn === 'function' ? optsOrFn : maybeFn;
  tests.push({ name: [...prefix, name].join(' > '), fn, skip: skipDepth > 0 });
}
it.skipIf = (cond) => (name, a, b) => {
  if (cond) skipDepth++;
  it(name, a, b);
  if (cond) skipDepth--;
};

export function afterAll(fn) {
  afterAlls.push(fn);
}

function fail(msg) {
  throw new Error(msg);
}
const show = (v) => {
  try {
    return JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? String(x) : x)).slice(0, 300);
  } catch {
    return String(v);
  }
};

export function expect(actual) {
  return {
    toBe: (want) => Object.is(actual, want) || fail(`expected ${show(actual)} to be ${show(want)}`),
    toEqual: (want) =>
      isDeepStrictEqual(actual, want) || fail(`expected ${show(actual)} to equal ${show(want)}`),
    toBeLessThanOrEqual: (want) => actual <= want || fail(`expected ${show(actual)} <= ${show(want)}`),
    toContain: (want) => actual.includes(want) || fail(`expected ${show(actual)} to contain ${show(want)}`),
  };
}

async function run() {
  const results = [];
  for (const t of tests) {
    if (t.skip) {
      results.push({ name: t.name, status: 'skipped' });
      console.log(`SKIP ${t.name}`);
      continue;
    }
    const t0 = performance.now();
    try {
      await t.fn();
      results.push({ name: t.name, status: 'passed', ms: performance.now() - t0 });
      console.log(`PASS ${t.name}`);
    } catch (e) {
      results.push({ name: t.name, status: 'failed', error: String(e?.stack ?? e) });
      console.log(`FAIL ${t.name}\n     ${String(e?.message ?? e)}`);
    }
  }
  for (const f of afterAlls) await f();
  const count = (s) => results.filter((r) => r.status === s).length;
  const summary = { passed: count('passed'), failed: count('failed'), skipped: count('skipped') };
  console.log(`device tests: ${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped`);
  if (process.env.HASTEN_GPU_TEST_JSON)
    writeFileSync(process.env.HASTEN_GPU_TEST_JSON, JSON.stringify({ summary, results }, null, 2));
  process.exitCode = summary.failed > 0 ? 1 : 0;
}

// Tests register synchronously at import; run them once the bundle's top level has finished.
setTimeout(run, 0);
