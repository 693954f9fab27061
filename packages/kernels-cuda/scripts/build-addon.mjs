#!/usr/bin/env node
// Builds the optional CUDA addon (build/Release/hasten_cuda.node) with nvcc: every native/kernels/*.cu
// and native/binding.cc become objects under build/obj/, linked with the CUDA runtime linked
// statically (so loading the addon needs no libcudart and, on a machine without a driver, only fails
// when a device is asked for).
//
// The build contract (node-llama-cpp's auto / never / force), chosen by HASTEN_CUDA_BUILD:
//   auto  (default) build when nvcc and Node's headers are found; otherwise, or when the build fails,
//         print ONE line saying why and exit 0: installing Hasten never fails for want of CUDA.
//   never skip (one line), exit 0.
//   force build, and exit 1 with the compiler's output when anything is missing or fails.
// Other settings (environment):
//   HASTEN_NVCC          nvcc to use (default: $CUDA_PATH/bin, $CUDA_HOME/bin, PATH, /usr/local/cuda/bin)
//   HASTEN_CUDA_ARCHS    compute capabilities, ';'-separated (default "80;90": A100, H100/H200; the
//                        last one also embeds PTX for newer GPUs)
//   HASTEN_NODE_INCLUDE  folder with node_api.h (default: <node prefix>/include/node)
//   HASTEN_NAPI_INCLUDE  folder with napi.h (default: the node-addon-api package)
//   HASTEN_BUILD_JOBS    parallel nvcc processes (default 2)
// Flags: --compile-only --out DIR --archs LIST   compile the objects only (the CI compile test uses it)
//        --quiet                                 no progress lines
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(pkg, 'native');
const PREFIX = '@hasten/kernels-cuda build:addon';

function parseArgs(argv) {
  const args = { compileOnly: false, out: join(pkg, 'build'), archs: null, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--compile-only') args.compileOnly = true;
    else if (a === '--quiet') args.quiet = true;
    else if (a === '--out') args.out = resolve(argv[++i]);
    else if (a === '--archs') args.archs = argv[++i];
    else
      throw new Error(
        `${PREFIX}: unknown argument '${a}'; allowed: --compile-only, --out DIR, --archs LIST, --quiet`,
      );
  }
  return args;
}

/** The nvcc to use, or null. */
export function findNvcc(env = process.env) {
  const candidates = [];
  if (env.HASTEN_NVCC) return existsSync(env.HASTEN_NVCC) ? env.HASTEN_NVCC : null;
  for (const root of [env.CUDA_PATH, env.CUDA_HOME]) if (root) candidates.push(join(root, 'bin', 'nvcc'));
  for (const dir of (env.PATH ?? '').split(delimiter)) if (dir) candidates.push(join(dir, 'nvcc'));
  candidates.push('/usr/local/cuda/bin/nvcc');
  return candidates.find((c) => existsSync(c)) ?? null;
}

/** The CUDA sources (kernels) and the binding, relative to native/. */
export function sources() {
  const kernels = readdirSync(join(nativeDir, 'kernels'))
    .filter((f) => f.endsWith('.cu'))
    .sort()
    .map((f) => `kernels/${f}`);
  return { kernels, binding: 'binding.cc' };
}

