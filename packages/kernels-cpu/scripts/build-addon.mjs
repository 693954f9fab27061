#!/usr/bin/env node
// Builds the optional CPU kernel addon (build/Release/hasten_cpu.node) with the system C++ compiler:
// native/binding.cc and every native/kernels/*.cc become objects under build/obj/, linked into one
// shared object. Called directly (not through node-gyp, which would download Node's headers: nothing
// is downloaded here); the headers are the ones installed with Node (<node prefix>/include/node) and
// node-addon-api's napi.h. One binary runs on any x86-64: the AVX2 and AVX-512 kernels are compiled
// with per-function target attributes and chosen at run time by cpuid (native/binding.cc).
//
// The build contract (the one of @hasten/kernels-cuda, node-llama-cpp's auto / never / force),
// chosen by HASTEN_CPU_BUILD:
//   auto  (default) build when a C++ compiler and Node's headers are found; otherwise, or when the
//         build fails, print ONE line saying why and exit 0: installing Hasten never fails for want
//         of a compiler (the WebAssembly kernels serve).
//   never skip (one line), exit 0.
//   force build, and exit 1 with the compiler's output when anything is missing or fails.
// Other settings (environment):
//   HASTEN_CXX           C++ compiler to use (default: $CXX, then c++, g++, clang++ on PATH)
//   HASTEN_NODE_INCLUDE  folder with node_api.h (default: <node prefix>/include/node)
//   HASTEN_NAPI_INCLUDE  folder with napi.h (default: the node-addon-api package)
//   HASTEN_BUILD_JOBS    parallel compiler processes (default 2)
// Flags: --out DIR   build there instead of build/;  --quiet   no progress lines
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(pkg, 'native');
const PREFIX = '@hasten/kernels-cpu build:addon';

function parseArgs(argv) {
  const args = { out: join(pkg, 'build'), quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quiet') args.quiet = true;
    else if (a === '--out') args.out = resolve(argv[++i]);
    else throw new Error(`${PREFIX}: unknown argument '${a}'; allowed: --out DIR, --quiet`);
  }
  return args;
}

/** The C++ compiler to use, or null. */
export function findCompiler(env = process.env) {
  const explicit = env.HASTEN_CXX ?? env.CXX;
  const onPath = (name) => {
    if (isAbsolute(name)) return existsSync(name) ? name : null;
    for (const dir of (env.PATH ?? '').split(delimiter))
      if (dir && existsSync(join(dir, name))) return join(dir, name);
    return null;
  };
  if (explicit) return onPath(explicit);
  for (const c of ['c++', 'g++', 'clang++']) {
    const p = onPath(c);
    if (p) return p;
  }
  return null;
}

/** The sources, relative to native/. */
export function sources() {
  const kernels = readdirSync(join(nativeDir, 'kernels'))
    .filter((f) => f.endsWith('.cc'))
    .sort()
    .map((f) => `kernels/${f}`);
  return [...kernels, 'binding.cc'];
}

function nodeInclude(env = process.env) {
  const dir = env.HASTEN_NODE_INCLUDE ?? join(dirname(process.execPath), '..', 'include', 'node');
  return existsSync(join(dir, 'node_api.h')) ? dir : null;
}

function napiInclude(env = process.env) {
  if (env.HASTEN_NAPI_INCLUDE) return env.HASTEN_NAPI_INCLUDE;
  const require = createRequire(join(pkg, 'package.json'));
  return dirname(require.resolve('node-addon-api/package.json'));
}

function run(cmd, args) {
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', (e) => resolvePromise({ code: -1, out: String(e) }));
    child.on('close', (code) => resolvePromise({ code, out }));
  });
}

const mtime = (f) => (existsSync(f) ? statSync(f).mtimeMs : 0);

