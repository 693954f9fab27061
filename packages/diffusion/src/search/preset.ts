/**
 * @file Reading a schedule preset (the JSON that `ecadSearch` and `timestepSearch` return and the
 * samplers load): zod-validated, with an error that names the preset kind and the offending field.
 */
import { parseOptionsWith } from '@hasten/core-tensor';
import type { z } from 'zod';

/** Parses `json` (an object, or its JSON text) with `schema`; errors read "<what>: field 'a.b' is invalid: why". */
export function parsePreset<S extends z.ZodType>(what: string, schema: S, json: unknown): z.output<S> {
  let value = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (e) {
      throw new Error(`${what}: not valid JSON (${(e as Error).message})`);
    }
  }
  if (typeof value !== 'object' || value === null)
    throw new Error(`${what}: expected a JSON object, got ${value}`);
  return parseOptionsWith(
    schema,
    value,
    (problem) =>
      new Error(`${what}: ${problem.replace(/^option /, 'field ').replace(/^options /, 'preset ')}`),
  );
}
