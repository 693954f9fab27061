#!/usr/bin/env node
// The hasten-bench bin. Installed from the registry it runs the built dist/cli.js. In a checkout
// (src/ is there; dist/ exists only after `npm run build`, and may be stale) it runs the TypeScript
// source through tsx, so `npx hasten-bench` works right after `npm ci`, with no build.
import { existsSync } from 'node:fs';
import { register } from 'node:module';

const source = new URL('../src/cli.ts', import.meta.url);
if (existsSync(source)) {
  const { register: registerTsx } = await import('tsx/esm/api');
  registerTsx();
  // Benchmark modules import @hasten/*: resolve those to the sources too (the "@hasten/source"
  // export condition, which npm already sets through the root .npmrc), also when started without npm.
  const hook = `export const resolve = (specifier, context, next) =>
    next(specifier, { ...context, conditions: [...context.conditions, '@hasten/source'] });`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`);
  await import(source.href);
} else {
  await import(new URL('../dist/cli.js', import.meta.url).href);
}
