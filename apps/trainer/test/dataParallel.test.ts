// Data-parallel training on real Open MPI ranks (`mpirun -np 2`, shared memory):
// - three steps of two ranks with 2 samples each equal three steps of one process with all 4 (the
//   gradients averaged in many small buckets, clipping after the reduction), and the two replicas
//   end bit-identical although each started from its own random initialisation;
// - `vla-train` itself under mpirun: rank 0 alone logs, every checkpoint records both ranks' data
//   positions and that their weights are identical; `--resume` continues on two ranks and refuses one;
// - a rank killed mid-run ends the whole job (no hang) and the last checkpoint stays loadable.
import { spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { localMpirunArgs } from '@vla/mpi';
import { readSafetensors } from '@vla/tensor-webgpu';
import { afterAll, describe, expect, it } from 'vitest';
import { MetricsLog } from '../src/report/metricsLog.js';
import type { TrainRecord } from '../src/report/metricRecord.js';
import { latestCheckpoint, loadTrainCheckpoint, readTrainState } from '../src/trainerCheckpoint.js';
import { train } from '../src/train.js';
import { parseTrainConfig, withPreset } from '../src/trainConfig.js';
import { writeVectorDataset } from './dataFixtures.js';
import { cutCr5, MICRO_MODEL } from './fixtures.js';
import './setup.js';

const here = dirname(fileURLToPath(import.meta.url));
const cli = resolve(here, '../src/cli.ts');
const root = mkdtempSync(join(tmpdir(), 'vla-train-dp-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stderr: string;
}

interface Job {
  done: Promise<Run>;
  pid: number;
}

/** `mpirun -np <np>` (or plain node for np 0) of `node --import tsx <script> ...args`. */
function launch(np: number, script: string, args: string[], env: Record<string, string> = {}): Job {
  // Each run is its own job: no launcher variables of the calling process leak in.
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(OMPI_|PMIX_)/.test(k)));
  const node = [process.execPath, '--import', 'tsx', script, ...args];
  const [command, ...rest] = np > 0 ? ['mpirun', ...localMpirunArgs(np), ...node] : node;
  const child = spawn(command, rest, {
    cwd: here,
    env: { ...base, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return { pid: child.pid!, done: new Promise((ok) => child.on('close', (code) => ok({ code, stderr }))) };
}

const readF32 = (path: string) => {
  const b = readFileSync(path);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
};
const maxAbsDiff = (a: Float32Array, b: Float32Array) =>
  a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('gradient averaging over MPI ranks', () => {
  it('two ranks × 2 samples take the steps one process takes with 4, and stay identical', async () => {
    const steps = join(here, 'ranks', 'dataParallelSteps.ts');
    const dp = join(root, 'steps-dp');
    const one = join(root, 'steps-one');
    mkdirSync(dp);
    mkdirSync(one);
    // 8 KiB buckets: the micro policy's gradients travel in dozens of them.
    const [a, b] = await Promise.all([
      launch(2, steps, [], { VLA_DP_OUT: dp, VLA_DP_BUCKET_BYTES: '8192', VLA_CPU_THREADS: '1' }).done,
      launch(0, steps, [], { VLA_DP_OUT: one, VLA_CPU_THREADS: '1' }).done,
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const single = readF32(join(one, 'weights-0-of-1.bin'));
    const rank0 = readF32(join(dp, 'weights-0-of-2.bin'));
    const rank1 = readF32(join(dp, 'weights-1-of-2.bin'));
    // The ranks drew different initial weights; the broadcast made rank 1 start from rank 0's.
    expect(maxAbsDiff(readF32(join(dp, 'init-0-of-2.bin')), readF32(join(one, 'init-0-of-1.bin')))).toBe(0);
    expect(maxAbsDiff(readF32(join(dp, 'init-1-of-2.bin')), readF32(join(one, 'init-0-of-1.bin')))).toBe(0);
    expect(Buffer.from(rank1.buffer).equals(Buffer.from(rank0.buffer))).toBe(true);
    // Same weights as one process up to f32 summation order, far below what the steps moved them.
    const moved = maxAbsDiff(single, readF32(join(one, 'init-0-of-1.bin')));
    expect(moved).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(rank0, single)).toBeLessThan(1e-5);
    // The first step's averaged gradients: the mean over ranks is the whole batch's gradient.
    const g1 = readF32(join(one, 'grads-0-of-1.bin'));
    const g2 = readF32(join(dp, 'grads-0-of-2.bin'));
    const scale = g1.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(scale).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(g2, g1)).toBeLessThan(1e-5 * scale);
  });
});

describe('vla-train on two ranks against one process', () => {
  it('trains to the same weights, losses and gradient norms as one process with the whole batch', async () => {
    // Every frame of the data is the same, so every draw is the same sample whichever rank makes it:
    // two ranks with 2 samples each see exactly what one process with 4 sees.
    const constant = join(root, 'const-a');
    const frame = { state: [0.3, -0.2, 0.5, 0.1, 0.0, 0.7], action: [0.1, 0.4, -0.3, 0.2, 0.6, -0.1] };
    await writeVectorDataset(constant, {
      robotType: null,
      stateNames: frame.state.map((_, i) => `s${i}`),
      actionNames: frame.action.map((_, i) => `a${i}`),
      episodes: [0, 1].map(() => ({
        task: 'hold still',
        state: Array.from({ length: 12 }, () => frame.state),
        action: Array.from({ length: 12 }, () => frame.action),
      })),
    });
    const copy = join(root, 'const-b');
    cpSync(constant, copy, { recursive: true });
    const configFor = (batchSize: number) => {
      const path = join(root, `const-${batchSize}.json`);
      writeFileSync(
        path,
        JSON.stringify({
          model: { preset: 'tiny', generation: false, tiny: MICRO_MODEL },
          data: { datasets: [{ path: constant }, { path: copy }], concurrency: 2 },
          mode: 'pretrain',
          steps: 4,
          batchSize,
          checkpointEvery: 4,
          foresightEvery: 0,
          optim: { lr: 1e-2 },
          seed: 9,
        }),
      );
      return path;
    };
    const one = join(root, 'const-one');
    const two = join(root, 'const-two');
    const [a, b] = await Promise.all([
      launch(0, cli, ['-c', configFor(4), '--out', one, '-q'], { VLA_CPU_THREADS: '1' }).done,
      launch(2, cli, ['-c', configFor(2), '--out', two, '-q'], { VLA_CPU_THREADS: '1' }).done,
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const steps = async (dir: string) =>
      (await MetricsLog.read(join(dir, 'metrics.jsonl'))).filter((r): r is TrainRecord => r.kind === 'train');
    const [s1, s2] = [await steps(one), await steps(two)];
    expect(s2.map((r) => r.samples)).toEqual(s1.map((r) => r.samples));
    for (const [i, r] of s1.entries()) {
      expect(Math.abs(s2[i].loss - r.loss)).toBeLessThan(1e-5 * r.loss);
      expect(Math.abs(s2[i].gradNorm - r.gradNorm)).toBeLessThan(1e-5 * r.gradNorm);
    }
    // The steps moved the weights (the loss fell), and both runs moved them alike.
    expect(s1[3].loss).toBeLessThan(s1[0].loss);
    const [w1, w2] = await Promise.all([one, two].map((d) => readSafetensors(join(d, 'policy.safetensors'))));
    let worst = 0;
    let compared = 0;
    for (const [name, entry] of w1.tensors) {
      if (entry.dtype !== 'F32') continue;
      const [x, y] = await Promise.all([entry.data(), w2.tensors.get(name)!.data()]);
      worst = Math.max(worst, maxAbsDiff(x as Float32Array, y as Float32Array));
      compared++;
    }
    await Promise.all([w1.close(), w2.close()]);
    expect(compared).toBeGreaterThan(50);
    expect(worst).toBeLessThan(1e-5);
  });
});

describe('vla-train under mpirun', () => {
  const out = join(root, 'run');
  const configPath = join(root, 'config.json');
  // Two copies of one episode: LPT gives each rank its own dataset.
  const first = cutCr5(join(root, 'cr5-a'), 1);
  const second = join(root, 'cr5-b');
  cpSync(first, second, { recursive: true });
  writeFileSync(
    configPath,
    JSON.stringify({
      model: { preset: 'tiny', generation: true, tiny: MICRO_MODEL },
      data: {
        datasets: [{ path: first }, { path: second }],
        latentCache: join(root, 'latents'),
        samplesPerEpoch: 6,
        concurrency: 2,
      },
      mode: 'pretrain',
      steps: 4,
      batchSize: 2,
      gradAccumulation: 2,
      checkpointEvery: 2,
      foresightEvery: 0,
      optim: { lr: 1e-3 },
      seed: 5,
    }),
  );
  const env = { VLA_CPU_THREADS: '1' };

  it('trains on two ranks: rank 0 writes, checkpoints keep both positions, replicas identical', async () => {
    const r = await launch(2, cli, ['-c', configPath, '--out', out, '-q'], env).done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/data-parallel over MPI: 2 ranks/);
    const records = await MetricsLog.read(join(out, 'metrics.jsonl'));
    const steps = records.filter((x): x is TrainRecord => x.kind === 'train');
    expect(steps.map((s) => s.step)).toEqual([1, 2, 3, 4]);
    // The global batch: 2 ranks × 2 samples per step.
    expect(steps[3].samples).toBe(16);
    const events = records.filter((x) => x.kind === 'event').map((x) => (x as { message: string }).message);
    expect(events.filter((m) => /the 2 ranks' weights are identical/.test(m))).toHaveLength(2);
    const state = await readTrainState((await latestCheckpoint(join(out, 'checkpoints')))!);
    expect(state.worldSize).toBe(2);
    expect(state.ranks).toHaveLength(2);
    expect(state.ranks![0].dataOrder).not.toBe(state.ranks![1].dataOrder);
    expect(state.ranks!.map((p) => p.samples)).toEqual([8, 8]);
  });

  it('--resume continues on two ranks and refuses another world size', async () => {
    const again = await launch(2, cli, ['--resume', '--out', out, '--steps', '6', '-q'], env).done;
    expect(again.code, again.stderr).toBe(0);
    const steps = (await MetricsLog.read(join(out, 'metrics.jsonl'))).filter((x) => x.kind === 'train');
    expect(steps.map((s) => s.step)).toEqual([1, 2, 3, 4, 5, 6]);
    const alone = await launch(0, cli, ['--resume', '--out', out, '--steps', '8', '-q'], env).done;
    expect(alone.code).toBe(1);
    expect(alone.stderr).toMatch(/written by a run of 2 rank\(s\); resume it with the same number, not 1/);
  });

  it('a killed rank ends the job with an error, and the last checkpoint loads', async () => {
    const dir = join(root, 'killed');
    const job = launch(2, cli, ['-c', configPath, '--out', dir, '--steps', '400', '-q'], env);
    let finished: Run | undefined;
    void job.done.then((r) => (finished = r));
    const latest = join(dir, 'checkpoints', 'latest');
    while (!existsSync(latest) && !finished) await new Promise((ok) => setTimeout(ok, 200));
    expect(finished, finished?.stderr).toBeUndefined();
    // Rank 1 is the child of mpirun whose environment says so.
    const rank1 = childPids(job.pid).find((pid) => environOf(pid).includes('OMPI_COMM_WORLD_RANK=1'));
    expect(rank1).toBeDefined();
    process.kill(rank1!, 'SIGKILL');
    const r = await job.done;
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/signal 9|Killed/);
    const loaded = await loadTrainCheckpoint((await latestCheckpoint(join(dir, 'checkpoints')))!);
    expect(loaded.state.step).toBeGreaterThanOrEqual(2);
    loaded.policy.dispose();
  });
});

describe('a launcher without collectives', () => {
  it('train() refuses a multi-rank environment when no collective is given', async () => {
    const config = parseTrainConfig(
      withPreset('tiny', {
        model: { preset: 'tiny', generation: false, tiny: MICRO_MODEL },
        data: { datasets: [{ path: join(root, 'none') }] },
        steps: 1,
        batchSize: 1,
      }),
    );
    const saved = { ...process.env };
    Object.assign(process.env, { OMPI_COMM_WORLD_RANK: '1', OMPI_COMM_WORLD_SIZE: '2' });
    try {
      await expect(train(config, { out: join(root, 'refused') })).rejects.toThrow(
        /launched as rank 1 of 2 \(OMPI_COMM_WORLD_RANK\) but without collectives between the ranks/,
      );
    } finally {
      for (const k of ['OMPI_COMM_WORLD_RANK', 'OMPI_COMM_WORLD_SIZE']) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });
});

/** Direct children of `pid` (from /proc). */
function childPids(pid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((p) => {
      try {
        return Number(readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ')[1]) === pid;
      } catch {
        return false;
      }
    });
}

function environOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8');
  } catch {
    return '';
  }
}
