/**
 * @file generate(): the loop of stream() run to the end, returning tokens, text and finish reason
 * per row and the run's statistics.
 */
import type { CausalLM } from '@hasten/models';
import type { GenerateOptions } from './options';
import { type GenerateResult, steps } from './stream';

/** Generates from `model` (see stream() for the loop, the abort rule and the options). */
export async function generate(model: CausalLM, options: GenerateOptions): Promise<GenerateResult> {
  const it = steps(model, options);
  while (true) {
    const r = await it.next();
    if (r.done) return r.value;
  }
}
