/**
 * @file Left padding of a batch of prompts (Hugging Face's convention for decoder-only generation):
 * each row is right-aligned, so every row's next token lands in the same column and a decode step is
 * one token per row. The model hides the pad slots (CausalLM `padding`).
 */
import { type Tensor, tensor } from '@hasten/core-tensor';

export interface LeftPadded {
  /** i32 [rows, width]. */
  tokens: Tensor;
  /** Leading pad tokens of each row. */
  padding: number[];
  /** The longest prompt's length. */
  width: number;
}

/** Right-aligns `prompts` (each non-empty) in a [rows, width] i32 tensor filled with `padId`. */
export function leftPad(prompts: readonly (readonly number[])[], padId: number): LeftPadded {
  const width = Math.max(...prompts.map((p) => p.length));
  const ids = new Int32Array(prompts.length * width).fill(padId);
  const padding = prompts.map((p, r) => {
    ids.set(p, r * width + width - p.length);
    return width - p.length;
  });
  return { tokens: tensor(ids, [prompts.length, width], { dtype: 'i32' }), padding, width };
}

/** A [rows, 1] i32 tensor of one token per row. */
export function column(tokens: readonly number[]): Tensor {
  return tensor(Int32Array.from(tokens), [tokens.length, 1], { dtype: 'i32' });
}
