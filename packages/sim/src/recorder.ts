import { robotToDataset } from '@vla/robot-core';
import { LeRobotWriter, type WriterFrame } from '@vla/lerobot';
import type { CameraSource } from './cameraSource.js';
import { datasetFeatures, datasetParts } from './datasetFeatures.js';
import type { GpuCameraOptions } from './gpuCamera.js';
import type { Mujoco } from './mujoco.js';
import { ScriptedExpert } from './scriptedExpert.js';
import { SimEnv } from './simEnv.js';

/** Options of {@link recordDataset}. */
export interface RecordOptions {
  readonly task: string;
  readonly robot: string;
  /** Episodes to run (seeds `firstSeed … firstSeed + episodes − 1`). */
  readonly episodes: number;
  /** Output folder of the LeRobot v3.0 dataset. */
  readonly out: string;
  readonly firstSeed?: number;
  /** Camera image size (default 224×224, the policy's input; 64×64 with the ray-caster or a custom one). */
  readonly imageWidth?: number;
  readonly imageHeight?: number;
  /** Camera: the GPU renderer (default; needs WebGPU), the CPU ray-caster, or a custom source. */
  readonly camera?: 'gpu' | 'raycast' | CameraSource;
  /** Settings of the GPU camera (engine, lighting, shadows). */
  readonly gpu?: GpuCameraOptions;
  /** Also save episodes where the expert failed (default false). */
  readonly keepFailures?: boolean;
  /** Called after each episode. */
  readonly onEpisode?: (e: { seed: number; success: boolean; length: number; saved: boolean }) => void;
  readonly mujoco?: Mujoco;
}

/** What {@link recordDataset} did. */
export interface RecordSummary {
  readonly episodes: number;
  readonly successes: number;
  readonly saved: number;
  readonly frames: number;
  readonly successRate: number;
}

/**
 * Run the scripted expert over seeds and write a LeRobot v3.0 dataset with `@vla/lerobot`'s writer:
 * the embodiment's upstream `robot_type`, InternData-A1 keys (`states.*.position`,
 * `actions.*.position` in dataset units, `images.rgb.{head,hand_left,hand_right}` videos), one frame per
 * control tick at the robot's control rate, the episode's instruction as its task. The action of a
 * frame is the SafeCommand executed at that tick (absolute targets), as a real robot's log would hold.
 */
export async function recordDataset(opts: RecordOptions): Promise<RecordSummary> {
  if (!(Number.isInteger(opts.episodes) && opts.episodes > 0))
    throw new Error(`recordDataset: episodes must be a positive integer, got ${opts.episodes}`);
  const camera = opts.camera ?? 'gpu';
  const width = opts.imageWidth ?? (camera === 'gpu' ? 224 : 64);
  const height = opts.imageHeight ?? (camera === 'gpu' ? 224 : 64);
  const env = await SimEnv.create({
    task: opts.task,
    robot: opts.robot,
    camera,
    gpu: opts.gpu,
    imageWidth: width,
    imageHeight: height,
    mujoco: opts.mujoco,
  });
  const e = env.robotSpec.embodiment;
  const parts = datasetParts(e);
  const writer = await LeRobotWriter.create(opts.out, {
    fps: e.controlHz,
    robotType: e.robotType,
    features: datasetFeatures(e, width, height),
  });
  let successes = 0;
  let saved = 0;
  let frames = 0;
  try {
    for (let k = 0; k < opts.episodes; k++) {
      const seed = (opts.firstSeed ?? 0) + k;
      let obs = await env.resetAsync(seed);
      const expert = new ScriptedExpert(env);
      let length = 0;
      let success = false;
      try {
        // Frames stream into the writer's encoders as they come; a failed episode is dropped at the end.
        for (;;) {
          const r = await env.stepAsync(expert.act());
          const state = robotToDataset(e, obs.state);
          const action = robotToDataset(e, r.command.positions);
          const row: WriterFrame = {};
          for (const p of parts) {
            row[`states.${p.part}.position`] = p.dims.map((i) => state[i]);
            row[`actions.${p.part}.position`] = p.dims.map((i) => action[i]);
          }
          for (const c of e.cameras) row[`images.rgb.${c.name}`] = obs.images[c.name].data;
          writer.addFrame(row);
          length++;
          obs = r.observation;
          if (r.done) {
            success = r.success;
            break;
          }
        }
      } catch (err) {
        // Stop the episode's encoders before the error leaves.
        await writer.clearEpisode().catch(() => undefined);
        throw err;
      } finally {
        expert.delete();
      }
      if (success) successes++;
      const save = success || opts.keepFailures === true;
      if (save) {
        await writer.saveEpisode({ task: env.instance.instruction });
        saved++;
        frames += length;
      } else {
        await writer.clearEpisode();
      }
      opts.onEpisode?.({ seed, success, length, saved: save });
    }
    if (saved === 0)
      throw new Error(
        `recordDataset: the expert succeeded on none of ${opts.episodes} episodes; nothing to write`,
      );
    await writer.finalize();
  } finally {
    env.delete();
  }
  return { episodes: opts.episodes, successes, saved, frames, successRate: successes / opts.episodes };
}
