// Shared fixtures of the CPU-engine test files: a 1-thread and a 3-thread engine per file (results
// must agree bit for bit), and a fresh random seed per run that failure messages report.
import { afterAll, beforeAll } from 'vitest';
import { CpuEngine } from '../src/index.js';
import { prng } from './util.js';

/**
 * Creates a 1-thread and a 3-thread CPU engine before the file's tests (handed to `set`) and destroys
 * them after.
 */
export function cpuEngines(set: (one: CpuEngine, three: CpuEngine) => void): void {
  let one: CpuEngine | undefined;
  let three: CpuEngine | undefined;
  beforeAll(async () => {
    one = await CpuEngine.create({ threads: 1 });
    three = await CpuEngine.create({ threads: 3 });
    set(one, three);
  });
  afterAll(() => {
    one?.destroy();
    three?.destroy();
  });
}

/**
 * A seed drawn afresh for this run, a uniform generator and sub-seeds from it, and `what(s)` to name
 * the seed in messages.
 */
export function runSeed(): {
  seed: number;
  rand: () => number;
  fresh: () => number;
  what: (s: string) => string;
} {
  const seed = (Math.random() * 2 ** 31) >>> 0;
  const rand = prng(seed);
  return { seed, rand, fresh: () => (rand() * 2 ** 31) >>> 0, what: (s) => `${s} (seed ${seed})` };
}
