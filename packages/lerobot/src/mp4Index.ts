import { createFile, DataStream, MP4BoxBuffer, type Movie, type Sample } from 'mp4box';
import { LeRobotError } from './errors';
import type { DatasetStorage } from './storage';

/** One coded frame of an mp4 video track. */
export interface Mp4Sample {
  /** Position in decode order (0-based). */
  decodeIndex: number;
  /** Position in presentation order (0-based): the `n` of ffmpeg's select filter. */
  frameIndex: number;
  /** Presentation time in seconds, edit list applied (what ffmpeg and PyAV report as pts·time_base). */
  time: number;
  /** Raw composition and decode times in track timescale units. */
  cts: number;
  dts: number;
  duration: number;
  /** Byte offset and size of the coded frame in the file. */
  offset: number;
  size: number;
  isSync: boolean;
}

/** The sample table of an mp4's first video track. */
export interface Mp4Index {
  path: string;
  /** RFC 6381 codec string (`av01.0.04M.08`, `avc1.64001f`, `hvc1...`). */
  codec: string;
  width: number;
  height: number;
  timescale: number;
  /** Samples in presentation order. */
  frames: Mp4Sample[];
  /** Samples in decode order. */
  decodeOrder: Mp4Sample[];
  /** Codec configuration record (avcC/hvcC/av1C/vpcC payload) for WebCodecs, when present. */
  description?: Uint8Array;
}

function badMp4(path: string, message: string, cause?: unknown): LeRobotError {
  return new LeRobotError('bad_mp4', `${path}: ${message}`, { path, cause });
}

function fragmented(path: string): LeRobotError {
  return new LeRobotError(
    'fragmented_mp4',
    `${path}: fragmented mp4 is not supported (remux it with ffmpeg -c copy)`,
    {
      path,
    },
  );
}

async function readBox(
  storage: DatasetStorage,
  path: string,
  offset: number,
  fileSize: number,
): Promise<{ type: string; size: number }> {
  const head = await storage.read(path, { start: offset, end: Math.min(fileSize, offset + 16) });
  if (head.length < 8) throw badMp4(path, `truncated mp4 box header at byte ${offset}`);
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  let size = view.getUint32(0);
  const type = String.fromCharCode(head[4], head[5], head[6], head[7]);
  if (size === 1) {
    if (head.length < 16) throw badMp4(path, `truncated 64-bit box size at byte ${offset}`);
    size = Number(view.getBigUint64(8));
  } else if (size === 0) {
    size = fileSize - offset;
  }
  if (size < 8) throw badMp4(path, `invalid mp4 box size ${size} at byte ${offset}`);
  return { type, size };
}

/**
 * Reads the index of an mp4 (the `moov` box only, wherever it is, via range reads) and returns
 * the first video track's samples with their presentation times. Raises `bad_mp4` for a file that
 * is not an mp4, is truncated or whose index does not parse, and `fragmented_mp4` for fragmented
 * files (not supported).
 */
export async function readMp4Index(storage: DatasetStorage, path: string): Promise<Mp4Index> {
  const fileSize = await storage.size(path);
  const parts: Uint8Array[] = [];
  let offset = 0;
  let sawFtyp = false;
  let sawMoov = false;
  while (offset < fileSize && !sawMoov) {
    const { type, size } = await readBox(storage, path, offset, fileSize);
    if (offset === 0 && type !== 'ftyp')
      throw badMp4(path, `not an mp4 file (first box '${type}', expected 'ftyp')`);
    if (type === 'moof') throw fragmented(path);
    if (type === 'ftyp' || type === 'moov') {
      if (offset + size > fileSize) {
        throw badMp4(
          path,
          `'${type}' box at byte ${offset} declares ${size} bytes but the file ends ${fileSize - offset} bytes later (truncated)`,
        );
      }
      parts.push(await storage.read(path, { start: offset, end: offset + size }));
      sawFtyp ||= type === 'ftyp';
      sawMoov ||= type === 'moov';
    }
    offset += size;
  }
  if (!sawFtyp || !sawMoov) throw badMp4(path, `no 'moov' box (truncated or not an mp4)`);
  let index: Mp4Index;
  try {
    index = parseMoov(path, parts);
  } catch (e) {
    if (e instanceof LeRobotError) throw e;
    // mp4box throws TypeError/RangeError on damaged boxes; say which file instead.
    throw badMp4(path, `cannot parse the mp4 index: ${(e as Error).message}`, e);
  }
  if (!(index.timescale > 0) || !(index.width > 0) || !(index.height > 0))
    throw badMp4(
      path,
      `video track has timescale ${index.timescale} and size ${index.width}x${index.height}`,
    );
  for (const f of index.decodeOrder) {
    if (!Number.isFinite(f.time)) throw badMp4(path, `frame ${f.decodeIndex} has no valid time`);
    if (f.offset + f.size > fileSize) {
      throw badMp4(
        path,
        `frame ${f.decodeIndex} lies at bytes ${f.offset}..${f.offset + f.size} but the file has ${fileSize} (truncated or damaged index)`,
      );
    }
  }
  return index;
}

