// @hasten/eval/node: the Node-only half (files, git, OS info, progress bar, the CLI program).
// Everything isomorphic is in @hasten/eval.

export { type CliIo, runCli } from './node/cliProgram.js';
export { type CollectEnvironmentOptions, collectEnvironment } from './node/collectEnvironment.js';
export { gitCommit, gitDirty, gitShow } from './node/git.js';
export { type LoadHeldoutOptions, loadHeldoutFiles } from './node/loadHeldoutFiles.js';
export { createProgressBar, type ProgressBar } from './node/progressBar.js';
export { findRepoRoot } from './node/repoRoot.js';
export {
  listResultFiles,
  readBenchResult,
  readCommittedResult,
  readResultsDir,
  resultPath,
  type SkippedFile,
  writeBenchResult,
} from './node/resultFiles.js';
export { type RunAndWriteOptions, runAndWrite } from './node/runAndWrite.js';
export { type WriteReportOptions, writeReport } from './node/writeReport.js';
