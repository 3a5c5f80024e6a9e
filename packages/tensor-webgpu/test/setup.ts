// Shared per-file test setup: `import { eng } from './setup.js'` creates the default engine once for
// the file (top-level await, so `it.skipIf(!eng.hasF16)` can be decided at collection time) and
// destroys it after the file's tests.
import { afterAll } from 'vitest';
import { init, shutdown, type Engine } from '../src/index.js';

/** The default engine, ready before any test of the importing file is collected. */
export const eng: Engine = await init();

afterAll(() => {
  shutdown();
});
