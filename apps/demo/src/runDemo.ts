// The main job in one call: the policy in closed loop on the simulator, fresh demonstrations, a short
// fine-tune (or a training from scratch) with the trainer, the loss on a fixed batch before and after,
// and one self-contained report plus a JSON summary in the run folder.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { InternVLAA1Policy, loadPolicyBundle, type PolicyProcessor } from '@vla/internvla-a1';
import {
  pretrainedPolicy,
  pretrainedPolicyPath,
  readTrainingRecord,
  type TrainingRecord,
} from '@vla/pretrained/node';
import { recordDataset } from '@vla/sim/node';
import { engine, manualSeed } from '@vla/tensor-webgpu';
import {
  MetricsLog,
  foresightPng,
  parseTrainConfig,
  policyConfigOf,
  train,
  withPreset,
  type DatasetSpec,
} from '@vla/trainer';
import { episodeTickLimit, runTaskEpisodes, type TaskRollouts } from './closedLoop.js';
import { DEMO_FIRST_SEED, DEMO_ROBOT, EVAL_FIRST_SEED, type DemoOptions } from './demoOptions.js';
import { demoReportHtml } from './demoReport.js';
import { fixedBatch, fixedBatchLoss } from './fixedBatchLoss.js';
import { rolloutGif } from './rolloutGif.js';

/** Names of the phases, in the order they run (each is timed). */
export type DemoPhase = 'load' | 'evaluate' | 'record' | 'train' | 'loss' | 'report';

/** Receives progress: the CLI draws a bar per phase with it. */
export interface DemoProgress {
  /** A phase with `total` units of work (`unit` names them) begins. */
  begin(phase: DemoPhase, total: number, unit: string): void;
  /** `done` units of the current phase are done; `info` is a short status. */
  update(done: number, info?: string): void;
  /** The current phase ended. */
  end(): void;
  /** A line for people. */
  log(message: string): void;
}

/** Closed-loop success of one task. */
export interface TaskSuccessSummary {
  episodes: number;
  successes: number;
  successRate: number;
  /** Seed of each episode and whether it succeeded. */
  runs: { seed: number; success: boolean; ticks: number }[];
}

/** What `summary.json` holds. */
export interface DemoSummary {
  /** `finetune` (the shipped or given policy) or `from-scratch`. */
  mode: 'finetune' | 'from-scratch';
  /** The evaluated policy: the shipped one's name, or a file. */
  policy: string;
  /** Which policy the success table is of. */
  evaluated: 'initial' | 'trained';
  /** Engine the policy ran on (`webgpu` or `cpu`). */
  engine: string;
  robot: string;
  /** Closed-loop success per task. */
  success: Record<string, TaskSuccessSummary>;
  /** The training phase: demonstrations, steps and the fixed-batch loss before and after. */
  training: {
    demonstrations: Record<string, number>;
    steps: number;
    batchSize: number;
    /** Loss on a fixed batch (fixed noise and times) before and after training. */
    lossBefore: number;
    lossAfter: number;
    /** The run's per-step training loss. */
    curve: { step: number; loss: number }[];
  };
  /** Wall-clock seconds per phase, and in all. */
  timings: Record<DemoPhase, number> & { total: number };
  /**
   * CPU seconds of this process (all its threads) per phase: beside the wall clock, what a phase
   * costs on a machine shared with other work. Child processes (ffmpeg) are not counted.
   */
  cpuTimes: Record<DemoPhase, number> & { total: number };
  /** Files written. */
  files: { report: string; summary: string; policy: string };
}

const silent: DemoProgress = { begin() {}, update() {}, end() {}, log() {} };

/** Folders the demo owns inside its run folder (cleared at the start of a run). */
const DEMOS_DIR = 'demos';
const TRAIN_DIR = 'train';

/**
 * Runs the demo as `options` say, writing `report.html` and `summary.json` in `options.out`, and
 * returns the summary. Call `init()` from `@vla/tensor-webgpu` first (the engine the trainer and the
 * controller use by default); the simulator's cameras render on WebGPU in any case.
 */
