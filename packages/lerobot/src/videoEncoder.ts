import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { LeRobotError } from './errors';
import { runProcess } from './ffmpegDecoder';

/** Encoders the writer can use, in order of preference (LeRobot's default first). */
export type VideoCodecName = 'libsvtav1' | 'libaom-av1' | 'libx264';

const encoderCache = new Map<string, Promise<Set<string>>>();

/** Lists the encoders of an ffmpeg binary (`ffmpeg -encoders`), cached per binary. */
export function ffmpegEncoders(ffmpeg = 'ffmpeg'): Promise<Set<string>> {
  let p = encoderCache.get(ffmpeg);
  if (!p) {
    p = runProcess(ffmpeg, ['-hide_banner', '-encoders']).then(({ stdout }) => {
      const names = new Set<string>();
      for (const line of stdout.toString().split('\n')) {
        const m = /^\s*V[.A-Z]{5}\s+(\S+)/.exec(line);
        if (m) names.add(m[1]);
      }
      return names;
    });
    encoderCache.set(ffmpeg, p);
  }
  return p;
}

/**
 * Picks the encoder for frames of `width × height`: libsvtav1 when present and the frame is at
 * least 64×64 (SVT-AV1's minimum), else libaom-av1, else libx264.
 */
export async function pickVideoCodec(
  width: number,
  height: number,
  ffmpeg = 'ffmpeg',
): Promise<VideoCodecName> {
  const have = await ffmpegEncoders(ffmpeg);
  if (have.has('libsvtav1') && width >= 64 && height >= 64) return 'libsvtav1';
  if (have.has('libaom-av1')) return 'libaom-av1';
  if (have.has('libx264')) return 'libx264';
  throw new LeRobotError(
    'video_error',
    `${ffmpeg} has none of libsvtav1, libaom-av1, libx264 (see \`${ffmpeg} -encoders\`)`,
  );
}

/** The `video.codec` name info.json uses for an encoder. */
export function codecFamily(codec: VideoCodecName): string {
  return codec === 'libx264' ? 'h264' : 'av1';
}

/** Options of {@link VideoStreamEncoder}. */
export interface VideoEncodeOptions {
  codec: VideoCodecName;
  fps: number;
  width: number;
  height: number;
  /** Constant rate factor (default 30, LeRobot's). */
  crf?: number;
  /** Keyframe interval in frames (default 2, LeRobot's, which keeps random access cheap). */
  gop?: number;
  ffmpegPath?: string;
}

/**
 * Streams rgb24 frames into ffmpeg, which writes a yuv420p mp4. `write` queues bytes without
 * waiting (Node buffers them); `finish` closes the stream and waits for the file.
 */
export class VideoStreamEncoder {
  private readonly child: ChildProcess;
  private readonly done: Promise<void>;
  private readonly frameBytes: number;
  private stderr = '';
  frames = 0;

  constructor(
    readonly output: string,
    readonly options: VideoEncodeOptions,
  ) {
    const { codec, fps, width, height } = options;
    const crf = options.crf ?? 30;
    const gop = options.gop ?? 2;
    this.frameBytes = width * height * 3;
    const args = ['-hide_banner', '-nostdin', '-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24'];
    args.push(
      '-s',
      `${width}x${height}`,
      '-r',
      String(fps),
      '-i',
      'pipe:0',
      '-c:v',
      codec,
      '-pix_fmt',
      'yuv420p',
      '-g',
      String(gop),
    );
    if (codec === 'libsvtav1') args.push('-crf', String(crf), '-preset', '8');
    else if (codec === 'libaom-av1')
      args.push('-crf', String(crf), '-b:v', '0', '-cpu-used', '8', '-row-mt', '1');
    else args.push('-crf', String(Math.min(crf, 51)), '-preset', 'fast');
    args.push('-an', output);
    const ffmpeg = options.ffmpegPath ?? 'ffmpeg';
    this.child = spawn(ffmpeg, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    // EPIPE after an early ffmpeg exit is reported by `finish` with ffmpeg's own message.
    this.child.stdin!.on('error', () => undefined);
    this.done = new Promise((resolve, reject) => {
      this.child.on('error', (e) =>
        reject(new LeRobotError('video_error', `cannot run ${ffmpeg}: ${e.message}`, { cause: e })),
      );
      this.child.on('close', (code) => {
        if (code === 0) resolve();
        else
          reject(
            new LeRobotError(
              'video_error',
              `ffmpeg (${codec}) failed writing ${output} (exit ${code}): ${this.stderr.trim().slice(-500)}`,
            ),
          );
      });
    });
    this.done.catch(() => undefined);
  }

  /** Queues one frame (`height × width × 3` bytes). */
  write(frame: Uint8Array): void {
    if (frame.length !== this.frameBytes) {
      throw new LeRobotError(
        'shape_mismatch',
        `video frame has ${frame.length} bytes, expected ${this.options.height}x${this.options.width}x3 = ${this.frameBytes}`,
      );
    }
    this.child.stdin!.write(frame);
    this.frames++;
  }

  /** Ends the stream and waits for ffmpeg to finish the file. */
  async finish(): Promise<void> {
    this.child.stdin!.end();
    await this.done;
  }

  /** Stops ffmpeg without producing a file (a discarded episode). */
  async abort(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.done.catch(() => undefined);
  }
}

/**
 * Joins mp4s of identical encoding into one without re-encoding (ffmpeg concat demuxer), the way
 * LeRobot v3.0 packs many episodes into one video file.
 */
export async function concatVideos(
  inputs: string[],
  output: string,
  listFile: string,
  ffmpeg = 'ffmpeg',
): Promise<void> {
  await writeFile(listFile, inputs.map((p) => `file '${p.replace(/'/g, "'\\''")}'`).join('\n') + '\n');
  const { code, stderr } = await runProcess(ffmpeg, [
    '-hide_banner',
    '-nostdin',
    '-v',
    'error',
    '-y',
    '-f',
    'concat',
    '-safe',
    '0',
    '-i',
    listFile,
    '-c',
    'copy',
    '-an',
    output,
  ]);
  if (code !== 0)
    throw new LeRobotError(
      'video_error',
      `ffmpeg could not concatenate ${inputs.length} videos into ${output}: ${stderr.trim().slice(-500)}`,
    );
}
