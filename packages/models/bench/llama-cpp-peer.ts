/**
 * @file node-llama-cpp (https://github.com/withcatai/node-llama-cpp, llama.cpp's Node bindings) as
 * the CPU peer of the decode benches and of the GGUF parity test. It lives in `tools/peers/`, apart
 * from the workspaces (scripts/setup.sh installs it with only its prebuilt CPU binaries), so it is
 * loaded here by path; when it is not installed `loadLlamaCppPeer` says why instead of throwing.
 *
 * llama.cpp runs offline: `getLlama({ gpu: false, build: 'never' })` takes the prebuilt binaries
 * of `@node-llama-cpp/linux-x64` and never downloads or compiles. Contexts keep an f32 KV cache
 * and no flash attention (llama.cpp's defaults are an f16 cache and flash attention where
 * supported), so that the f32 file is compared with Hasten's f32 model on equal terms. Tokens are
 * fed as ids: the fixtures' byte vocabulary is never tokenized from text.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { LlamaModel } from '@hasten/models';
import { saveGGUF } from '@hasten/models/node';
import { byteTokenizerVocab } from '../src/quant/gguf-llama';
import { fillerVocab, saveQwen2GGUF } from './qwen2-gguf';

/** The part of node-llama-cpp's API used here (its own types are not on the workspaces' path). */
export interface NlcSequence {
  readonly nextTokenIndex: number;
  evaluate(tokens: number[], options?: { temperature?: number }): AsyncGenerator<number, void, unknown>;
  evaluateWithoutGeneratingNewTokens(tokens: number[]): Promise<void>;
  controlledEvaluate(
    input: (number | [number, { generateNext?: { token?: boolean; logits?: boolean } }])[],
  ): Promise<({ next: { token?: number | null; logits?: Map<number, number> } } | undefined)[]>;
  eraseContextTokenRanges(ranges: { start: number; end: number }[]): Promise<void>;
}
interface NlcContext {
  getSequence(): NlcSequence;
  dispose(): Promise<void>;
}
interface NlcModel {
  createContext(options: Record<string, unknown>): Promise<NlcContext>;
  dispose(): Promise<void>;
}
export interface NlcLlama {
  readonly buildType: string;
  loadModel(options: { modelPath: string; gpuLayers?: number }): Promise<NlcModel>;
  dispose(): Promise<void>;
}
export interface NlcModule {
  getLlama(options: Record<string, unknown>): Promise<NlcLlama>;
}

/** A loaded GGUF file in llama.cpp with one sequence. */
export interface LlamaCppSession {
  sequence: NlcSequence;
  dispose(): Promise<void>;
}

export interface LlamaCppPeer {
  /** node-llama-cpp's version and the binaries' build type ('prebuilt'). */
  version: string;
  buildType: string;
  /** Opens `path` with a context of `contextSize` positions evaluated on `threads` threads. */
  open(path: string, opts: { contextSize: number; threads: number }): Promise<LlamaCppSession>;
  dispose(): Promise<void>;
}

export type LoadedPeer = { peer: LlamaCppPeer; absent?: undefined } | { peer?: undefined; absent: string };

/**
 * node-llama-cpp's module from `<root>/tools/peers` with llama.cpp's prebuilt CPU binaries loaded
 * offline, or the reason it is absent. `M` is the part of the module's API the caller uses (the
 * decoding bench adds the token predictors).
 */
