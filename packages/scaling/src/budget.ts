/**
 * @file Budget units. A strategy declares what its budget counts (its_hub's budget guide, PR #168:
 * each algorithm means something else by "budget"):
 * - 'samples': complete generations (best-of-N, self-consistency, beam search's and DVTS's N).
 * - 'tokens': proposer cost units of step proposals (pruning counts the tokens it saves).
 * - 'nfe': denoiser function evaluations (diffusion search).
 * - 'particles': particle count of a sequential Monte Carlo run (PF, ePF, FK steering).
 * - 'cost': any caller-defined cost (remote price), summed from `proposer.cost`.
 */
export const BUDGET_UNITS = ['samples', 'tokens', 'nfe', 'particles', 'cost'] as const;
export type BudgetUnit = (typeof BUDGET_UNITS)[number];
