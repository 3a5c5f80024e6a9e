import { defineConfig } from 'tsup';

// The library (config, data pipeline, training loop, checkpoints, report) and the vla-train CLI.
export default defineConfig({
  entry: ['src/index.ts', 'src/cli.ts', 'src/tokenizerCli.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
});