/** Parses ftyp + moov with mp4box into the first video track's sample table. */
function parseMoov(path: string, parts: Uint8Array[]): Mp4Index {
  // mp4box parses boxes in sequence; ftyp + moov back to back is enough, since sample offsets are absolute.
  const joined = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    joined.set(p, o);
    o += p.length;
  }
  const file = createFile();
  let movie: Movie | undefined;
  let parseError: string | undefined;
  file.onReady = (m) => {
    movie = m;
  };
  file.onError = (module, message) => {
    parseError = `${module}: ${message}`;
  };
  file.appendBuffer(MP4BoxBuffer.fromArrayBuffer(joined.buffer, 0));
  file.flush();
  if (!movie) throw badMp4(path, `cannot parse the mp4 index${parseError ? ` (${parseError})` : ''}`);
  if (movie.isFragmented) throw fragmented(path);
  const track = movie.videoTracks[0];
  if (!track) throw badMp4(path, 'no video track');
  const samples: Sample[] = file.getTrackSamplesInfo(track.id);
  if (samples.length === 0) throw badMp4(path, 'the video track has no frames');
  // Edit list: leading empty edits delay the track; the first real edit says where media time starts.
  let shift = 0;
  let mediaStart = 0;
  for (const e of track.edits ?? []) {
    if (e.media_time === -1) shift += e.segment_duration / movie.timescale;
    else {
      mediaStart = e.media_time;
      break;
    }
  }
  const decodeOrder: Mp4Sample[] = samples.map((s, i) => ({
    decodeIndex: i,
    frameIndex: 0,
    time: (s.cts - mediaStart) / s.timescale + shift,
    cts: s.cts,
    dts: s.dts,
    duration: s.duration,
    offset: s.offset,
    size: s.size,
    isSync: s.is_sync,
  }));
  const frames = [...decodeOrder].sort((a, b) => a.cts - b.cts);
  frames.forEach((f, i) => {
    f.frameIndex = i;
  });
  let description: Uint8Array | undefined;
  const trak = file.getTrackById(track.id);
  const entry = trak?.mdia?.minf?.stbl?.stsd?.entries?.[0] as unknown as Record<
    string,
    { write(s: DataStream): void } | undefined
  >;
  const config = entry && (entry.avcC ?? entry.hvcC ?? entry.av1C ?? entry.vpcC);
  if (config) {
    const stream = new DataStream(undefined, 0); // big-endian by default;
    config.write(stream);
    description = new Uint8Array(stream.buffer as ArrayBuffer, 8);
  }
  return {
    path,
    codec: track.codec,
    width: track.video?.width ?? track.track_width,
    height: track.video?.height ?? track.track_height,
    timescale: track.timescale,
    frames,
    decodeOrder,
    description,
  };
}

/**
 * Finds the frame closest to `time` (seconds) and returns it when it lies within `tolerance`,
 * else undefined. `frames` must be in presentation order.
 */
export function closestFrame(frames: Mp4Sample[], time: number, tolerance: number): Mp4Sample | undefined {
  let lo = 0;
  let hi = frames.length - 1;
  if (hi < 0) return undefined;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (frames[mid].time <= time) lo = mid;
    else hi = mid;
  }
  const best = Math.abs(frames[lo].time - time) <= Math.abs(frames[hi].time - time) ? frames[lo] : frames[hi];
  return Math.abs(best.time - time) <= tolerance ? best : undefined;
}
