import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/headlessChromium.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
});
