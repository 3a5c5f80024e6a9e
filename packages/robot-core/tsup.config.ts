import { defineConfig } from 'tsup';

export default defineConfig({
  // `testing` is a Node-only entry (an in-process rosbridge server); the main entry stays browser-safe.
  entry: ['src/index.ts', 'src/testing.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
});
