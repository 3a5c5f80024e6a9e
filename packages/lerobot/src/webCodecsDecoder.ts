import { LeRobotError } from './errors';
import type { Mp4Sample } from './mp4Index';
import type { VideoDecodeRequest, VideoFrameDecoder } from './videoDecoder';

/** Options of {@link WebCodecsDecoder}. */
export interface WebCodecsDecoderOptions {
  /** Prefer hardware or software decoding (WebCodecs `hardwareAcceleration`, default no preference). */
  hardwareAcceleration?: 'no-preference' | 'prefer-hardware' | 'prefer-software';
}

/** A run of samples in decode order that starts at a keyframe. */
interface Segment {
  first: number;
  last: number;
}

/**
 * Decodes mp4 frames in the browser with WebCodecs (AV1, H.264, HEVC — whatever the browser
 * supports). Only the coded frames from the keyframe before each requested frame up to it are
 * read (range reads through the storage) and decoded; output is packed RGB like ffmpeg's rgb24.
 */
export class WebCodecsDecoder implements VideoFrameDecoder {
  constructor(private readonly options: WebCodecsDecoderOptions = {}) {
    if (typeof (globalThis as { VideoDecoder?: unknown }).VideoDecoder === 'undefined') {
      throw new LeRobotError('unsupported', 'WebCodecs VideoDecoder is not available in this environment');
    }
  }

  // Keyframe-to-frame runs in decode order, merged where they overlap or touch.
  private segments(order: Mp4Sample[], wanted: Mp4Sample[]): Segment[] {
    const raw: Segment[] = wanted.map((f) => {
      let k = f.decodeIndex;
      while (k > 0 && !order[k].isSync) k--;
      // References of a frame (B-frames included) precede it in decode order, and flush() drains
      // reordering delay, so keyframe..frame is enough.
      return { first: k, last: f.decodeIndex };
    });
    raw.sort((a, b) => a.first - b.first);
    const out: Segment[] = [];
    for (const s of raw) {
      const prev = out[out.length - 1];
      if (prev && s.first <= prev.last + 1) prev.last = Math.max(prev.last, s.last);
      else out.push({ ...s });
    }
    return out;
  }

  async decode(req: VideoDecodeRequest): Promise<Uint8Array[]> {
    const { index, frames, storage, path } = req;
    if (frames.length === 0) return [];
    const config: VideoDecoderConfig = {
      codec: index.codec,
      codedWidth: index.width,
      codedHeight: index.height,
      hardwareAcceleration: this.options.hardwareAcceleration ?? 'no-preference',
    };
    if (index.description) config.description = index.description;
    const support = await VideoDecoder.isConfigSupported(config);
    if (!support.supported)
      throw new LeRobotError('unsupported', `${path}: this browser cannot decode ${index.codec}`, { path });
    const wantedByTs = new Map<number, number>();
    frames.forEach((f, i) => wantedByTs.set(Math.round(f.time * 1e6), i));
    const results: (Uint8Array | undefined)[] = new Array(frames.length);
    const conversions: Promise<void>[] = [];
    let failure: unknown;
    const decoder = new VideoDecoder({
      output: (frame) => {
        const slot = wantedByTs.get(frame.timestamp);
        if (slot === undefined || results[slot]) {
          frame.close();
          return;
        }
        conversions.push(
          toRgb(frame, index.width, index.height).then(
            (rgb) => {
              results[slot] = rgb;
            },
            (e) => {
              failure ??= e;
            },
          ),
        );
      },
      error: (e) => {
        failure ??= e;
      },
    });
    try {
      decoder.configure(config);
      for (const seg of this.segments(index.decodeOrder, frames)) {
        const samples = index.decodeOrder.slice(seg.first, seg.last + 1);
        const start = Math.min(...samples.map((s) => s.offset));
        const end = Math.max(...samples.map((s) => s.offset + s.size));
        const bytes = await storage.read(path, { start, end });
        for (const s of samples) {
          decoder.decode(
            new EncodedVideoChunk({
              type: s.isSync ? 'key' : 'delta',
              timestamp: Math.round(s.time * 1e6),
              duration: Math.round((s.duration / index.timescale) * 1e6),
              data: bytes.subarray(s.offset - start, s.offset - start + s.size),
            }),
          );
        }
        // Flushing between segments lets the next one start from its keyframe.
        await decoder.flush();
      }
      await Promise.all(conversions);
    } finally {
      if (decoder.state !== 'closed') decoder.close();
    }
    if (failure)
      throw new LeRobotError('video_error', `${path}: WebCodecs decoding failed: ${String(failure)}`, {
        path,
        cause: failure,
      });
    const missing = frames.filter((_, i) => !results[i]);
    if (missing.length > 0) {
      throw new LeRobotError(
        'video_error',
        `${path}: decoder produced no frame at t=[${missing.map((f) => f.time).join(', ')}]`,
        { path },
      );
    }
    return results as Uint8Array[];
  }
}

/** VideoFrame → packed RGB, via `copyTo` with RGBA conversion or, failing that, a 2D canvas. */
async function toRgb(frame: VideoFrame, width: number, height: number): Promise<Uint8Array> {
  let rgba: Uint8Array | Uint8ClampedArray;
  try {
    try {
      const opts = {
        format: 'RGBA',
        rect: { x: 0, y: 0, width, height },
      } as unknown as VideoFrameCopyToOptions;
      rgba = new Uint8Array(width * height * 4);
      await frame.copyTo(rgba, opts);
    } catch {
      const canvas = new OffscreenCanvas(width, height);
      const ctx = canvas.getContext('2d')!;
      ctx.drawImage(frame, 0, 0, width, height);
      rgba = ctx.getImageData(0, 0, width, height).data;
    }
  } finally {
    frame.close();
  }
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    rgb[j] = rgba[i];
    rgb[j + 1] = rgba[i + 1];
    rgb[j + 2] = rgba[i + 2];
  }
  return rgb;
}
