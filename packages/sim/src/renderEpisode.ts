import { spawn } from 'node:child_process';
import type { CameraFrame } from '@vla/robot-core';
import type { CameraSource } from './cameraSource.js';
import { GpuCamera, type GpuCameraOptions } from './gpuCamera.js';
import type { Mujoco } from './mujoco.js';
import { rayCastCameraSource } from './rayCastCamera.js';
import { ScriptedExpert } from './scriptedExpert.js';
import { SimEnv } from './simEnv.js';

/** Options of {@link renderEpisode}. */
export interface RenderOptions {
  readonly task: string;
  readonly robot: string;
  readonly seed: number;
  /** Output file; `.gif` writes a GIF, anything else an H.264 mp4. */
  readonly out: string;
  /** Camera to film (default `head`) and image size (default 320×240; 128×96 with a CPU source). */
  readonly camera?: string;
  readonly width?: number;
  readonly height?: number;
  /** What renders the frames: the GPU (default; needs WebGPU), the CPU ray-caster, or a custom source. */
  readonly source?: 'gpu' | 'raycast' | CameraSource;
  /** Settings of the GPU camera (engine, lighting, shadows). */
  readonly gpu?: GpuCameraOptions;
  readonly ffmpegPath?: string;
  readonly mujoco?: Mujoco;
}

/**
 * Run the scripted expert for one episode and film one camera into an mp4 or GIF with ffmpeg (which
 * must be installed). Returns whether the expert succeeded and how many frames were written. Node only.
 */
export async function renderEpisode(opts: RenderOptions): Promise<{ success: boolean; frames: number }> {
  const source = opts.source ?? 'gpu';
  const width = opts.width ?? (source === 'gpu' ? 320 : 128);
  const height = opts.height ?? (source === 'gpu' ? 240 : 96);
  // The environment renders nothing itself: only the filmed camera is rendered, below.
  const env = await SimEnv.create({ task: opts.task, robot: opts.robot, camera: null, mujoco: opts.mujoco });
  const cam = opts.camera ?? 'head';
  if (!env.robotSpec.embodiment.cameras.some((c) => c.name === cam))
    throw new Error(`renderEpisode: no camera "${cam}"`);
  if (source !== 'gpu' && source !== 'raycast' && typeof source !== 'function')
    throw new Error(
      `renderEpisode: source must be 'gpu', 'raycast' or a CameraSource, got ${JSON.stringify(source)}`,
    );
  const gpu = source === 'gpu' ? await GpuCamera.create(opts.gpu) : undefined;
  const cpu = source === 'raycast' ? rayCastCameraSource(env.mj) : source;
  const film = async (): Promise<CameraFrame> => {
    const w = env.world;
    if (typeof cpu === 'function') return cpu(w.model, w.data, cam, width, height);
    return (await gpu!.frames(w.data, [cam]))[cam];
  };
  const fps = env.robotSpec.embodiment.controlHz;
  const gif = opts.out.toLowerCase().endsWith('.gif');
  const args = [
    '-y',
    '-loglevel',
    'error',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    '-s',
    `${width}x${height}`,
    '-r',
    String(fps),
    '-i',
    '-',
  ];
  args.push(
    ...(gif
      ? ['-vf', 'split[a][b];[a]palettegen[p];[b][p]paletteuse']
      : ['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2']),
    opts.out,
  );
  const ff = spawn(opts.ffmpegPath ?? 'ffmpeg', args, { stdio: ['pipe', 'ignore', 'pipe'] });
  let err = '';
  ff.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const closed = new Promise<number>((resolve, reject) => {
    ff.on('error', reject);
    ff.on('close', (code) => resolve(code ?? 1));
  });
  let frames = 0;
  let success = false;
  try {
    env.reset(opts.seed);
    gpu?.attach(env.world.model, width, height);
    const expert = new ScriptedExpert(env);
    for (;;) {
      const frame = await film();
      if (!ff.stdin.write(frame.data)) await new Promise((r) => ff.stdin.once('drain', r));
      frames++;
      const r = env.step(expert.act());
      if (r.done) {
        success = r.success;
        break;
      }
    }
    expert.delete();
  } finally {
    ff.stdin.end();
    gpu?.dispose();
    env.delete();
  }
  const code = await closed;
  if (code !== 0) throw new Error(`renderEpisode: ffmpeg exited with ${code}: ${err.trim()}`);
  return { success, frames };
}
