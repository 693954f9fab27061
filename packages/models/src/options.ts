/**
 * @file How @hasten/models rejects a bad options object. Options schemas are strict
 * (`z.strictObject`), so a misspelt key is an error rather than a silently ignored setting; the
 * message lists the keys the object allows (core-tensor's parseOptionsWith).
 */
import {
  CpuBackend,
  getBackend,
  hasBackend,
  listBackends,
  parseOptionsWith,
  type Tensor,
} from '@hasten/core-tensor';
import { z } from 'zod';
import { ModelError } from './errors';

/** A registered core-tensor backend name; checked at parse time so the error names the option. */
export const deviceOption = z.string().refine(hasBackend, {
  error: (iss) => `no backend '${String(iss.input)}'; registered: ${listBackends().join(', ')}`,
});

/**
 * The backend a model goes to when its options name none: core-tensor's default backend, so that
 * `setDefaultBackend('cpu-native')` (after @hasten/kernels-cpu's `registerCpuNative()`) moves
 * models loaded afterwards too, not only the tensors made afterwards.
 */
export const defaultDevice = (): string => getBackend().name;

/**
 * Whether a tensor lives in host memory (one ArrayBuffer per storage: the 'cpu', 'reference' and
 * 'cpu-native' backends), where weights can be read and rewritten in place (quantize, AWQ).
 */
export const inHostMemory = (t: Tensor): boolean => t.backend instanceof CpuBackend;

/**
 * Parse the options of a public entry point (undefined means `{}`). On failure throws
 * ModelError('options'): "<where>: option 'a.b' is invalid: why" or "<where>: options is invalid: why",
 * where zod's why names the allowed values (enum members, bounds, types) or the allowed keys.
 */
export function parseOptions<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  return parseOptionsWith(schema, value, (problem) => new ModelError('options', `${where}: ${problem}`));
}
