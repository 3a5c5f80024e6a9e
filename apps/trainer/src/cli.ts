#!/usr/bin/env node
// vla-train: preset defaults ← config file ← flags, validated once; a progress bar; SIGINT/SIGTERM
// stop at the next step boundary after a checkpoint. Under mpirun every rank runs this and the run
// is data-parallel over MPI; rank 0 draws the bar and logs. Exit codes: 0 done, 1 error, 2 bad
// config, 3 diverged (NaN/Inf), 130 stopped by a signal.
import { availableParallelism } from 'node:os';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Presets, SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import { Mpi, mpiLaunch } from '@vla/mpi';
import { init, shutdown } from '@vla/tensor-webgpu';
import type { TrainCollective } from './collective.js';
import { mpiCollective } from './mpiCollective.js';
import { TrainingDivergedError, train, type TrainProgress } from './train.js';
import { parseTrainConfig, TRAIN_PRESETS, TrainConfigError, withPreset, deepMerge } from './trainConfig.js';

const positive = (what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${what} must be a positive integer`);
  return n;
};
const nonNegative = (what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${what} must be a non-negative integer`);
  return n;
};
const number = (what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`${what} must be a number`);
  return n;
};

interface Flags {
  config?: string;
  preset: 'tiny' | 'a1-3b';
  data?: string[];
  out: string;
  resume?: boolean;
  finetune?: string;
  steps?: number;
  batchSize?: number;
  gradAccum?: number;
  lr?: number;
  seed?: number;
  lambda?: number;
  recon?: number;
  generation: boolean;
  clip?: number | false;
  checkpointEvery?: number;
  foresightEvery?: number;
  latentCache: boolean;
  evalEvery?: number;
  evalTasks?: string[];
  evalRobot?: string;
  evalEpisodes?: number;
  bucketMib?: number;
  quiet?: boolean;
}

/** `path` or `path=weight`. */
function datasetArg(v: string): { path: string; weight?: number } {
  const eq = v.lastIndexOf('=');
  if (eq > 0 && /^[0-9.eE+-]+$/.test(v.slice(eq + 1)))
    return { path: v.slice(0, eq), weight: Number(v.slice(eq + 1)) };
  return { path: v };
}

/** The flags as a partial TrainConfig (only what was given). */
function flagsToConfig(f: Flags): Record<string, unknown> {
  const c: Record<string, unknown> = {};
  const optim: Record<string, unknown> = {};
  const data: Record<string, unknown> = {};
  if (f.data) data.datasets = f.data.map(datasetArg);
  if (!f.latentCache) data.latentCache = false;
  if (Object.keys(data).length) c.data = data;
  if (f.finetune) Object.assign(c, { mode: 'finetune', init: f.finetune });
  if (f.steps !== undefined) c.steps = f.steps;
  if (f.batchSize !== undefined) c.batchSize = f.batchSize;
  if (f.gradAccum !== undefined) c.gradAccumulation = f.gradAccum;
  if (f.seed !== undefined) c.seed = f.seed;
  if (f.lambda !== undefined) c.genLossWeight = f.lambda;
  if (f.recon !== undefined) c.imageReconWeight = f.recon;
  if (!f.generation) c.model = { generation: false };
  if (f.lr !== undefined) optim.lr = f.lr;
  if (f.clip !== undefined) optim.clipNorm = f.clip === false ? null : f.clip;
  if (Object.keys(optim).length) c.optim = optim;
  if (f.checkpointEvery !== undefined) c.checkpointEvery = f.checkpointEvery;
  if (f.foresightEvery !== undefined) c.foresightEvery = f.foresightEvery;
  if (f.evalEvery !== undefined || f.evalTasks || f.evalRobot || f.evalEpisodes !== undefined) {
    const ev: Record<string, unknown> = { every: f.evalEvery ?? 500 };
    if (f.evalTasks) ev.tasks = f.evalTasks;
    if (f.evalRobot) ev.robot = f.evalRobot;
    if (f.evalEpisodes !== undefined) ev.episodes = f.evalEpisodes;
    c.eval = ev;
  }
  return c;
}

