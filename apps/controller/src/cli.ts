#!/usr/bin/env node
// vla-control: `run` a checkpoint (or a remote openpi server) on the simulator or a ROS robot, `serve`
// a checkpoint over openpi's protocol. Exit codes: 0 done, 1 error (missing checkpoint, robot or
// server failure), 2 bad arguments, 130 stopped by a signal before the run started.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { init, shutdown } from '@vla/tensor-webgpu';
import { loadPolicyService, type Foresight } from '@vla/policy-runtime';
import { SIM_TASKS, simRobot } from '@vla/sim';
import { controlStrategy, type StrategyName } from './controlStrategy.js';
import { serviceEpisodes, type OpenEpisode } from './episodeSource.js';
import { installKeyboard } from './keyboard.js';
import { createRosRobot, ROS_ROBOTS, runRobot, type RosRobotName } from './rosRun.js';
import { RunControl } from './runControl.js';
import type { RunListener } from './runRecorder.js';
import { linkDashboard } from './dashboardLink.js';
import type { RunSummary } from './runSummary.js';
import { runSim } from './simRun.js';
import { embodimentOf } from './embodiments.js';

/** Bad command-line input: exit code 2. */
class UsageError extends Error {}

const positive = (what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`${what} must be a positive integer, got "${v}"`);
  return n;
};
const nonNegative = (what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`${what} must be a non-negative integer, got "${v}"`);
  return n;
};
const nonNegativeNumber = (what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || v.trim() === '')
    throw new InvalidArgumentError(`${what} must be a number ≥ 0, got "${v}"`);
  return n;
};
/** `--noise-scale`, the same for `run` and `serve`. */
const noiseScaleOption = () =>
  new Option(
    '--noise-scale <x>',
    "scale of the sampler's starting noise (default 1; 0 starts every chunk from zero)",
  ).argParser(nonNegativeNumber('--noise-scale'));
const log = (m: string) => process.stderr.write(`${m}\n`);

const SIM_ROBOTS = ['lift2', 'acone', 'genie1'];

interface RunFlags {
  task: string;
  robot: string;
  rosbridge?: string;
  strategy: StrategyName;
  executeSteps: number;
  episodes: number;
  maxSteps?: number;
  seed: number;
  samplerSeed?: number;
  noiseScale?: number;
  imageSize: number;
  camera: 'gpu' | 'raycast';
  dashboard?: number | true;
  prompt?: string;
  server?: string;
  lockstep?: boolean;
  delay: number;
  steps: number;
  json?: string;
}

