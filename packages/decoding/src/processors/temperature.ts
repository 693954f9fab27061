/**
 * @file Temperature: logits / T (Ackley, Hinton & Sejnowski 1985; Hugging Face
 * `TemperatureLogitsWarper`). T < 1 sharpens, T > 1 flattens; greedy decoding is `doSample: false`,
 * not T = 0.
 */
import { requireOption } from '../options';
import type { LogitsProcessor } from './processor';

export class TemperatureProcessor implements LogitsProcessor {
  readonly name = 'temperature';

  constructor(readonly temperature: number) {
    requireOption(
      Number.isFinite(temperature) && temperature > 0,
      'TemperatureProcessor',
      'temperature',
      'a finite number > 0',
      temperature,
    );
  }

  process(logits: Float32Array): void {
    if (this.temperature === 1) return;
    for (let i = 0; i < logits.length; i++) logits[i] /= this.temperature;
  }
}
