import { defineConfig } from 'tsup';

// A command-line program: one ESM file, dist/main.js, run by `npm start`.
export default defineConfig({
  entry: ['src/main.ts'],
  format: ['esm'],
  dts: false,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'node',
});
