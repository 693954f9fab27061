/**
 * @file Medusa heads as a drafter (Cai et al., "Medusa: Simple LLM Inference Acceleration Framework
 * with Multiple Decoding Heads", arXiv 2401.10774; FasterDecoding/Medusa `medusa_model.py`).
 *
 * Head i (0-based) is a residual block on the target's last hidden state h followed by its own LM
 * head: logits_i = U_i (h + SiLU(W_i h + b_i)); it guesses the token i + 2 places after the token
 * whose hidden state it reads, i.e. i + 1 places after the last committed token (the target's own
 * next token is the tree's root, already emitted by the previous verification).
 *
 * Candidates form a sparse tree (`medusa_choices`): each path lists, per depth d, the rank of the
 * token taken from head d's top-k. Paths come in the order they were chosen (a greedy search over
 * measured head accuracies), so every prefix of the list is a tree: a budget of k nodes takes the
 * first k paths. Verification is the loop's tree verification (exact); Medusa's typical acceptance
 * is the loop's `acceptance: 'typical'` option.
 *
 * Weights use FasterDecoding/Medusa's names: `medusa_head.{i}.0.linear.weight` [H, H] and `.bias`
 * [H], `medusa_head.{i}.1.weight` [V, H].
 */
import { keep, linear, type SafetensorsReader, type Tensor, tensor } from '@hasten/core-tensor';
import { z } from 'zod';
import { inputError, parseOptions } from '../errors';
import type { Draft, Drafter } from './drafter';

const MedusaOptions = z.strictObject({
  /** The candidate tree: paths of per-depth ranks, e.g. [[0], [0, 0], [1], ...] (prefix-closed). */
  choices: z.array(z.array(z.number().int().min(0)).min(1)).min(1),
});
export type MedusaOptions = z.input<typeof MedusaOptions>;

interface Head {
  w: Tensor;
  b: Tensor;
  lmHead: Tensor;
}

const WHERE = 'MedusaDrafter';

export class MedusaDrafter implements Drafter {
  readonly wantsHidden = true;
  readonly numHeads: number;
  private hidden: Float32Array | null = null;
  private readonly choices: number[][];
  /** Per head, how many top tokens the tree reads. */
  private readonly topK: number[];

  private constructor(
    private readonly heads: Head[],
    options: MedusaOptions,
  ) {
    const o = parseOptions(MedusaOptions, options, WHERE);
    this.numHeads = heads.length;
    this.choices = o.choices;
    this.topK = new Array(heads.length).fill(0);
    const seen = new Set<string>();
    o.choices.forEach((path, i) => {
      if (path.length > heads.length) {
        throw inputError(WHERE, `choices[${i}] has depth ${path.length}; there are ${heads.length} heads`);
      }
      if (path.length > 1 && !seen.has(path.slice(0, -1).join())) {
        throw inputError(WHERE, `choices[${i}] = [${path}] comes before its parent [${path.slice(0, -1)}]`);
      }
      seen.add(path.join());
      path.forEach((rank, d) => {
        this.topK[d] = Math.max(this.topK[d], rank + 1);
      });
    });
  }

  /** Reads the heads from a safetensors reader (FasterDecoding/Medusa names), as f32 on the CPU. */
  static async fromSafetensors(reader: SafetensorsReader, options: MedusaOptions): Promise<MedusaDrafter> {
    const names = new Set(reader.names);
    const heads: Head[] = [];
    for (let i = 0; names.has(`medusa_head.${i}.0.linear.weight`); i++) {
      const load = async (n: string) => {
        if (!names.has(n)) throw inputError(WHERE, `the checkpoint has no tensor '${n}'`);
        return keep(await reader.tensor(n, { dtype: 'f32' }));
      };
      heads.push({
        w: await load(`medusa_head.${i}.0.linear.weight`),
        b: await load(`medusa_head.${i}.0.linear.bias`),
        lmHead: await load(`medusa_head.${i}.1.weight`),
      });
    }
    if (heads.length === 0) {
      throw inputError(
        WHERE,
        "the checkpoint has no Medusa heads (expected 'medusa_head.0.0.linear.weight', ...)",
      );
    }
    return new MedusaDrafter(heads, options);
  }

  observeHidden(hidden: Float32Array): void {
    this.hidden = hidden;
  }

  /** Every head's logits [V] on a hidden state [H]. */
  async headLogits(hidden: Float32Array): Promise<Float32Array[]> {
    const H = this.heads[0].w.shape[1];
    if (hidden.length !== H)
      throw inputError(WHERE, `hidden state has ${hidden.length} values; the heads take ${H}`);
    const h = tensor(hidden, [1, H]);
    const out: Float32Array[] = [];
    for (const head of this.heads) {
      const preT = linear(h, head.w, head.b);
      const pre = (await preT.data()) as Float32Array;
      const res = new Float32Array(H);
      for (let j = 0; j < H; j++) res[j] = hidden[j] + pre[j] / (1 + Math.exp(-pre[j])); // h + SiLU(.)
      const resT = tensor(res, [1, H]);
      const logitsT = linear(resT, head.lmHead);
      out.push(Float32Array.from((await logitsT.data()) as Float32Array));
      for (const t of [preT, resT, logitsT]) t.dispose();
    }
    h.dispose();
    return out;
  }

  async propose(_context: readonly number[], k: number): Promise<Draft> {
    if (!this.hidden)
      throw inputError(WHERE, 'no hidden state observed yet (the loop passes it before each proposal)');
    const logits = await this.headLogits(this.hidden);
    const top = logits.map((row, d) => topIndices(row, this.topK[d]));
    const n = Math.min(k, this.choices.length);
    const tokens: number[] = [];
    const parents: number[] = [];
    const index = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const path = this.choices[i];
      const d = path.length - 1;
      tokens.push(top[d][path[d]]);
      parents.push(d === 0 ? -1 : (index.get(path.slice(0, -1).join()) as number));
      index.set(path.join(), i);
    }
    return { tokens, parents };
  }

  release(): void {
    this.hidden = null;
  }

  /** Frees the heads' weights. */
  dispose(): void {
    for (const h of this.heads) for (const t of [h.w, h.b, h.lmHead]) t.dispose();
  }
}

/** Indices of the k largest values, largest first (first index on ties). */
function topIndices(row: Float32Array, k: number): number[] {
  const best: number[] = [];
  for (let j = 0; j < row.length; j++) {
    let at = best.length;
    while (at > 0 && row[best[at - 1]] < row[j]) at--;
    if (at < k) {
      best.splice(at, 0, j);
      if (best.length > k) best.pop();
    }
  }
  return best;
}