async function readJson(path: string, what: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new TrainConfigError(
      '',
      `cannot read ${what} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      path,
    );
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new TrainConfigError('', `is not valid JSON (${(e as Error).message})`, path);
  }
}

function progressBar(quiet: boolean): TrainProgress | undefined {
  if (quiet) return undefined;
  const bar = new SingleBar(
    {
      format: 'step {value}/{total} |{bar}| loss {loss} | {sps} samples/s | ETA {eta_formatted}',
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 10_000,
      etaBuffer: 20,
    },
    Presets.shades_classic,
  );
  let phase = '';
  return {
    start: (total, step) => bar.start(total, step, { loss: '-', sps: '-' }),
    update: (r) => bar.update(r.step, { loss: r.loss.toFixed(4), sps: r.samplesPerSec.toFixed(2) }),
    phase: (name, done, total) => {
      if (name !== phase || done === total) process.stderr.write(`${name}: ${done}/${total}\n`);
      phase = name;
    },
    stop: () => bar.stop(),
  };
}

const program = new Command('vla-train')
  .description('train InternVLA-A1 on LeRobot datasets (defaults: preset tiny, pretraining)')
  .option('-c, --config <file>', 'JSON training config (see the README); flags override it')
  .addOption(
    new Option('-p, --preset <name>', 'run defaults and model size')
      .choices(Object.keys(TRAIN_PRESETS))
      .default('tiny'),
  )
  .option('-d, --data <folders...>', 'LeRobot dataset folders, each optionally `=weight`')
  .option(
    '-o, --out <dir>',
    'run folder (checkpoints, metrics.jsonl, report.html, policy.safetensors)',
    'runs/vla-train',
  )
  .option('--resume', 'continue the run in --out from its latest checkpoint')
  .option('--finetune <checkpoint>', 'fine-tune from a policy file or a run folder (warmup + cosine)')
  .option('--steps <n>', 'optimizer steps', positive('--steps'))
  .option('--batch-size <n>', 'samples per optimizer step', positive('--batch-size'))
  .option('--grad-accum <n>', 'micro-batches per step (divides the batch size)', positive('--grad-accum'))
  .option('--lr <x>', 'peak learning rate', number('--lr'))
  .option('--seed <n>', 'run seed', nonNegative('--seed'))
  .option('--lambda <x>', 'weight λ of the generation loss', number('--lambda'))
  .option('--recon <x>', 'weight μ of the image reconstruction loss (0: off)', number('--recon'))
  .option('--no-generation', 'the ablation without the generation expert')
  .option('--clip <x>', 'global gradient-norm clip (default 1)', number('--clip'))
  .option('--no-clip', 'no gradient clipping')
  .option('--checkpoint-every <n>', 'steps between checkpoints', positive('--checkpoint-every'))
  .option(
    '--foresight-every <n>',
    'steps between foresight images (0 = never)',
    nonNegative('--foresight-every'),
  )
  .option('--no-latent-cache', 'encode frames with the tokenizer every step instead of caching latents')
  .option('--eval-every <n>', 'steps between simulator evaluations (0 = never)', nonNegative('--eval-every'))
  .option('--eval-tasks <tasks...>', 'simulator tasks to evaluate')
  .option('--eval-robot <robot>', 'simulated robot (its embodiment must match the data)')
  .option('--eval-episodes <n>', 'episodes per task', positive('--eval-episodes'))
  .option(
    '--bucket-mib <n>',
    'gradient bucket size of a data-parallel run under mpirun (default 16)',
    positive('--bucket-mib'),
  )
  .option('-q, --quiet', 'no progress bar')
  .action(async (flags: Flags) => {
    let code = 0;
    const controller = new AbortController();
    const stop = () => {
      if (controller.signal.aborted) process.exit(130);
      process.stderr.write('\nstopping after this step (a checkpoint is written); press again to quit now\n');
      controller.abort();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    // Launched by mpirun with more than one rank: data-parallel over MPI.
    const launch = mpiLaunch();
    let mpi: Mpi | undefined;
    let collective: TrainCollective | undefined;
    let say = (m: string): void => void process.stderr.write(`${m}\n`);
    try {
      if (launch && launch.size > 1) {
        // Ranks on one machine share its cores unless told otherwise.
        const local = Number(process.env.OMPI_COMM_WORLD_LOCAL_SIZE ?? launch.size);
        process.env.VLA_CPU_THREADS ??= String(Math.max(1, Math.floor(availableParallelism() / local)));
        mpi = Mpi.init();
        collective = mpiCollective(mpi, flags.bucketMib ? { bucketBytes: flags.bucketMib * 2 ** 20 } : {});
        if (mpi.rank !== 0) say = () => undefined;
        say(`data-parallel over MPI: ${mpi.size} ranks, ${process.env.VLA_CPU_THREADS} CPU thread(s) each`);
      }
      let base: Record<string, unknown> = {};
      let source = 'flags';
      if (flags.config) {
        base = await readJson(flags.config, 'the config file');
        source = flags.config;
      } else if (flags.resume && !flags.data) {
        base = await readJson(join(flags.out, 'train-config.json'), 'the run config');
        source = join(flags.out, 'train-config.json');
      }
      // A config file's model preset picks the run defaults unless --preset was given.
      const filePreset = (base.model as { preset?: string } | undefined)?.preset;
      const preset =
        program.getOptionValueSource('preset') === 'default' && filePreset && filePreset in TRAIN_PRESETS
          ? (filePreset as Flags['preset'])
          : flags.preset;
      const merged = deepMerge(withPreset(preset, base), flagsToConfig(flags));
      const config = parseTrainConfig(merged, source);
      await init();
      const result = await train(config, {
        out: flags.out,
        resume: flags.resume,
        progress: progressBar((flags.quiet ?? false) || (mpi !== undefined && mpi.rank !== 0)),
        signal: controller.signal,
        log: say,
        collective,
      });
      say(
        `${result.status === 'done' ? 'done' : 'stopped'} at step ${result.step}: policy ${result.policyPath}, report ${result.reportPath}`,
      );
      if (result.status === 'stopped') code = 130;
      mpi?.finalize();
    } catch (e) {
      // Every rank reports its own error; exiting non-zero without finalize makes mpirun end the job.
      const who = mpi ? ` (rank ${mpi.rank} of ${mpi.size})` : '';
      process.stderr.write(`vla-train${who}: ${(e as Error).message}\n`);
      code = e instanceof TrainConfigError ? 2 : e instanceof TrainingDivergedError ? 3 : 1;
      if (code === 1 && process.env.VLA_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    } finally {
      shutdown();
    }
    process.exit(code);
  });

await program.parseAsync();
