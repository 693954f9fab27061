import { defineConfig } from 'tsup';

export default defineConfig({
  // index: isomorphic API; node: files, git, CLI program; cli: the hasten-bench bin.
  entry: ['src/index.ts', 'src/node.ts', 'src/cli.ts'],
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
});
