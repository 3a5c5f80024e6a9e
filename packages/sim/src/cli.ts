#!/usr/bin/env node
// The vla-sim command line: record expert demonstrations as LeRobot datasets, render episodes.
import { SingleBar, Presets } from 'cli-progress';
import { shutdown } from '@vla/tensor-webgpu';
import { Command, InvalidArgumentError } from 'commander';
import { recordDataset } from './recorder.js';
import { renderEpisode } from './renderEpisode.js';
import { SIM_ROBOT_NAMES, simRobot } from './simRobots.js';
import { SIM_TASKS, simTask } from './tasks.js';

const int = (what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${what} must be a non-negative integer`);
  return n;
};
const check =
  <T>(f: (x: string) => T) =>
  (v: string) => {
    try {
      f(v);
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
    return v;
  };

const program = new Command('vla-sim').description('MuJoCo simulation of the vla robots');

program
  .command('record')
  .description('run the scripted expert over seeds and write a LeRobot v3.0 dataset')
  .requiredOption('--task <task>', `one of ${Object.keys(SIM_TASKS).join(', ')}`, check(simTask))
  .requiredOption('--robot <robot>', `one of ${SIM_ROBOT_NAMES.join(', ')}`, check(simRobot))
  .requiredOption('--episodes <n>', 'episodes to run', int('episodes'))
  .requiredOption('--out <dir>', 'output dataset folder')
  .option('--seed <n>', 'first seed', int('seed'), 0)
  .option('--size <px>', 'camera image width and height (default 224; 64 with --raycast)', int('size'))
  .option('--raycast', 'render with the CPU ray-caster instead of the GPU (a reference; slow)')
  .option('--keep-failures', 'also save episodes the expert failed')
  .action(
    async (o: {
      task: string;
      robot: string;
      episodes: number;
      out: string;
      seed: number;
      size?: number;
      raycast?: boolean;
      keepFailures?: boolean;
    }) => {
      const bar = new SingleBar(
        { format: 'record |{bar}| {value}/{total} episodes | success {rate}%' },
        Presets.shades_classic,
      );
      bar.start(o.episodes, 0, { rate: '0' });
      let done = 0;
      let ok = 0;
      const s = await recordDataset({
        task: o.task,
        robot: o.robot,
        episodes: o.episodes,
        out: o.out,
        firstSeed: o.seed,
        imageWidth: o.size,
        imageHeight: o.size,
        camera: o.raycast ? 'raycast' : 'gpu',
        keepFailures: o.keepFailures,
        onEpisode: (e) => {
          done++;
          if (e.success) ok++;
          bar.update(done, { rate: ((100 * ok) / done).toFixed(0) });
        },
      }).finally(() => bar.stop());
      console.log(
        `expert success ${s.successes}/${s.episodes} (${(100 * s.successRate).toFixed(1)}%); saved ${s.saved} episodes, ${s.frames} frames to ${o.out}`,
      );
    },
  );

program
  .command('render')
  .description('film one expert episode to an mp4 or GIF')
  .requiredOption('--task <task>', `one of ${Object.keys(SIM_TASKS).join(', ')}`, check(simTask))
  .requiredOption('--robot <robot>', `one of ${SIM_ROBOT_NAMES.join(', ')}`, check(simRobot))
  .requiredOption('--out <file>', 'output .mp4 or .gif')
  .option('--seed <n>', 'episode seed', int('seed'), 0)
  .option('--camera <name>', 'head, hand_left or hand_right', 'head')
  .option('--width <px>', 'image width (default 320; 128 with --raycast)', int('width'))
  .option('--height <px>', 'image height (default 240; 96 with --raycast)', int('height'))
  .option('--raycast', 'render with the CPU ray-caster instead of the GPU (a reference; slow)')
  .action(
    async (o: {
      task: string;
      robot: string;
      out: string;
      seed: number;
      camera: string;
      width?: number;
      height?: number;
      raycast?: boolean;
    }) => {
      const r = await renderEpisode({ ...o, source: o.raycast ? 'raycast' : 'gpu' });
      console.log(`${r.frames} frames to ${o.out}; expert ${r.success ? 'succeeded' : 'failed'}`);
    },
  );

// The GPU device keeps Node's event loop alive: release it, then leave.
program
  .parseAsync()
  .then(() => {
    shutdown();
    process.exit(0);
  })
  .catch((e: unknown) => {
    console.error(`vla-sim: ${e instanceof Error ? e.message : String(e)}`);
    shutdown();
    process.exit(1);
  });