export async function runDemo(options: DemoOptions, progress: DemoProgress = silent): Promise<DemoSummary> {
  const t00 = performance.now();
  const out = resolve(options.out);
  const cpu00 = process.cpuUsage();
  const timings = {} as DemoSummary['timings'];
  const cpuTimes = {} as DemoSummary['cpuTimes'];
  const cpuSeconds = (since: NodeJS.CpuUsage): number => {
    const u = process.cpuUsage(since);
    return (u.user + u.system) / 1e6;
  };
  let phaseStart = performance.now();
  let cpuStart = process.cpuUsage();
  const finish = (phase: DemoPhase): void => {
    progress.end();
    timings[phase] = (performance.now() - phaseStart) / 1000;
    cpuTimes[phase] = cpuSeconds(cpuStart);
    phaseStart = performance.now();
    cpuStart = process.cpuUsage();
  };
  await mkdir(out, { recursive: true });
  await rm(join(out, DEMOS_DIR), { recursive: true, force: true });
  await rm(join(out, TRAIN_DIR), { recursive: true, force: true });

  // 1. The policy: the shipped one (with its training record), another checkpoint, or none yet.
  progress.begin('load', 1, 'policy');
  const policyPath = options.policy ? resolve(options.policy) : pretrainedPolicyPath();
  const policyName = options.policy ? basename(options.policy) : pretrainedPolicy().name;
  let record: TrainingRecord | null = null;
  if (!options.policy && !options.fromScratch) record = await readTrainingRecord();
  let initial: { policy: InternVLAA1Policy; processor: PolicyProcessor } | null = null;
  if (!options.fromScratch) {
    const b = await loadPolicyBundle(policyPath);
    if (!b.processor) {
      b.policy.dispose();
      throw new Error(`${policyPath} has no processor (train it with vla-train)`);
    }
    initial = { policy: b.policy, processor: b.processor };
    progress.log(`policy ${policyName}: ${b.policy.config.name}, trained for ${b.processor.json.robotType}`);
  }
  progress.update(1);
  finish('load');

  const evaluate = async (policy: InternVLAA1Policy, processor: PolicyProcessor): Promise<TaskRollouts[]> => {
    const results: TaskRollouts[] = [];
    // The bar counts ticks up to each episode's limit; an early success skips the rest of its share.
    const limits = options.tasks.map((task) =>
      Math.min(options.maxSteps ?? Infinity, episodeTickLimit(task, DEMO_ROBOT, EVAL_FIRST_SEED)),
    );
    progress.begin('evaluate', options.seeds * limits.reduce((a, b) => a + b, 0), 'ticks');
    let base = 0;
    for (const [k, task] of options.tasks.entries()) {
      const limit = limits[k];
      const r = await runTaskEpisodes(policy, processor, {
        task,
        robot: DEMO_ROBOT,
        episodes: options.seeds,
        firstSeed: EVAL_FIRST_SEED,
        maxSteps: options.maxSteps,
        film: { camera: 'head', size: options.filmSize, maxFrames: options.filmFrames },
        foresightPairs: options.foresightPairs,
        onTick: (episode, ticks) => progress.update(base + episode * limit + Math.min(ticks, limit), task),
      });
      base += limit * options.seeds;
      progress.update(base, task);
      progress.log(`${task}: ${r.successes}/${r.episodes.length} episodes succeeded`);
      results.push(r);
    }
    finish('evaluate');
    return results;
  };

  try {
    // 2. Closed loop with the loaded policy (from scratch: after training, below).
    let rollouts = initial ? await evaluate(initial.policy, initial.processor) : null;

    // 3. Fresh demonstrations from the scripted expert, at the policy's camera size.
    const size = initial?.processor.json.imageSize ?? 64;
    progress.begin('record', options.tasks.length * options.demos, 'episodes');
    const demonstrations: Record<string, number> = {};
    const datasets: DatasetSpec[] = [];
    let recorded = 0;
    for (const task of options.tasks) {
      const path = join(out, DEMOS_DIR, task);
      const s = await recordDataset({
        task,
        robot: DEMO_ROBOT,
        episodes: options.demos,
        firstSeed: DEMO_FIRST_SEED,
        out: path,
        camera: 'gpu',
        imageWidth: size,
        imageHeight: size,
        onEpisode: () => progress.update(++recorded, task),
      });
      demonstrations[task] = s.saved;
      datasets.push({ path, id: task });
    }
    finish('record');

    // 4. Fine-tune (warmup + cosine from the policy) or pretrain a fresh tiny policy, with the trainer.
    const trainOut = join(out, TRAIN_DIR);
    const config = parseTrainConfig(
      withPreset('tiny', {
        ...(options.fromScratch ? { mode: 'pretrain' } : { mode: 'finetune', init: policyPath }),
        data: { datasets, concurrency: 2 },
        steps: options.trainSteps,
        batchSize: options.batchSize,
        optim: {
          lr: options.lr,
          warmupSteps: Math.max(1, Math.round(options.trainSteps / 10)),
          floorLr: options.lr / 10,
        },
        checkpointEvery: options.trainSteps,
        foresightEvery: 0,
      }),
      'demo',
    );
    progress.begin('train', options.trainSteps, 'steps');
    const trained = await train(config, {
      out: trainOut,
      progress: {
        start: () => undefined,
        update: (r) => progress.update(r.step, `loss ${r.loss.toFixed(4)}`),
        phase: (name, done, total) => progress.update(0, `${name} ${done}/${total}`),
        stop: () => undefined,
      },
    });
    const curve = (await MetricsLog.read(join(trainOut, 'metrics.jsonl')))
      .filter((r) => r.kind === 'train')
      .map((r) => ({ step: r.step, loss: r.loss }));
    finish('train');

    // 5. The loss on one fixed batch before and after, with the trained policy's processor.
    progress.begin('loss', 2, 'policies');
    const after = await loadPolicyBundle(trained.policyPath);
    const processor = after.processor!;
    let lossBefore: number;
    let lossAfter: number;
    try {
      const batch = await fixedBatch({
        datasets,
        processor,
        policy: after.policy,
        batchSize: Math.min(8, options.batchSize * 2),
        seed: config.seed + 1,
      });
      let before = initial?.policy;
      if (!before) {
        // The policy train() started from: the same seed, the same configuration.
        manualSeed(config.seed);
        before = InternVLAA1Policy.create(policyConfigOf(config));
      }
      try {
        lossBefore = await fixedBatchLoss(before, processor, batch);
      } finally {
        if (!initial) before.dispose();
      }
      progress.update(1);
      lossAfter = await fixedBatchLoss(after.policy, processor, batch);
      progress.update(2);
      progress.log(`loss on a fixed batch: ${lossBefore.toFixed(4)} before, ${lossAfter.toFixed(4)} after`);
      finish('loss');
      // From scratch the success table is the trained policy's.
      if (!rollouts) rollouts = await evaluate(after.policy, processor);
    } finally {
      after.policy.dispose();
    }

    // 6. The report and the summary.
    progress.begin('report', options.tasks.length, 'tasks');
    const tasks = rollouts.map((r, i) => {
      progress.update(i + 1, r.task);
      const delayMs = Math.round((1000 / 30) * r.frameStride);
      return {
        task: r.task,
        successes: r.successes,
        episodes: r.episodes.length,
        seeds: r.episodes.map((e) => e.seed),
        gif: r.frames.length ? rolloutGif(r.frames, delayMs) : null,
        gifSeed: r.episodes[0].seed,
        foresight: r.foresight.map((p) => ({
          tick: p.tick,
          png: foresightPng(p.predicted, p.real, p.views, p.size),
        })),
      };
    });
    const success: Record<string, TaskSuccessSummary> = {};
    for (const r of rollouts)
      success[r.task] = {
        episodes: r.episodes.length,
        successes: r.successes,
        successRate: r.successes / r.episodes.length,
        runs: r.episodes.map((e) => ({ seed: e.seed, success: e.success, ticks: e.ticks })),
      };
    const reportPath = join(out, 'report.html');
    const summaryPath = join(out, 'summary.json');
    timings.report = 0;
    cpuTimes.report = 0;
    const summary: DemoSummary = {
      mode: options.fromScratch ? 'from-scratch' : 'finetune',
      policy: options.fromScratch ? 'a new tiny policy' : policyName,
      evaluated: options.fromScratch ? 'trained' : 'initial',
      engine: engine().kind,
      robot: DEMO_ROBOT,
      success,
      training: {
        demonstrations,
        steps: trained.step,
        batchSize: options.batchSize,
        lossBefore,
        lossAfter,
        curve,
      },
      timings: { ...timings, total: 0 },
      cpuTimes: { ...cpuTimes, total: 0 },
      files: { report: reportPath, summary: summaryPath, policy: trained.policyPath },
    };
    const writeAll = async (): Promise<void> => {
      await writeFile(reportPath, await demoReportHtml({ summary, record, tasks, generatedAt: new Date() }));
      await writeFile(summaryPath, `${JSON.stringify(summary, null, 2)}\n`);
    };
    await writeAll();
    finish('report');
    summary.timings = { ...timings, total: (performance.now() - t00) / 1000 };
    summary.cpuTimes = { ...cpuTimes, total: cpuSeconds(cpu00) };
    // Again, with the report's own time in the numbers it shows.
    await writeAll();
    return summary;
  } finally {
    initial?.policy.dispose();
  }
}
