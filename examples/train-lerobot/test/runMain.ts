// Runs src/main.ts as a user does (`node --import tsx src/main.ts …`), in a child process.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Exit code and output of one run. */
export interface MainRun {
  code: number;
  stdout: string;
  stderr: string;
}

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

/** Runs the example's main with `args` and resolves when it exits (a non-zero code is not an error). */
export function runMain(args: readonly string[]): Promise<MainRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/main.ts', ...args],
      { cwd: PACKAGE_DIR, maxBuffer: 64 * 2 ** 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
