/**
 * @file A process reward model read from a causal LM's next-token logits at step tags, in the manner of
 * Math-Shepherd (Wang et al. arXiv 2312.08935: the PRM is a language model; the score of a step is the
 * probability of the "good" tag token against the "bad" one at the step's tag position). Built for
 * `fixtures/arith-prm` (tools/fixtures/arith_prm.py), which scores `fixtures/arith-lm`'s solutions:
 * the tag position is each step's closing "\n", the tokens are "+" (good) and "-" (bad), and
 *
 *     score(step k) = sigmoid(logit[good] − logit[bad])  after the k-th delimiter of the generation.
 *
 * The input is the state's tokens (prompt + generated) with a final stop token replaced by the
 * delimiter (a step that ended without one gets one appended), so the last step is scored too. One
 * forward over the whole sequence scores every step; results are memoised per token sequence (beam
 * search and particle filtering score each prefix again one step later).
 *
 * `stepScores(state)` gives all of a state's step scores; `scorer(aggregation)` turns them into a
 * `Scorer` ('last' for step-wise search, where the strategy aggregates; 'min' / 'prod' / 'mean' for
 * whole samples as in search-and-learn's `agg_strategy`).
 */
import { tensor } from '@hasten/core-tensor';
import type { CausalLM } from '@hasten/models';
import { z } from 'zod';
import { AGGREGATIONS, type Aggregation, aggregateScores } from '../aggregate-scores';
import { ScalingError } from '../errors';
import { parseOptions } from '../options';
import type { ScoreContext, Scorer } from '../proposer';
import type { LlmState } from './llm-proposer';

const WHERE = 'arithPrm';
const TokenId = z.number().int().nonnegative();
const isModel = (m: unknown): m is CausalLM =>
  typeof m === 'object' && m !== null && typeof (m as CausalLM).forward === 'function' && 'config' in m;

export const ArithPrmOptions = z.strictObject({
  model: z.custom<CausalLM>(isModel, 'expected a CausalLM (from @hasten/models)'),
  /** The "good" tag token (fixtures/arith-prm: "+", 43). */
  goodTokenId: TokenId.default(43),
  /** The "bad" tag token (fixtures/arith-prm: "-", 45). */
  badTokenId: TokenId.default(45),
  /** The step delimiter token, the tag position (default "\n", 10). */
  delimiterTokenId: TokenId.default(10),
  /** Tokens that end a generation, replaced by the delimiter (default: the config's eosTokenId). */
  stopTokens: z.array(TokenId).optional(),
  /** Token sequences whose scores are kept (least recently used dropped first). */
  cacheSize: z.number().int().nonnegative().default(4096),
});
export type ArithPrmOptions = z.input<typeof ArithPrmOptions>;

/** What a step-scored state needs: its tokens and where its prompt ends (an `LlmState` has both). */
export type StepScoredState = Pick<LlmState, 'tokens' | 'promptLength'>;

export interface ArithPrm {
  /** The score in (0, 1) of every generated step of `state` (none before the first step). */
  stepScores(state: StepScoredState, ctx?: ScoreContext): Promise<number[]>;
  /** A Scorer aggregating the step scores ('last': the latest step's score). A state without steps scores 0.5. */
  scorer(aggregation: Aggregation): Scorer<StepScoredState>;
  /** Forward passes run so far (memoised sequences excluded). */
  readonly forwards: number;
}

export function arithPrm(options: ArithPrmOptions): ArithPrm {
  const o = parseOptions(ArithPrmOptions, options, WHERE);
  const { model } = o;
  const V = model.config.vocabSize;
  for (const [name, id] of [
    ['goodTokenId', o.goodTokenId],
    ['badTokenId', o.badTokenId],
    ['delimiterTokenId', o.delimiterTokenId],
  ] as const) {
    if (id >= V)
      throw new ScalingError('options', `${WHERE}: option '${name}' ${id} is outside the vocabulary (${V})`);
  }
  const eos = model.config.eosTokenId;
  const stops = new Set(o.stopTokens ?? (eos === undefined ? [] : Array.isArray(eos) ? eos : [eos]));
  const memo = new Map<string, number[]>();
  let forwards = 0;

  async function stepScores(state: StepScoredState, ctx?: ScoreContext): Promise<number[]> {
    ctx?.signal?.throwIfAborted();
    const { tokens, promptLength } = state;
    if (!Number.isInteger(promptLength) || promptLength < 1 || promptLength > tokens.length) {
      throw new ScalingError(
        'input',
        `${WHERE}: promptLength ${promptLength} is not within the ${tokens.length} tokens`,
      );
    }
    if (tokens.length === promptLength) return [];
    const ids = tokens.slice();
    const last = ids[ids.length - 1];
    if (stops.has(last)) ids[ids.length - 1] = o.delimiterTokenId;
    else if (last !== o.delimiterTokenId) ids.push(o.delimiterTokenId);
    if (ids.length > model.config.contextLength) {
      throw new ScalingError(
        'input',
        `${WHERE}: ${ids.length} tokens exceed the PRM's context length ${model.config.contextLength}; lower the proposer's maxNewTokens`,
      );
    }
    const key = ids.join(',');
    const hit = memo.get(key);
    if (hit) {
      memo.delete(key);
      memo.set(key, hit);
      return hit.slice();
    }
    const ends: number[] = [];
    for (let i = promptLength; i < ids.length; i++) if (ids[i] === o.delimiterTokenId) ends.push(i);
    const t = tensor(Int32Array.from(ids), [1, ids.length], { dtype: 'i32' });
    let logits: ArrayLike<number>;
    try {
      const out = await model.forward({ tokens: t });
      logits = (await out.logits.data()) as ArrayLike<number>;
      out.logits.dispose();
      out.hiddenStates?.dispose();
    } finally {
      t.dispose();
    }
    forwards++;
    const scores = ends.map((i) => {
      const d = logits[i * V + o.goodTokenId] - logits[i * V + o.badTokenId];
      return 1 / (1 + Math.exp(-d));
    });
    if (scores.some((s) => !Number.isFinite(s))) {
      throw new ScalingError('input', `${WHERE}: the model gave a non-finite step score`);
    }
    if (o.cacheSize > 0) {
      memo.set(key, scores);
      if (memo.size > o.cacheSize) memo.delete(memo.keys().next().value as string);
    }
    return scores.slice();
  }

  return {
    stepScores,
    scorer(aggregation: Aggregation): Scorer<StepScoredState> {
      const how = parseOptions(z.enum(AGGREGATIONS), aggregation, `${WHERE}.scorer`);
      return async (state, ctx) => {
        const s = await stepScores(state, ctx);
        return s.length === 0 ? 0.5 : aggregateScores(s, how);
      };
    },
    get forwards() {
      return forwards;
    },
  };
}
