#!/usr/bin/env node
// hasten-bench: `npx hasten-bench <run|report|compare>` (bin/hasten-bench.js runs this file through tsx in a checkout).
import { runCli } from './node/cliProgram.js';

process.exitCode = await runCli(process.argv.slice(2));
