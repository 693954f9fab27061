#!/usr/bin/env node
// hasten-bench: `npx hasten-bench <run|report|compare>` (built) or `npx tsx packages/eval/src/cli.ts ...`.
import { runCli } from './node/cliProgram.js';

process.exitCode = await runCli(process.argv.slice(2));
