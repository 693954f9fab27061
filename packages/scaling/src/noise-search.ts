/**
 * @file Helpers of the search over initial noises: a candidate holds its noise and its sample;
 * generating one costs `proposer.nfe` (default 1) and is scored by the verifier.
 */
import type { NoiseProposer, Scorer } from './proposer';
import type { RunContext } from './run-context';
import type { Candidate } from './trace';

export interface NoiseSample<S> {
  noise: Float64Array;
  sample: S;
}

export const nfeOf = (p: NoiseProposer<unknown>) => p.nfe ?? 1;

/** Generate and score samples for `noises` (calls requested in order), recorded as candidates. */
export async function evaluateNoises<S>(
  ctx: RunContext<NoiseSample<S>>,
  proposer: NoiseProposer<S>,
  scorer: Scorer<S>,
  noises: Float64Array[],
  step: number,
  parents?: (number | undefined)[],
): Promise<Candidate<NoiseSample<S>>[]> {
  const results = await Promise.all(
    noises.map(async (noise) => {
      const c = ctx.proposeContext();
      const sample = await ctx.call(() => proposer.generate(noise, c));
      ctx.calls.propose++;
      return { sample, score: await ctx.score(scorer, sample) };
    }),
  );
  ctx.spend(noises.length * nfeOf(proposer));
  return results.map((r, i) =>
    ctx.add({
      step,
      state: { noise: noises[i], sample: r.sample },
      score: r.score,
      status: 'complete',
      ...(parents?.[i] === undefined ? {} : { parent: parents[i] }),
    }),
  );
}

/** The highest-scoring candidate (first on ties). */
export function bestOf<T>(cands: readonly Candidate<T>[]): Candidate<T> {
  let b = cands[0];
  for (const c of cands) if ((c.score as number) > (b.score as number)) b = c;
  return b;
}
