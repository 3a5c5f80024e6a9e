import { defineConfig } from 'tsup';

// The browser-safe library, its Node-only additions (recorder, renderer) and the vla-sim CLI.
export default defineConfig({
  entry: ['src/index.ts', 'src/node.ts', 'src/cli.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
});
