import { defineConfig } from 'tsup';

// A command-line program: dist/main.js serves the page, which it bundles from src/page.ts with esbuild.
export default defineConfig({
  entry: ['src/main.ts'],
  format: ['esm'],
  dts: false,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'node',
});