export async function importLlamaCpp<M extends NlcModule = NlcModule>(
  root: string,
): Promise<{ mod: M; llama: NlcLlama; version: string } | string> {
  const dir = join(root, 'tools/peers');
  const pkg = join(dir, 'node_modules/node-llama-cpp/package.json');
  if (!existsSync(pkg))
    return 'node-llama-cpp is not installed in tools/peers (scripts/setup.sh installs it on linux-x64; HASTEN_SKIP_PEERS=1 skips it)';
  const version = (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
  try {
    const entry = createRequire(join(dir, 'package.json')).resolve('node-llama-cpp');
    const mod = (await import(pathToFileURL(entry).href)) as M;
    const llama = await mod.getLlama({
      gpu: false,
      build: 'never',
      usePrebuiltBinaries: true,
      skipDownload: true,
      progressLogs: false,
      logLevel: 'error',
    });
    return { mod, llama, version };
  } catch (e) {
    return `node-llama-cpp ${version} failed to load its prebuilt CPU binaries: ${(e as Error).message}`;
  }
}

/**
 * Options of a one-sequence context comparable with Hasten's f32 engines: an f32 KV cache and no
 * flash attention (llama.cpp's defaults are an f16 cache and flash attention), `threads` threads.
 */
export function llamaCppContextOptions(contextSize: number, threads: number): Record<string, unknown> {
  return {
    contextSize,
    batchSize: contextSize,
    sequences: 1,
    threads: { ideal: threads, min: threads },
    flashAttention: false,
    experimentalKvCacheKeyType: 'F32',
    experimentalKvCacheValueType: 'F32',
  };
}

/** node-llama-cpp from `<root>/tools/peers`, or the reason it is absent. */
export async function loadLlamaCppPeer(root: string): Promise<LoadedPeer> {
  const loaded = await importLlamaCpp(root);
  if (typeof loaded === 'string') return { absent: loaded };
  const { llama, version } = loaded;
  return {
    peer: {
      version,
      buildType: llama.buildType,
      async open(path, { contextSize, threads }) {
        const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
        try {
          const context = await model.createContext(llamaCppContextOptions(contextSize, threads));
          return {
            sequence: context.getSequence(),
            async dispose() {
              await context.dispose();
              await model.dispose();
            },
          };
        } catch (e) {
          await model.dispose();
          throw e;
        }
      },
      dispose: () => llama.dispose(),
    },
  };
}

/**
 * `n` greedy tokens (temperature 0: llama.cpp's greedy sampler, no penalties) after `input`, from a
 * sequence that holds the tokens before it at positions [0, keep): whatever a previous call left
 * after `keep` is erased first, so every call starts from the same state.
 */
export async function llamaCppGreedy(
  seq: NlcSequence,
  keep: number,
  input: number[],
  n: number,
): Promise<number[]> {
  if (seq.nextTokenIndex > keep)
    await seq.eraseContextTokenRanges([{ start: keep, end: seq.nextTokenIndex }]);
  const out: number[] = [];
  if (n <= 0) return out;
  for await (const t of seq.evaluate(input, { temperature: 0 })) {
    out.push(t);
    if (out.length >= n) break;
  }
  return out;
}

/** The logits of the next token after `tokens` (appended to the sequence), as a dense row. */
export async function llamaCppNextLogits(
  seq: NlcSequence,
  tokens: number[],
  vocab: number,
): Promise<Float32Array> {
  const input = tokens.map((t, i) =>
    i === tokens.length - 1
      ? ([t, { generateNext: { logits: true } }] as [number, { generateNext: { logits: boolean } }])
      : t,
  );
  const res = await seq.controlledEvaluate(input);
  const logits = res[tokens.length - 1]?.next.logits;
  if (!logits) throw new Error('node-llama-cpp returned no logits');
  const row = new Float32Array(vocab).fill(Number.NEGATIVE_INFINITY);
  for (const [t, v] of logits) row[t] = v;
  return row;
}

/**
 * Writes `model` (as it holds its weights: f32, or quantized to a GGUF type) to `path` as GGUF for
 * llama.cpp, which needs a vocabulary to open a file: the byte vocabulary of a fixture folder `dir`
 * (the specials of its tokenizer_config.json), else placeholders (`fillerVocab`, random-weight
 * checkpoints). llama architecture through saveGGUF, qwen2 through qwen2-gguf.ts.
 */
export async function saveGGUFForPeer(model: LlamaModel, dir: string, path: string): Promise<void> {
  const cfgPath = join(dir, 'tokenizer_config.json');
  const cfg = existsSync(cfgPath)
    ? (JSON.parse(readFileSync(cfgPath, 'utf8')) as {
        tokenizer_class?: string;
        special_tokens?: Record<string, number>;
      })
    : {};
  const vocab =
    cfg.tokenizer_class === 'ByteLevelHasten' && cfg.special_tokens
      ? byteTokenizerVocab(
          Object.entries(cfg.special_tokens)
            .sort((a, b) => a[1] - b[1])
            .map(([t]) => t),
        )
      : fillerVocab(model.config.vocabSize);
  if (model.config.modelType === 'qwen2') await saveQwen2GGUF(model, path, { vocab });
  else await saveGGUF(model, path, { vocab });
}