async function build(args, env) {
  const cxx = findCompiler(env);
  if (!cxx) return { skipped: 'no C++ compiler was found (set HASTEN_CXX or CXX)' };
  const include = nodeInclude(env);
  if (!include) return { skipped: "Node's headers (node_api.h) were not found (set HASTEN_NODE_INCLUDE)" };
  const jobs = Math.max(1, Number.parseInt(env.HASTEN_BUILD_JOBS ?? '2', 10) || 1);
  const objDir = join(args.out, 'obj');
  mkdirSync(objDir, { recursive: true });
  const headers = [...readdirSync(nativeDir).filter((f) => f.endsWith('.h'))].map((f) => join(nativeDir, f));
  const newestHeader = Math.max(...headers.map(mtime));
  // GCC 12 reports its own AVX-512 intrinsics' placeholder operands as uninitialized: not ours.
  const flags = [
    '-std=c++17',
    '-O3',
    '-fPIC',
    '-fvisibility=hidden',
    '-Wall',
    '-Wno-uninitialized',
    '-Wno-maybe-uninitialized',
  ];
  const includes = [`-I${nativeDir}`, `-I${include}`, `-I${napiInclude(env)}`];
  const list = sources().map((src) => ({ src, obj: join(objDir, `${src.replace(/[/.]/g, '_')}.o`) }));
  const flagsFile = join(objDir, 'flags.txt');
  const flagsKey = JSON.stringify({ cxx, flags });
  const sameFlags = existsSync(flagsFile) && readFileSync(flagsFile, 'utf8') === flagsKey;
  const queue = list.filter(
    (j) => !sameFlags || mtime(j.obj) < Math.max(mtime(join(nativeDir, j.src)), newestHeader),
  );
  const failures = [];
  let next = 0;
  const worker = async () => {
    while (next < queue.length) {
      const j = queue[next++];
      if (!args.quiet) console.log(`${PREFIX}: ${cxx} ${j.src}`);
      const r = await run(cxx, ['-c', ...flags, ...includes, '-o', j.obj, join(nativeDir, j.src)]);
      if (r.code !== 0) failures.push(`${j.src}:\n${r.out}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, queue.length) }, worker));
  if (failures.length)
    return { failed: `the compiler failed on ${failures.length} file(s):\n${failures.join('\n')}` };
  writeFileSync(flagsFile, flagsKey);
  const releaseDir = join(args.out, 'Release');
  mkdirSync(releaseDir, { recursive: true });
  const addon = join(releaseDir, 'hasten_cpu.node');
  if (queue.length === 0 && mtime(addon) > Math.max(...list.map((j) => mtime(j.obj)))) {
    return { addon, upToDate: true };
  }
  const link = await run(cxx, ['-shared', '-o', addon, ...list.map((j) => j.obj), '-lpthread']);
  if (link.code !== 0) return { failed: `linking failed:\n${link.out}` };
  let version = 'unknown';
  try {
    version = execFileSync(cxx, ['--version'], { encoding: 'utf8' }).trim().split('\n')[0];
  } catch {}
  writeFileSync(
    join(args.out, 'build-info.json'),
    `${JSON.stringify({ addon, cxx, cxxVersion: version, node: process.version, builtAt: new Date().toISOString() }, null, 2)}\n`,
  );
  return { addon };
}

async function main() {
  const env = process.env;
  const mode = env.HASTEN_CPU_BUILD ?? 'auto';
  if (!['auto', 'never', 'force'].includes(mode)) {
    console.error(`${PREFIX}: HASTEN_CPU_BUILD='${mode}' is not allowed; use auto, never or force`);
    process.exit(1);
  }
  if (mode === 'never') {
    console.log(`${PREFIX}: skipped (HASTEN_CPU_BUILD=never); the WebAssembly kernels serve`);
    return;
  }
  const args = parseArgs(process.argv.slice(2));
  let result;
  try {
    result = await build(args, env);
  } catch (e) {
    result = { failed: e instanceof Error ? e.message : String(e) };
  }
  if (result.skipped || result.failed) {
    const why = result.skipped ?? result.failed;
    if (mode === 'force') {
      console.error(`${PREFIX}: HASTEN_CPU_BUILD=force but the addon was not built: ${why}`);
      process.exit(1);
    }
    const first = why.split('\n')[0];
    console.log(
      `${PREFIX}: CPU addon not built (${first}${result.failed ? '; HASTEN_CPU_BUILD=force shows the compiler output' : ''}); the WebAssembly kernels serve`,
    );
    return;
  }
  if (!args.quiet) console.log(`${PREFIX}: ${result.upToDate ? 'up to date' : 'built'} ${result.addon}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
