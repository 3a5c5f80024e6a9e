import { defineConfig } from 'tsup';

// The library (layout from upstream statistics, summary table) and the vla-convert CLI.
export default defineConfig({
  entry: ['src/index.ts', 'src/cli.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
});
