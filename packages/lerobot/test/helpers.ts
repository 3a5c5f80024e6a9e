import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetReadObjects, type SchemaElement } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';

import { lerobotFixtures } from './fixtures';

export const FIXTURES = lerobotFixtures();
export const CR5 = join(FIXTURES, 'cr5_grasp_cube_v21');
export const SO101 = join(FIXTURES, 'so101_test_v30');

/**
 * ffmpeg's own decode of presentation frame `n` of an mp4 (decoding from the start, selecting by
 * frame number), as rgb24 bytes: the independent reference. `swsFlags` null = ffmpeg's defaults.
 */
export function ffmpegFrame(
  mp4: string,
  n: number,
  swsFlags: string | null = 'bicubic+accurate_rnd+full_chroma_int',
): Uint8Array {
  const sws = swsFlags ? ['-sws_flags', swsFlags] : [];
  return new Uint8Array(
    execFileSync(
      'ffmpeg',
      [
        '-v',
        'error',
        '-i',
        mp4,
        '-vf',
        `select=eq(n\\,${n})`,
        '-fps_mode',
        'passthrough',
        ...sws,
        '-frames:v',
        '1',
        '-f',
        'rawvideo',
        '-pix_fmt',
        'rgb24',
        'pipe:1',
      ],
      {
        maxBuffer: 1 << 28,
      },
    ),
  );
}

/** Every frame of an mp4 via ffmpeg (rgb24), split per frame. */
export function ffmpegAllFrames(mp4: string, width: number, height: number): Uint8Array[] {
  const all = execFileSync(
    'ffmpeg',
    ['-v', 'error', '-i', mp4, '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
    { maxBuffer: 1 << 30 },
  );
  const size = width * height * 3;
  return Array.from(
    { length: all.length / size },
    (_, i) => new Uint8Array(all.buffer, all.byteOffset + i * size, size),
  );
}

/** Frame count as ffprobe counts it. */
export function ffprobeFrameCount(mp4: string): number {
  const out = execFileSync('ffprobe', [
    '-v',
    'error',
    '-count_frames',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=nb_read_frames',
    '-of',
    'csv=p=0',
    mp4,
  ]);
  return Number(out.toString().trim());
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

/** Copies a fixture into a fresh temp folder (fixtures are read-only). */
export function copyFixture(src: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'vla-lerobot-test-'));
  cpSync(src, dir, { recursive: true });
  execFileSync('chmod', ['-R', 'u+w', dir]);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'vla-lerobot-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Rows of a parquet file read straight with hyparquet (not through the package). */
export async function rawRows(path: string): Promise<Record<string, unknown>[]> {
  const b = readFileSync(path);
  return (await parquetReadObjects({
    file: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer,
  })) as Record<string, unknown>[];
}

/** Relative closeness with an absolute floor. */
export function close(a: number, b: number, rtol: number, atol = 0): boolean {
  return Math.abs(a - b) <= atol + rtol * Math.abs(b);
}

/** Deterministic PRNG for test data (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Writes rows back as a LeRobot-like data parquet: arrays become lists of float32, bigints int64,
 * numbers float32 (the `timestamp` column), in the rows' key order.
 */
export function writeRowsParquet(path: string, rows: Record<string, unknown>[]): void {
  const names = Object.keys(rows[0]);
  const schema: SchemaElement[] = [{ name: 'schema', num_children: names.length }];
  for (const name of names) {
    const v = rows[0][name];
    if (Array.isArray(v) || ArrayBuffer.isView(v)) {
      schema.push(
        { name, repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        { name: 'element', repetition_type: 'OPTIONAL', type: 'FLOAT' },
      );
    } else {
      schema.push({ name, repetition_type: 'OPTIONAL', type: typeof v === 'bigint' ? 'INT64' : 'FLOAT' });
    }
  }
  const buf = parquetWriteBuffer({
    columnData: names.map((name) => ({ name, data: rows.map((r) => r[name]) as never })),
    schema,
  });
  writeFileSync(path, new Uint8Array(buf));
}

/** Top-level boxes of an mp4 file (type, byte offset, size), read straight from the bytes. */
export function mp4Boxes(bytes: Uint8Array): { type: string; offset: number; size: number }[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: { type: string; offset: number; size: number }[] = [];
  for (let o = 0; o + 8 <= bytes.length;) {
    const size = view.getUint32(o);
    out.push({ type: String.fromCharCode(...bytes.subarray(o + 4, o + 8)), offset: o, size });
    if (size < 8) break;
    o += size;
  }
  return out;
}
