// Step time of data-parallel vla-train on this machine: one process against two MPI ranks
// (`mpirun -np 2`, shared memory), on the tiny preset with the data of train.bench.ts (Lift-2
// pick-place at 64 px). The machine's cores are split between the ranks (VLA_CPU_THREADS), so the
// comparison is "the same cores, one process or two". Prints a Markdown table with ratios;
// `--steps N` (default 10), `--batch N` per rank (default 8), `--episodes N` (default 2).
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { localMpirunArgs } from '@vla/mpi';
import { loadMujoco } from '@vla/sim';
import { recordDataset } from '@vla/sim/node';
import { MetricsLog } from '../src/report/metricsLog.js';
import type { TrainRecord } from '../src/report/metricRecord.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const STEPS = arg('steps', 10);
const BATCH = arg('batch', 8);
const WARMUP = 2;
const cores = availableParallelism();
const cli = resolve(dirname(fileURLToPath(import.meta.url)), '../src/cli.ts');

function run(command: string, args: string[], env: Record<string, string>): Promise<void> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(OMPI_|PMIX_)/.test(k)));
  const child = spawn(command, args, { env: { ...base, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((ok, fail) =>
    child.on('close', (code) =>
      code === 0 ? ok() : fail(new Error(`${command} exited ${code}:\n${stderr}`)),
    ),
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Median wall time of the steps after the warm-up, the run's samples per step, and the median time
 * from the end of backward to the end of the optimizer step (gradient averaging included).
 */
async function stepTime(out: string): Promise<{ ms: number; samples: number; reduceMs: number }> {
  const steps = (await MetricsLog.read(join(out, 'metrics.jsonl'))).filter(
    (r): r is TrainRecord => r.kind === 'train',
  );
  const timed = steps.slice(WARMUP + 1);
  return {
    ms: median(timed.map((r, i) => r.wallMs - steps[WARMUP + i].wallMs)),
    samples: steps[1].samples - steps[0].samples,
    reduceMs: median(timed.map((r) => r.timing.optimizerMs)),
  };
}

const root = mkdtempSync(join(tmpdir(), 'vla-dp-bench-'));
try {
  // Two datasets, so that LPT gives each rank its own.
  const first = join(root, 'lift2-a');
  const rec = await recordDataset({
    task: 'pick-place',
    robot: 'lift2',
    episodes: arg('episodes', 2),
    out: first,
    imageWidth: 64,
    imageHeight: 64,
    mujoco: await loadMujoco(),
  });
  const second = join(root, 'lift2-b');
  cpSync(first, second, { recursive: true });
  console.log(`dataset: 2 × ${rec.frames} frames, 3 cameras at 64 px; ${cores} cores`);
  const config = join(root, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      model: { preset: 'tiny', generation: true },
      data: { datasets: [{ path: first }, { path: second }], latentCache: join(root, 'latents') },
      steps: WARMUP + 1 + STEPS,
      batchSize: BATCH,
      checkpointEvery: 10_000,
      foresightEvery: 0,
    }),
  );
  const node = [process.execPath, '--import', 'tsx', cli, '-c', config, '-q'];
  const rows: {
    name: string;
    ranks: number;
    threads: number;
    ms: number;
    samples: number;
    reduceMs: number;
  }[] = [];
  for (const [name, ranks, batch] of [
    ['1 process', 1, BATCH],
    ['1 process, global batch', 1, 2 * BATCH],
    ['2 MPI ranks', 2, BATCH],
  ] as const) {
    const out = join(root, `run-${rows.length}`);
    const threads = Math.max(1, Math.floor(cores / ranks));
    const env = { VLA_CPU_THREADS: String(threads) };
    const args = [...node.slice(1), '--out', out, '--batch-size', String(batch)];
    if (ranks === 1) await run(node[0], args, env);
    else await run('mpirun', [...localMpirunArgs(ranks), node[0], ...args], env);
    rows.push({ name, ranks, threads, ...(await stepTime(out)) });
  }
  const base = rows[0];
  console.log(
    '\n| run | ranks × threads | samples/step | step time | average + optimizer | samples/s | vs 1 process |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const sps = (r.samples * 1000) / r.ms;
    const ratio = sps / ((base.samples * 1000) / base.ms);
    console.log(
      `| ${r.name} | ${r.ranks} × ${r.threads} | ${r.samples} | ${r.ms.toFixed(0)} ms | ${r.reduceMs.toFixed(1)} ms | ${sps.toFixed(1)} | ${ratio.toFixed(2)}× |`,
    );
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
