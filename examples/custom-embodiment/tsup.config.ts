import { defineConfig } from 'tsup';

// A command-line program: one ESM file, dist/main.js (`npm start -w @vla/example-custom-embodiment`).
export default defineConfig({
  entry: ['src/main.ts'],
  format: ['esm'],
  dts: false,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'node',
});
