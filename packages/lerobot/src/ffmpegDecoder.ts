import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LeRobotError } from './errors';
import { Semaphore } from './semaphore';
import type { Mp4Sample } from './mp4Index';
import type { VideoDecodeRequest, VideoFrameDecoder } from './videoDecoder';

/**
 * Frames worth decoding through rather than opening another seeking input: an extra input costs
 * about as much as decoding a few dozen small frames (measured on 640x480 AV1 with dav1d).
 */
const SEEK_SLACK_FRAMES = 60;

/** Options of {@link FfmpegDecoder}. */
export interface FfmpegDecoderOptions {
  /** ffmpeg executable (default `ffmpeg` on PATH). */
  ffmpegPath?: string;
  /** Most ffmpeg processes alive at once (default: number of CPUs). */
  maxProcesses?: number;
  /** `-threads` passed to the decoder (default: ffmpeg's choice). */
  threads?: number;
  /**
   * swscale flags of the yuv → rgb24 conversion (default {@link ACCURATE_SWS_FLAGS}); null keeps
   * ffmpeg's defaults, whose chroma upsampling costs ~4/255 mean error on colourful content.
   */
  swsFlags?: string | null;
  /**
   * Longest one ffmpeg process may run before it is killed and the request fails with
   * `video_error`, in seconds (default: 60 s plus 50 ms per requested frame).
   */
  timeoutS?: number;
}

/** Full-resolution chroma interpolation with accurate rounding: the closest rgb24 ffmpeg produces. */
export const ACCURATE_SWS_FLAGS = 'bicubic+accurate_rnd+full_chroma_int';

/** Limits of {@link runProcess}: past either, the child is killed and the promise rejects. */
export interface ProcessLimits {
  /** Wall-clock limit in milliseconds. */
  timeoutMs?: number;
  /** Most stdout bytes accepted. */
  maxStdoutBytes?: number;
}

/**
 * Runs a command, collecting stdout as bytes and the tail of stderr. A child past `limits` is
 * killed (SIGKILL) and the promise rejects with `video_error`, so garbage input cannot hang a caller.
 */
export function runProcess(
  cmd: string,
  args: string[],
  input?: Uint8Array,
  limits: ProcessLimits = {},
): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = '';
    let failure: LeRobotError | undefined;
    const kill = (why: string): void => {
      if (failure) return;
      failure = new LeRobotError(
        'video_error',
        `${cmd} ${why}; killed it (stderr: ${err.trim().slice(-300)})`,
      );
      child.kill('SIGKILL');
    };
    const timer =
      limits.timeoutMs === undefined
        ? undefined
        : setTimeout(() => kill(`ran longer than ${limits.timeoutMs} ms`), limits.timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      outBytes += d.length;
      if (limits.maxStdoutBytes !== undefined && outBytes > limits.maxStdoutBytes) {
        kill(`wrote more than the ${limits.maxStdoutBytes} bytes expected`);
        return;
      }
      out.push(d);
    });
    child.stderr!.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-4000);
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(
        new LeRobotError('video_error', `cannot run ${cmd}: ${e.message} (is ffmpeg installed?)`, {
          cause: e,
        }),
      );
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (failure) reject(failure);
      else resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr: err });
    });
    // A child that exits before reading its input must not crash the process with EPIPE.
    child.stdin?.on('error', () => {});
    if (input) child.stdin!.end(input);
  });
}

/**
 * Decodes mp4 frames with the system ffmpeg into rgb24: one process per request, however many
 * frames it asks for. It seeks (`-ss` before `-i`) to just before the first frame and keeps
 * absolute timestamps (`-copyts`), so a `select` on `t` picks exactly the requested frames;
 * `-frames:v` stops decoding after the last one.
 */
export class FfmpegDecoder implements VideoFrameDecoder {
  private readonly ffmpeg: string;
  private readonly threads?: number;
  private readonly swsFlags: string | null;
  private readonly gate: Semaphore;
  private readonly timeoutS?: number;
  private tempDir?: Promise<string>;
  private readonly tempFiles = new Map<string, Promise<string>>();

  constructor(options: FfmpegDecoderOptions = {}) {
    this.ffmpeg = options.ffmpegPath ?? 'ffmpeg';
    this.threads = options.threads;
    this.swsFlags = options.swsFlags === undefined ? ACCURATE_SWS_FLAGS : options.swsFlags;
    this.gate = new Semaphore(options.maxProcesses ?? Math.max(1, cpus().length));
    this.timeoutS = options.timeoutS;
  }

  // Storages without a local path (URL, memory) are copied once to a temp file ffmpeg can seek in.
  private async inputPath(req: VideoDecodeRequest): Promise<string> {
    const local = req.storage.localPath?.(req.path);
    if (local) return local;
    const key = `${req.storage.location}\u0000${req.path}`;
    let p = this.tempFiles.get(key);
    if (!p) {
      p = (async () => {
        this.tempDir ??= mkdtemp(join(tmpdir(), 'vla-lerobot-'));
        const file = join(await this.tempDir, `${this.tempFiles.size}.mp4`);
        await writeFile(file, await req.storage.read(req.path));
        return file;
      })();
      this.tempFiles.set(key, p);
    }
    return p;
  }

