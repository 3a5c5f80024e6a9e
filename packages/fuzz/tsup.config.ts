import { defineConfig } from 'tsup';

// The child entry runs the cases in a separate process (see src/runner.ts); it sits beside index.js.
export default defineConfig({
  entry: ['src/index.ts', 'src/child.ts'],
  format: ['esm'],
  dts: { entry: 'src/index.ts' },
  sourcemap: true,
  clean: true,
  target: 'es2022',
});
