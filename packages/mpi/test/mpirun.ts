// Runs the rank scripts in test/ranks/ as real processes: under `mpirun -np 2` or as plain `node`.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { localMpirunArgs } from '../src/localMpirunArgs';

const packageDir = dirname(dirname(fileURLToPath(import.meta.url)));

/** Exit status, output and the result folder of one run. */
export interface RankRun {
  code: number | null;
  stdout: string;
  stderr: string;
  outDir: string;
}

function requireBuilt(): void {
  for (const file of ['dist/index.js', 'build/vla_mpi.node'])
    if (!existsSync(join(packageDir, file)))
      throw new Error(`@vla/mpi tests need ${file}: run \`npm run build\` in packages/mpi first`);
}

function run(command: string, args: string[], env: Record<string, string>): Promise<RankRun> {
  requireBuilt();
  const outDir = mkdtempSync(join(tmpdir(), 'vla-mpi-test-'));
  // Drop any launcher variables of the calling process: each run is its own MPI job.
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^(OMPI_|PMIX_|VLA_MPI_)/.test(key)),
  );
  const child = spawn(command, args, {
    cwd: packageDir,
    env: { ...base, ...env, VLA_MPI_TEST_OUT: outDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, outDir }));
  });
}

/** Runs `test/ranks/<script>` on `np` ranks with shared-memory transport, as root where needed. */
export function mpirun(script: string, env: Record<string, string> = {}, np = 2): Promise<RankRun> {
  const args = [...localMpirunArgs(np), process.execPath, join('test', 'ranks', script)];
  return run('mpirun', args, env);
}

/** Runs `test/ranks/<script>` as a single plain node process (no mpirun). */
export function node(script: string, env: Record<string, string> = {}): Promise<RankRun> {
  return run(process.execPath, [join('test', 'ranks', script)], env);
}

/** Reads `<outDir>/<name>.bin` as bytes. */
export function readBytes(run: RankRun, name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(run.outDir, `${name}.bin`)));
}

/** Reads `<outDir>/<name>.json`. */
export function readJson<T>(run: RankRun, name: string): T {
  return JSON.parse(readFileSync(join(run.outDir, `${name}.json`), 'utf8')) as T;
}

/** Deletes a run's result folder. */
export function cleanUp(run: RankRun | undefined): void {
  if (run) rmSync(run.outDir, { recursive: true, force: true });
}