  /**
   * Splits the requested frames into runs decoded from one seek each: a frame starts a new run
   * when decoding on from the previous one would cost more frames than seeking to its keyframe.
   */
  static clusters(req: VideoDecodeRequest): Mp4Sample[][] {
    const order = req.index.decodeOrder;
    const keyframeDistance = (f: Mp4Sample): number => {
      let k = f.decodeIndex;
      while (k > 0 && !order[k].isSync) k--;
      return f.decodeIndex - k;
    };
    const out: Mp4Sample[][] = [];
    for (const f of req.frames) {
      const run = out[out.length - 1];
      const prev = run?.[run.length - 1];
      if (prev && f.frameIndex - prev.frameIndex <= keyframeDistance(f) + SEEK_SLACK_FRAMES) run.push(f);
      else out.push([f]);
    }
    return out;
  }

  async decode(req: VideoDecodeRequest): Promise<Uint8Array[]> {
    const { index, frames } = req;
    if (frames.length === 0) return [];
    const input = await this.inputPath(req);
    const spacing =
      index.frames.length > 1
        ? (index.frames[index.frames.length - 1].time - index.frames[0].time) / (index.frames.length - 1)
        : 1;
    const eps = Math.min(1e-5, spacing / 4);
    const selectExpr = (run: Mp4Sample[]): string => {
      // Runs of consecutive frames become one between() term, keeping the expression short.
      const terms: string[] = [];
      for (let i = 0; i < run.length;) {
        let j = i;
        while (j + 1 < run.length && run[j + 1].frameIndex === run[j].frameIndex + 1) j++;
        terms.push(
          i === j
            ? `lt(abs(t-${run[i].time})\\,${eps})`
            : `between(t\\,${run[i].time - eps}\\,${run[j].time + eps})`,
        );
        i = j + 1;
      }
      return `select='${terms.join('+')}'`;
    };
    const runs = FfmpegDecoder.clusters(req);
    const args = ['-hide_banner', '-nostdin', '-v', 'error'];
    if (this.threads !== undefined) args.push('-threads', String(this.threads));
    args.push('-copyts');
    // One input per run, each seeking (accurately) to just before its first frame.
    for (const run of runs) {
      const seek = run[0].time - spacing / 2;
      if (seek > 0) args.push('-ss', String(seek));
      args.push('-an', '-i', input);
    }
    if (runs.length === 1) {
      args.push('-vf', selectExpr(runs[0]));
    } else {
      // Each run is selected on its own input, then the runs are joined in order.
      const graph = runs.map((run, i) => `[${i}:v:0]${selectExpr(run)},setpts=N[v${i}]`);
      graph.push(`${runs.map((_, i) => `[v${i}]`).join('')}concat=n=${runs.length}:v=1:a=0[out]`);
      // A complex graph takes its scaler flags from a graph-level directive, not -sws_flags.
      const prefix = this.swsFlags ? `sws_flags=${this.swsFlags};` : '';
      args.push('-filter_complex', prefix + graph.join(';'), '-map', '[out]');
    }
    args.push('-fps_mode', 'passthrough');
    if (this.swsFlags) args.push('-sws_flags', this.swsFlags);
    args.push('-frames:v', String(frames.length), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1');
    const frameBytes = index.width * index.height * 3;
    const timeoutS = this.timeoutS ?? 60 + 0.05 * frames.length;
    const { code, stdout, stderr } = await this.gate
      .run(() =>
        runProcess(this.ffmpeg, args, undefined, {
          timeoutMs: timeoutS * 1000,
          maxStdoutBytes: frameBytes * frames.length,
        }),
      )
      .catch((e: unknown) => {
        const why = e instanceof Error ? e.message : String(e);
        throw new LeRobotError('video_error', `decoding ${req.path}: ${why}`, { path: req.path, cause: e });
      });
    if (code !== 0) {
      throw new LeRobotError(
        'video_error',
        `ffmpeg failed decoding ${req.path} (exit ${code}): ${stderr.trim().slice(-500)}`,
        {
          path: req.path,
        },
      );
    }
    if (stdout.length !== frameBytes * frames.length) {
      const got = stdout.length / frameBytes;
      throw new LeRobotError(
        'video_error',
        `ffmpeg returned ${Number.isInteger(got) ? got : stdout.length + ' bytes'} of ${frames.length} frames ` +
          `(${index.width}x${index.height}) from ${req.path} at t=[${frames.map((f) => f.time).join(', ')}]`,
        { path: req.path },
      );
    }
    return frames.map(
      (_, k) => new Uint8Array(stdout.buffer, stdout.byteOffset + k * frameBytes, frameBytes),
    );
  }

  async close(): Promise<void> {
    if (this.tempDir) await rm(await this.tempDir, { recursive: true, force: true });
    this.tempDir = undefined;
    this.tempFiles.clear();
  }
}
