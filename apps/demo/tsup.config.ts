import { defineConfig } from 'tsup';

// The library (the demo's phases and its report) and the vla-demo CLI.
export default defineConfig({
  entry: ['src/index.ts', 'src/cli.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
});
