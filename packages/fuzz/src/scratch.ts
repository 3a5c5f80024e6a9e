// Where campaigns keep their temporary inputs: a folder per run, made and removed by the runner (so
// nothing is left behind when it kills a hung child), passed to the child in the environment.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Environment variable naming the run's scratch folder. */
export const SCRATCH_ENV = 'VLA_FUZZ_SCRATCH';

/** A fresh temporary folder inside the run's scratch folder (the system's when run directly). */
export function scratchDir(prefix: string): string {
  return mkdtempSync(join(process.env[SCRATCH_ENV] ?? tmpdir(), prefix));
}
