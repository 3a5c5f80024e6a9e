import { defineConfig } from 'tsup';

// Two entries: the full Node API, and a browser build with no Node built-ins (URL/File storage, WebCodecs).
export default defineConfig({
  entry: ['src/index.ts', 'src/browser.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
});
