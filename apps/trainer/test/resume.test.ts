// Exact resume through the real command line: `vla-train` runs as a child process and is SIGKILLed
// mid-run, two steps past its step-4 checkpoint; `vla-train --resume` replays from that checkpoint and
// finishes the run. The replayed steps equal, bit for bit, the steps the killed process had logged (a
// run that had not stopped yet); the final log holds every step once; a bad config exits with code 2
// naming the field.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { MetricsLog } from '../src/report/metricsLog.js';
import type { TrainRecord } from '../src/report/metricRecord.js';
import { cutCr5, MICRO_MODEL } from './fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));
const cli = resolve(here, '../src/cli.ts');
const root = mkdtempSync(join(tmpdir(), 'vla-train-resume-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const STEPS = 8;
const configPath = join(root, 'config.json');
const config = {
  model: { preset: 'tiny', generation: true, tiny: MICRO_MODEL },
  // One episode of the v2.1 fixture (video decoding, the latent cache shared by both runs).
  data: {
    datasets: [{ path: cutCr5(join(root, 'cr5'), 1) }],
    latentCache: join(root, 'latents'),
    samplesPerEpoch: 6,
    concurrency: 2,
  },
  mode: 'pretrain',
  steps: STEPS,
  batchSize: 2,
  checkpointEvery: 4,
  foresightEvery: 0,
  optim: { lr: 1e-3 },
  seed: 3,
};
writeFileSync(configPath, JSON.stringify(config));

interface Child {
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  kill: () => void;
}

function run(args: string[]): Child {
  // One process: node with tsx as a loader. The `tsx` command would run the trainer in a child of its
  // own, which a SIGKILL of the wrapper leaves running as an orphan.
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    cwd: here,
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return {
    done: new Promise((ok) => child.on('exit', (code, signal) => ok({ code, signal, stderr }))),
    kill: () => child.kill('SIGKILL'),
  };
}

async function trainSteps(dir: string): Promise<TrainRecord[]> {
  return (await MetricsLog.read(join(dir, 'metrics.jsonl'))).filter(
    (r): r is TrainRecord => r.kind === 'train',
  );
}

/** Resolves once `metrics.jsonl` in `dir` has a train record of step ≥ `step`. */
async function waitForStep(dir: string, step: number, child: Child): Promise<void> {
  let exited = false;
  void child.done.then(() => (exited = true));
  for (;;) {
    if (exited) throw new Error(`the run exited before step ${step}: ${(await child.done).stderr}`);
    const path = join(dir, 'metrics.jsonl');
    if (existsSync(path)) {
      const lines = readFileSync(path, 'utf8')
        .split('\n')
        .filter((l) => l.includes('"kind":"train"'));
      const last = lines.length ? (JSON.parse(lines[lines.length - 1]) as { step: number }).step : 0;
      if (last >= step) return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('vla-train resume after SIGKILL', () => {
  it('a killed and resumed run has the same loss trajectory, step for step, as one that never stopped', async () => {
    const dir = join(root, 'run');
    const first = run(['-c', configPath, '-o', dir, '-q']);
    await waitForStep(dir, 6, first);
    first.kill();
    expect((await first.done).signal).toBe('SIGKILL');
    const before = await trainSteps(dir);
    expect(before.map((r) => r.step).slice(0, 6)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(before.length).toBeLessThan(STEPS);

    const second = await run(['--resume', '-o', dir, '-q']).done;
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/resuming from .*step-00000004 \(step 4\)/);

    const after = await trainSteps(dir);
    expect(after.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const pick = (r: TrainRecord) => [r.loss, r.actionLoss, r.genLoss, r.gradNorm, r.lr, r.samples, r.epoch];
    // Steps 1–4 are the killed process's own records (kept); 5 and 6 were logged by it before the
    // kill, dropped on resume and computed again from the step-4 checkpoint: they must match exactly.
    for (const r of before) expect(pick(after[r.step - 1]), `step ${r.step}`).toEqual(pick(r));
    expect(after.slice(4, 6).every((r, i) => r.wallMs !== before[4 + i].wallMs)).toBe(true);
  });

  it('a bad config exits with code 2 and names the field', async () => {
    const bad = join(root, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({
        model: { preset: 'tiny', generation: true },
        data: { datasets: [] },
        mode: 'pretrain',
        steps: 1,
        batchSize: 1,
        optim: { lr: 1 },
      }),
    );
    const r = await run(['-c', bad, '-o', join(root, 'bad'), '-q']).done;
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.json: data\.datasets must name at least one dataset/);
  });
});
