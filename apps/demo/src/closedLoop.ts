// The policy in closed loop on the simulator, in the trainer's own episode loop (`runEpisodes`: the
// same I/O layer and observation history a real robot gets, 30 of each 50-action chunk executed), plus
// what the report shows of it: a larger camera view of the first episode filmed for a GIF, and the
// policy's decoded foresight of frame t+15 next to the frame that happened 15 ticks later.
import type { InternVLAA1Policy, PolicyProcessor } from '@vla/internvla-a1';
import { ObservationHistory, PAST_FRAME_OFFSET, policyActionSource } from '@vla/policy-runtime';
import type { CameraFrame } from '@vla/robot-core';
import { GpuCamera, Rng, simRobot, simTask, type SimEnv } from '@vla/sim';
import { runEpisodes, type EpisodeOutcome } from '@vla/trainer';
import type { RgbFrame } from './rolloutGif.js';

/** What {@link runTaskEpisodes} runs and films. */
export interface ClosedLoopSettings {
  /** Simulator task (`pick-place`, `conveyor-sort`, …). */
  task: string;
  /** Simulated robot; its embodiment must be the processor's robot type. */
  robot: string;
  /** Episodes, seeds `firstSeed … firstSeed + episodes − 1`. */
  episodes: number;
  /** Seed of the first episode. */
  firstSeed: number;
  /** Cut episodes after this many control ticks (a failure unless the goal was reached); default the task's limit. */
  maxSteps?: number;
  /** Actions executed from each chunk before asking for the next (default 30 of 50). */
  executeSteps?: number;
  /** The filmed view of the first episode: camera, square side in pixels, at most this many frames. */
  film?: { camera: string; size: number; maxFrames: number };
  /** Foresight pairs (predicted t+15 | real t+15) to keep from the first episode (default 0). */
  foresightPairs?: number;
  /** Called after every control tick with the episode's index and its ticks so far (progress). */
  onTick?: (episode: number, ticks: number) => void;
}

/** The policy's foresight of one chunk and the frames that came 15 ticks later. */
export interface ForesightPair {
  /** Control tick of the request (the prediction is of tick + 15). */
  tick: number;
  /** Views (the processor's cameras, in order). */
  views: number;
  /** Square side of each view. */
  size: number;
  /** Predicted frames t+15, `[views, 3, size, size]` in [-1, 1]. */
  predicted: Float32Array;
  /** Real frames t+15, same layout. */
  real: Float32Array;
}

/** What {@link runTaskEpisodes} returns. */
export interface TaskRollouts {
  task: string;
  robot: string;
  episodes: EpisodeOutcome[];
  successes: number;
  /** Frames of the first episode's filmed view (empty without `film`). */
  frames: RgbFrame[];
  /** Ticks between filmed frames. */
  frameStride: number;
  foresight: ForesightPair[];
}

/** Control ticks an episode of `task` may run before it counts as failed (the task's own limit). */
export function episodeTickLimit(task: string, robot: string, seed: number): number {
  return simTask(task).create(simRobot(robot), new Rng(seed)).maxSteps;
}

/** RGB8 HWC frames of `cameras` → `[views, 3, S, S]` in [-1, 1] (the policy's image range). */
function framesToChw(
  images: Readonly<Record<string, CameraFrame>>,
  cameras: readonly string[],
  size: number,
): Float32Array {
  const plane = size * size;
  const out = new Float32Array(cameras.length * 3 * plane);
  cameras.forEach((c, v) => {
    const f = images[c];
    if (!f || f.width !== size || f.height !== size)
      throw new Error(
        `foresight: camera ${c} frame is ${f ? `${f.width}×${f.height}` : 'missing'}, the policy sees ${size}×${size}`,
      );
    for (let p = 0; p < plane; p++)
      for (let ch = 0; ch < 3; ch++) out[(v * 3 + ch) * plane + p] = f.data[3 * p + ch] / 127.5 - 1;
  });
  return out;
}

/**
 * Runs `settings.episodes` seeded episodes of one task with the policy in the loop (the trainer's
 * `runEpisodes`, on the GPU camera at the policy's image size, which its demonstrations were recorded
 * with), films the first and keeps its foresight pairs.
 */
export async function runTaskEpisodes(
  policy: InternVLAA1Policy,
  processor: PolicyProcessor,
  settings: ClosedLoopSettings,
): Promise<TaskRollouts> {
  const cameras = processor.json.cameras;
  const wantPairs = settings.foresightPairs ?? 0;
  const history = new ObservationHistory();
  let requestTick = 0;
  const predictions: { tick: number; images: Float32Array; views: number; size: number }[] = [];
  const plain = policyActionSource({ policy, processor, history });
  // Decoding the foresight costs a tokenizer decode per chunk: only while pairs are still wanted.
  const foreseeing =
    wantPairs > 0
      ? policyActionSource({
          policy,
          processor,
          history,
          onForesight: (images, views, s) => predictions.push({ tick: requestTick, images, views, size: s }),
        })
      : plain;
  const filmCam = settings.film ? await GpuCamera.create() : undefined;
  const result: TaskRollouts = {
    task: settings.task,
    robot: settings.robot,
    episodes: [],
    successes: 0,
    frames: [],
    frameStride: 1,
    foresight: [],
  };
  let filming = false;
  const shoot = async (env: SimEnv): Promise<void> => {
    if (filming && filmCam && settings.film)
      result.frames.push(
        (await filmCam.frames(env.world.data, [settings.film.camera]))[settings.film.camera],
      );
  };
  try {
    result.episodes = await runEpisodes(
      processor,
      {
        task: settings.task,
        robot: settings.robot,
        episodes: settings.episodes,
        firstSeed: settings.firstSeed,
        executeSteps: settings.executeSteps,
        maxSteps: settings.maxSteps,
      },
      history,
      {
        source: (episode, tick) => {
          requestTick = tick;
          return episode === 0 && result.foresight.length + predictions.length < wantPairs
            ? foreseeing
            : plain;
        },
        start: async (env, episode, maxTicks) => {
          // A prediction whose t+15 lies past the last episode's end has nothing to be compared with.
          predictions.length = 0;
          if (filming) filmCam?.detach();
          filming = episode === 0 && settings.film !== undefined;
          if (filming && filmCam && settings.film) {
            filmCam.attach(env.world.model, settings.film.size, settings.film.size);
            result.frameStride = Math.max(1, Math.ceil(maxTicks / settings.film.maxFrames));
          }
          await shoot(env);
        },
        tick: async (env, obs, episode, over) => {
          settings.onTick?.(episode, env.stepCount);
          // The real frames the pending predictions were about.
          for (let k = predictions.length - 1; k >= 0; k--) {
            const p = predictions[k];
            if (env.stepCount !== p.tick + PAST_FRAME_OFFSET) continue;
            await env.develop(obs.images);
            result.foresight.push({
              tick: p.tick,
              views: p.views,
              size: p.size,
              predicted: p.images,
              real: framesToChw(obs.images, cameras, p.size),
            });
            predictions.splice(k, 1);
          }
          if (env.stepCount % result.frameStride === 0 || over) await shoot(env);
        },
      },
    );
  } finally {
    if (filming) filmCam?.detach();
    filmCam?.dispose();
  }
  result.successes = result.episodes.filter((o) => o.success).length;
  return result;
}