function checkRunFlags(checkpoint: string | undefined, f: RunFlags): void {
  if (!checkpoint && !f.server) throw new UsageError('run: give a <checkpoint> or --server ws://…');
  if (checkpoint && f.server) throw new UsageError('run: give either a <checkpoint> or --server, not both');
  if (f.server && !/^wss?:\/\//.test(f.server))
    throw new UsageError(`--server must be a ws:// URL, got "${f.server}"`);
  const ros = (ROS_ROBOTS as readonly string[]).includes(f.robot) && f.robot !== 'genie1';
  if (f.rosbridge !== undefined) {
    if (!/^wss?:\/\//.test(f.rosbridge))
      throw new UsageError(`--rosbridge must be a ws:// URL, got "${f.rosbridge}"`);
    if (!(ROS_ROBOTS as readonly string[]).includes(f.robot))
      throw new UsageError(
        `--robot ${f.robot} is simulated; with --rosbridge use one of ${ROS_ROBOTS.join(', ')}`,
      );
    if (f.lockstep) throw new UsageError('--lockstep runs on the simulator only, not with --rosbridge');
  } else if (ros) {
    throw new UsageError(`--robot ${f.robot} is a ROS robot: it needs --rosbridge ws://…`);
  } else if (!SIM_ROBOTS.includes(f.robot)) {
    throw new UsageError(
      `--robot must be one of ${[...SIM_ROBOTS, ...ROS_ROBOTS].join(', ')}, got "${f.robot}"`,
    );
  }
}

/** Where the policy comes from: a local checkpoint (loaded once) or a remote openpi server. */
async function openPolicy(
  checkpoint: string | undefined,
  f: RunFlags,
  robotType: string,
  onForesight?: (f: Foresight) => void,
): Promise<{ openEpisode: OpenEpisode; close(): Promise<void> | void }> {
  if (f.server) {
    // Loaded on demand: the openpi client is only needed with --server.
    const { remoteEpisodes } = await import('./serve.js');
    return remoteEpisodes(f.server, embodimentOf(robotType));
  }
  if (!existsSync(checkpoint!)) throw new Error(`checkpoint not found: ${checkpoint}`);
  const loaded = await loadPolicyService(checkpoint!, {
    steps: f.steps,
    seed: f.samplerSeed ?? f.seed,
    ...(f.noiseScale !== undefined ? { noiseScale: f.noiseScale } : {}),
  });
  if (loaded.processor.json.robotType !== robotType) {
    loaded.dispose();
    throw new UsageError(
      `checkpoint ${checkpoint} was trained for "${loaded.processor.json.robotType}", but --robot ${f.robot} is "${robotType}"`,
    );
  }
  return { openEpisode: serviceEpisodes(loaded.service, onForesight), close: () => loaded.dispose() };
}

async function run(checkpoint: string | undefined, f: RunFlags): Promise<number> {
  checkRunFlags(checkpoint, f);
  // The GPU is needed for a local policy or the GPU camera; a remote policy on ray-cast images runs without.
  if (!f.server || f.camera === 'gpu') await init();
  const control = new RunControl();
  let sigints = 0;
  const onSignal = () => {
    if (++sigints > 1) process.exit(130);
    log('\nstopping: holding the robot, then exiting (press again to quit now)');
    control.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const keyboard = installKeyboard(control, log);
  const rosRobot = f.rosbridge ? createRosRobot(f.robot as RosRobotName, { url: f.rosbridge }) : undefined;
  const embodiment = rosRobot?.embodiment ?? simRobot(f.robot).embodiment;
  let listener: RunListener = { log };
  let dashboard: Awaited<ReturnType<typeof linkDashboard>> | undefined;
  if (f.dashboard !== undefined) {
    dashboard = await linkDashboard(
      { port: f.dashboard === true ? 8080 : f.dashboard, embodiment, control },
      log,
    );
    listener = dashboard.listener;
    log(`dashboard: ${dashboard.server.url}`);
  }
  const policy = await openPolicy(checkpoint, f, embodiment.robotType, dashboard?.foresight);
  const strategy = controlStrategy(f.strategy, f.executeSteps);
  let summary: RunSummary;
  try {
    if (rosRobot) {
      log(`connecting to ${f.rosbridge} (${f.robot})`);
      rosRobot.connect();
      summary = await runRobot({
        robot: rosRobot,
        robotName: f.robot,
        openEpisode: policy.openEpisode,
        strategy,
        prompt: f.prompt ?? '',
        ...(f.maxSteps !== undefined ? { maxSteps: f.maxSteps } : {}),
        control,
        listener,
      });
    } else {
      summary = await runSim({
        openEpisode: policy.openEpisode,
        task: f.task,
        robot: f.robot,
        camera: f.camera,
        imageSize: f.imageSize,
        episodes: f.episodes,
        seed: f.seed,
        ...(f.maxSteps !== undefined ? { maxSteps: f.maxSteps } : {}),
        strategy,
        ...(f.prompt !== undefined ? { prompt: f.prompt } : {}),
        ...(f.lockstep ? { lockstep: { delayTicks: f.delay } } : {}),
        control,
        listener,
      });
    }
  } finally {
    keyboard.dispose();
    await policy.close();
    await dashboard?.server.close();
  }
  const json = JSON.stringify(summary, null, 2);
  if (f.json) await writeFile(f.json, json);
  else process.stdout.write(`${json}\n`);
  log(
    `${summary.episodes} episodes, ${summary.successes} successes; ${summary.chunks} chunks, latency mean ${summary.chunkLatencyMs.mean.toFixed(1)} ms p95 ${summary.chunkLatencyMs.p95.toFixed(1)} ms; ${summary.holds} holds, ${summary.estops} e-stops, ${summary.errors} errors`,
  );
  return 0;
}

interface ServeFlags {
  port: number;
  host: string;
  maxBatch: number;
  steps: number;
  seed: number;
  noiseScale?: number;
}

async function serve(checkpoint: string, f: ServeFlags): Promise<number> {
  if (!existsSync(checkpoint)) throw new Error(`checkpoint not found: ${checkpoint}`);
  await init();
  const { serveCheckpoint } = await import('./serve.js');
  const server = await serveCheckpoint(checkpoint, f);
  // Tests and scripts read this line to find the port.
  log(`serving ${checkpoint} on ${server.url}`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  log('stopping the server');
  await server.close();
  return 0;
}

async function main(): Promise<number> {
  const program = new Command('vla-control')
    .description('run InternVLA-A1 checkpoints on the simulator or a ROS robot, or serve them over openpi')
    .exitOverride()
    .showHelpAfterError(false);
  let action: Promise<number> | undefined;
  program
    .command('run')
    .description('run a checkpoint (or --server) on the simulator (default) or a ROS robot')
    .argument('[checkpoint]', 'policy file with its processor (policy.safetensors of vla-train)')
    .addOption(
      new Option('--task <task>', 'simulator task').choices(Object.keys(SIM_TASKS)).default('pick-place'),
    )
    .addOption(
      new Option('--robot <robot>', 'simulated robot, or a ROS robot with --rosbridge')
        .choices([...SIM_ROBOTS, ...ROS_ROBOTS.filter((r) => r !== 'genie1')])
        .default('lift2'),
    )
    .option('--rosbridge <url>', 'rosbridge WebSocket of a real robot (ws://host:9090)')
    .addOption(
      new Option('--strategy <name>', 'chunk execution')
        .choices(['chunk', 'ensemble', 'rtc'])
        .default('chunk'),
    )
    .option('--execute-steps <n>', 'actions executed per chunk (chunk, rtc)', positive('--execute-steps'), 30)
    .option('--episodes <n>', 'simulator episodes', positive('--episodes'), 1)
    .option('--max-steps <n>', 'control ticks per episode at most', positive('--max-steps'))
    .option('--seed <n>', 'seed of the first episode and of the sampler', nonNegative('--seed'), 0)
    .option(
      '--sampler-seed <n>',
      "seed of the sampler's starting noise, when not --seed (replays episode k of a run: --seed <its seed> --sampler-seed <the run's --seed>)",
      nonNegative('--sampler-seed'),
    )
    .option('--image-size <px>', 'simulator camera size', positive('--image-size'), 64)
    .addOption(
      new Option('--camera <kind>', 'simulator camera renderer')
        .choices(['gpu', 'raycast'])
        .default('raycast'),
    )
    .option('--dashboard [port]', 'serve the live dashboard (default port 8080)', nonNegative('--dashboard'))
    .option('--prompt <text>', 'instruction (default: the simulator task’s)')
    .option('--server <url>', 'use a remote openpi policy server (ws://…) instead of a checkpoint')
    .option('--lockstep', 'simulated time, inference charged a fixed --delay (deterministic)')
    .option(
      '--delay <ticks>',
      'simulated inference delay in control ticks (--lockstep)',
      nonNegative('--delay'),
      5,
    )
    .option('--steps <n>', 'Euler steps of the sampler', positive('--steps'), 10)
    .addOption(noiseScaleOption())
    .option('--json <file>', 'write the JSON summary here instead of stdout')
    .action((checkpoint: string | undefined, flags: RunFlags) => {
      action = run(checkpoint, flags);
    });
  program
    .command('serve')
    .description('serve a checkpoint to openpi clients (WebSocket + msgpack-numpy)')
    .argument('<checkpoint>', 'policy file with its processor')
    .option('--port <n>', 'TCP port (0 = any free one)', nonNegative('--port'), 8000)
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option(
      '--max-batch <n>',
      'requests of concurrent clients batched on the GPU',
      positive('--max-batch'),
      8,
    )
    .option('--steps <n>', 'Euler steps of the sampler', positive('--steps'), 10)
    .addOption(noiseScaleOption())
    .option('--seed <n>', 'seed of the sampler', nonNegative('--seed'), 0)
    .action((checkpoint: string, flags: ServeFlags) => {
      action = serve(checkpoint, flags);
    });
  try {
    await program.parseAsync();
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    throw e;
  }
  return action ? await action : 0;
}

let code: number;
try {
  code = await main();
} catch (e) {
  log(`vla-control: ${(e as Error).message}`);
  if (process.env.VLA_DEBUG) log(`${(e as Error).stack}`);
  code = e instanceof UsageError ? 2 : 1;
} finally {
  shutdown();
}
process.exit(code!);
