// Fixtures of the data pipeline tests: the shared LeRobot datasets, their raw parquet rows read straight
// with hyparquet (not through @vla/lerobot), ffmpeg's own decode of a frame, and small datasets written
// with LeRobotWriter (cr5 split in halves, seeded synthetic ones).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { LeRobotWriter } from '@vla/lerobot';
import { lerobotFixtures } from './fixtures.js';

export { lerobotFixtures };

export const CR5 = join(lerobotFixtures(), 'cr5_grasp_cube_v21');
export const SO101 = join(lerobotFixtures(), 'so101_test_v30');

/** One episode's raw columns: per row the state and action vectors (float64 copies of the stored values). */
export interface RawEpisode {
  episodeIndex: number;
  state: number[][];
  action: number[][];
  /** Global `index` of each row. */
  index: number[];
}

async function parquetRows(path: string): Promise<Record<string, unknown>[]> {
  const b = readFileSync(path);
  return (await parquetReadObjects({
    file: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer,
  })) as Record<string, unknown>[];
}

const vec = (v: unknown): number[] => Array.from(v as ArrayLike<number>, Number);

/** Every episode of a dataset from its data parquet files, grouped by `episode_index`, in index order. */
export async function rawEpisodes(root: string): Promise<RawEpisode[]> {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith('.parquet')) files.push(join(d, e.name));
    }
  };
  walk(join(root, 'data'));
  const byEpisode = new Map<number, RawEpisode>();
  for (const f of files) {
    for (const r of await parquetRows(f)) {
      const e = Number(r.episode_index);
      let ep = byEpisode.get(e);
      if (!ep) byEpisode.set(e, (ep = { episodeIndex: e, state: [], action: [], index: [] }));
      ep.state.push(vec(r['observation.state']));
      ep.action.push(vec(r.action));
      ep.index.push(Number(r.index));
    }
  }
  return [...byEpisode.values()].sort((a, b) => a.episodeIndex - b.episodeIndex);
}

/** A temp folder removed by `cleanup`. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'vla-trainer-data-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** ffmpeg's own decode (rgb24, the decoder's accurate conversion flags) of presentation frame `n`. */
export function ffmpegFrame(mp4: string, n: number): Uint8Array {
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
        '-sws_flags',
        'bicubic+accurate_rnd+full_chroma_int',
        '-frames:v',
        '1',
        '-f',
        'rawvideo',
        '-pix_fmt',
        'rgb24',
        'pipe:1',
      ],
      { maxBuffer: 1 << 26 },
    ),
  );
}

/** Options of {@link writeVectorDataset}. */
export interface VectorDatasetSpec {
  robotType: string | null;
  fps?: number;
  /** Names of the state dims (their count is the state width). */
  stateNames: string[];
  /** Names of the action dims. */
  actionNames: string[];
  episodes: { task: string; state: number[][]; action: number[][] }[];
}

/** Writes a v3.0 dataset of `observation.state` and `action` only (no cameras) with LeRobotWriter. */
export async function writeVectorDataset(dir: string, spec: VectorDatasetSpec): Promise<void> {
  const w = await LeRobotWriter.create(dir, {
    fps: spec.fps ?? 10,
    robotType: spec.robotType,
    features: {
      'observation.state': { dtype: 'float32', shape: [spec.stateNames.length], names: spec.stateNames },
      action: { dtype: 'float32', shape: [spec.actionNames.length], names: spec.actionNames },
    },
  });
  for (const ep of spec.episodes) {
    ep.state.forEach((s, i) => w.addFrame({ 'observation.state': s, action: ep.action[i] }));
    await w.saveEpisode({ task: ep.task });
  }
  await w.finalize();
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

/** A seeded synthetic episode: `length` rows of `width`-dim state and action (float32 values). */
export function syntheticEpisode(
  r: () => number,
  length: number,
  width: number,
  task: string,
): { task: string; state: number[][]; action: number[][] } {
  const row = () => Array.from({ length: width }, () => Math.fround(r() * 4 - 2));
  return {
    task,
    state: Array.from({ length }, row),
    action: Array.from({ length }, row),
  };
}

/** Mean and population std per column, in float64 (two passes). */
export function moments(rows: readonly number[][]): { mean: number[]; std: number[]; count: number } {
  const d = rows[0].length;
  const mean = Array.from({ length: d }, (_, j) => rows.reduce((a, r) => a + r[j], 0) / rows.length);
  const std = Array.from({ length: d }, (_, j) =>
    Math.sqrt(rows.reduce((a, r) => a + (r[j] - mean[j]) ** 2, 0) / rows.length),
  );
  return { mean, std, count: rows.length };
}

/** Writes a v3.0 dataset of noise frames (every frame distinct) from one camera plus a 4-dim state and action. */
export async function writeNoiseVideoDataset(
  dir: string,
  episodes: readonly number[],
  size: readonly [number, number],
  seed = 3,
): Promise<void> {
  const [h, w] = size;
  const r = rng(seed);
  const writer = await LeRobotWriter.create(dir, {
    fps: 10,
    robotType: null,
    videoCodec: 'libx264',
    features: {
      'observation.state': { dtype: 'float32', shape: [4] },
      action: { dtype: 'float32', shape: [4] },
      'observation.images.top': { dtype: 'video', shape: [h, w, 3] },
    },
  });
  for (const length of episodes) {
    for (let i = 0; i < length; i++) {
      const vec = Array.from({ length: 4 }, () => r());
      const image = Uint8Array.from({ length: h * w * 3 }, () => Math.floor(r() * 256));
      writer.addFrame({ 'observation.state': vec, action: vec, 'observation.images.top': image });
    }
    await writer.saveEpisode({ task: 'stack' });
  }
  await writer.finalize();
}