function gencode(archs) {
  const list = archs
    .split(/[;,\s]+/)
    .filter(Boolean)
    .map((a) => {
      if (!/^\d{2,3}a?$/.test(a))
        throw new Error(`${PREFIX}: HASTEN_CUDA_ARCHS entry '${a}' is not like 80 or 90`);
      return a;
    });
  if (list.length === 0) throw new Error(`${PREFIX}: HASTEN_CUDA_ARCHS is empty`);
  const flags = list.flatMap((a) => ['-gencode', `arch=compute_${a},code=sm_${a}`]);
  const last = list[list.length - 1];
  flags.push('-gencode', `arch=compute_${last},code=compute_${last}`); // PTX for newer GPUs
  return flags;
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
  const nvcc = findNvcc(env);
  if (!nvcc) return { skipped: 'nvcc was not found (set HASTEN_NVCC or CUDA_PATH)' };
  const include = nodeInclude(env);
  if (!include) return { skipped: "Node's headers (node_api.h) were not found (set HASTEN_NODE_INCLUDE)" };
  const archs = args.archs ?? env.HASTEN_CUDA_ARCHS ?? '80;90';
  const jobs = Math.max(1, Number.parseInt(env.HASTEN_BUILD_JOBS ?? '2', 10) || 1);
  const objDir = join(args.out, 'obj');
  mkdirSync(objDir, { recursive: true });
  const { kernels, binding } = sources();
  const headers = readdirSync(nativeDir)
    .filter((f) => f.endsWith('.h') || f.endsWith('.cuh'))
    .map((f) => join(nativeDir, f));
  const newestHeader = Math.max(...headers.map(mtime));
  const common = ['-std=c++17', '-O3', '-Xcompiler', '-fPIC', `-I${nativeDir}`];
  const jobsList = [
    ...kernels.map((src) => ({ src, flags: [...common, ...gencode(archs), '-lineinfo'] })),
    { src: binding, flags: [...common, `-I${include}`, `-I${napiInclude(env)}`] },
  ].map((j) => ({ ...j, obj: join(objDir, `${j.src.replace(/[/.]/g, '_')}.o`) }));
  const flagsFile = join(objDir, 'flags.txt');
  const flagsKey = JSON.stringify({ archs, nvcc });
  const sameFlags =
    existsSync(flagsFile) && (await import('node:fs')).readFileSync(flagsFile, 'utf8') === flagsKey;
  const queue = jobsList.filter(
    (j) => !sameFlags || mtime(j.obj) < Math.max(mtime(join(nativeDir, j.src)), newestHeader),
  );
  const failures = [];
  let next = 0;
  const worker = async () => {
    while (next < queue.length) {
      const j = queue[next++];
      if (!args.quiet) console.log(`${PREFIX}: nvcc ${j.src}`);
      const r = await run(nvcc, ['-c', ...j.flags, '-o', j.obj, join(nativeDir, j.src)]);
      if (r.code !== 0) failures.push(`${j.src}:\n${r.out}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, queue.length) }, worker));
  if (failures.length)
    return { failed: `nvcc failed on ${failures.length} file(s):\n${failures.join('\n')}` };
  writeFileSync(flagsFile, flagsKey);
  const objects = Object.fromEntries(jobsList.map((j) => [j.src, j.obj]));
  if (args.compileOnly) return { objects };
  const releaseDir = join(args.out, 'Release');
  mkdirSync(releaseDir, { recursive: true });
  const addon = join(releaseDir, 'hasten_cuda.node');
  if (queue.length === 0 && mtime(addon) > Math.max(...jobsList.map((j) => mtime(j.obj)))) {
    return { addon, objects, upToDate: true };
  }
  // -cudart static: libcudart_static.a; it dlopens libcuda.so.1 when first used.
  const link = await run(nvcc, [
    '-shared',
    '-cudart',
    'static',
    ...gencode(archs),
    '-o',
    addon,
    ...jobsList.map((j) => j.obj),
    '-lpthread',
    '-ldl',
    '-lrt',
  ]);
  if (link.code !== 0) return { failed: `linking failed:\n${link.out}` };
  let version = 'unknown';
  try {
    version = execFileSync(nvcc, ['--version'], { encoding: 'utf8' }).trim().split('\n').pop();
  } catch {}
  writeFileSync(
    join(args.out, 'build-info.json'),
    `${JSON.stringify({ addon, nvcc, nvccVersion: version, archs, node: process.version, builtAt: new Date().toISOString() }, null, 2)}\n`,
  );
  return { addon, objects };
}

async function main() {
  const env = process.env;
  const mode = env.HASTEN_CUDA_BUILD ?? 'auto';
  if (!['auto', 'never', 'force'].includes(mode)) {
    console.error(`${PREFIX}: HASTEN_CUDA_BUILD='${mode}' is not allowed; use auto, never or force`);
    process.exit(1);
  }
  if (mode === 'never') {
    console.log(`${PREFIX}: skipped (HASTEN_CUDA_BUILD=never); the other backends serve`);
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
      console.error(`${PREFIX}: HASTEN_CUDA_BUILD=force but the addon was not built: ${why}`);
      process.exit(1);
    }
    // auto: one line; the other backends serve.
    const first = why.split('\n')[0];
    console.log(
      `${PREFIX}: CUDA addon not built (${first}${result.failed ? '; HASTEN_CUDA_BUILD=force shows the compiler output' : ''}); the other backends serve`,
    );
    return;
  }
  if (args.compileOnly) {
    console.log(JSON.stringify({ objects: result.objects }));
    return;
  }
  if (!args.quiet) console.log(`${PREFIX}: ${result.upToDate ? 'up to date' : 'built'} ${result.addon}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
