// The policy in closed loop on the simulator, as the trainer's `evaluateInSim` drives it (the same I/O
// layer and observation history a real robot gets, 30 of each 50-action chunk executed), plus what
// the report shows of it: a larger camera view of the first episode filmed for a GIF, and the
// policy's decoded foresight of frame t+15 next to the frame that happened 15 ticks later.
import type { InternVLAA1Policy, PolicyProcessor } from '@vla/internvla-a1';
import { ObservationHistory, PAST_FRAME_OFFSET, policyActionSource } from '@vla/policy-runtime';
import { fromPolicyActions, toPolicyState, type CameraFrame } from '@vla/robot-core';
import { GpuCamera, Rng, SimEnv, simRobot, simTask } from '@vla/sim';
import type { ActionSource } from '@vla/robot-core';
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

/** One episode's outcome. */
export interface EpisodeOutcome {
  seed: number;
  success: boolean;
  /** Control ticks run. */
  ticks: number;
  /** Action chunks requested. */
  chunks: number;
  /** Wall-clock time of the episode, ms. */
  wallMs: number;
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
 * Runs `settings.episodes` seeded episodes of one task with the policy in the loop, on the GPU
 * camera at the policy's image size (what its demonstrations were recorded with), and films the first.
 */
export async function runTaskEpisodes(
  policy: InternVLAA1Policy,
  processor: PolicyProcessor,
  settings: ClosedLoopSettings,
): Promise<TaskRollouts> {
  const e = simRobot(settings.robot).embodiment;
  if (e.robotType !== processor.json.robotType)
    throw new Error(
      `closed loop: the simulator's ${settings.robot} is "${e.robotType}" but the policy was trained for "${processor.json.robotType}"`,
    );
  if (!(Number.isInteger(settings.episodes) && settings.episodes >= 1))
    throw new Error(`closed loop: episodes must be a positive integer, got ${settings.episodes}`);
  const size = processor.json.imageSize;
  const cameras = processor.json.cameras;
  const execute = settings.executeSteps ?? 30;
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
  const env = await SimEnv.create({
    task: settings.task,
    robot: settings.robot,
    camera: 'gpu',
    imageWidth: size,
    imageHeight: size,
  });
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
  try {
    for (let i = 0; i < settings.episodes; i++) {
      const seed = settings.firstSeed + i;
      const t0 = performance.now();
      let obs = await env.resetAsync(seed);
      history.reset();
      history.push(obs);
      const first = i === 0;
      const maxTicks = Math.min(settings.maxSteps ?? Infinity, env.instance.maxSteps);
      const film = first ? settings.film : undefined;
      if (film && filmCam) {
        filmCam.attach(env.world.model, film.size, film.size);
        result.frameStride = Math.max(1, Math.ceil(maxTicks / film.maxFrames));
      }
      const shoot = async (): Promise<void> => {
        if (film && filmCam)
          result.frames.push((await filmCam.frames(env.world.data, [film.camera]))[film.camera]);
      };
      await shoot();
      let plan: Float64Array[] = [];
      let chunks = 0;
      let success = false;
      for (;;) {
        if (plan.length === 0) {
          requestTick = env.stepCount;
          const source: ActionSource =
            first && result.foresight.length + predictions.length < wantPairs ? foreseeing : plain;
          const chunk = await source({
            robotType: e.robotType,
            state: toPolicyState(e, obs.state),
            images: obs.images,
            prompt: obs.instruction,
            timestampMs: obs.timestampMs,
          });
          chunks++;
          plan = fromPolicyActions(e, chunk, obs.state, { delta: false }).slice(0, execute);
        }
        const r = await env.stepAsync(plan.shift());
        obs = r.observation;
        history.push(obs);
        settings.onTick?.(i, env.stepCount);
        // The real frames the pending predictions were about.
        for (let k = predictions.length - 1; k >= 0; k--) {
          const p = predictions[k];
          if (env.stepCount !== p.tick + PAST_FRAME_OFFSET) continue;
          result.foresight.push({
            tick: p.tick,
            views: p.views,
            size: p.size,
            predicted: p.images,
            real: framesToChw(obs.images, cameras, p.size),
          });
          predictions.splice(k, 1);
        }
        const over = r.done || env.stepCount >= maxTicks;
        if (env.stepCount % result.frameStride === 0 || over) await shoot();
        if (over) {
          success = r.success;
          break;
        }
      }
      // A prediction whose t+15 lies past the episode's end has nothing to be compared with.
      predictions.length = 0;
      if (success) result.successes++;
      result.episodes.push({ seed, success, ticks: env.stepCount, chunks, wallMs: performance.now() - t0 });
      filmCam?.detach();
    }
  } finally {
    filmCam?.dispose();
    env.delete();
  }
  return result;
}
