// Campaign 2: LeRobot datasets (@vla/lerobot). Each case copies a real fixture (v2.1 with AV1
// videos, v3.0 without) into a temporary folder, breaks one thing, then does what a training loader
// does: open, read every episode, read the stats, and for video mutations decode frames. A dataset
// that opens is checked against the independent reading in ../oracle/lerobotTruth.ts (hyparquet
// rows, JSON metadata, ffprobe frame rates, ffmpeg's own frame decode).
import {
  cpSync,
  existsSync,
  lstatSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import {
  FfmpegDecoder,
  LeRobotDataset,
  LeRobotError,
  NodeFileStorage,
  type DatasetStats,
} from '@vla/lerobot';
import { lerobotFixtures } from '../fixtures.js';
import { scratchDir } from '../scratch.js';
import { judgeByClass, type Campaign, type CaseContext, type FuzzCase, type Verdict } from '../outcome.js';
import {
  datasetTruth,
  ffmpegFrame,
  flattenNumbers,
  readParquetFile,
  run,
  videoFps,
  writeParquetFile,
  type DatasetTruth,
} from '../oracle/lerobotTruth.js';
import type { Rng } from '../rng.js';
import { DATASET_KINDS } from './names.js';

const CR5 = 'cr5_grasp_cube_v21';
const SO101 = 'so101_test_v30';
const CR5_LENGTHS = [107, 167, 76, 83, 97];
const VIDEO_KEY = 'observation.images.top';
const cr5Video = (ep: number) => `videos/chunk-000/${VIDEO_KEY}/episode_${String(ep).padStart(6, '0')}.mp4`;
const cr5Data = (ep: number) => `data/chunk-000/episode_${String(ep).padStart(6, '0')}.parquet`;

/** What a case did to its copy, and which episode's frames to decode. */
interface Applied {
  what: string;
  subjects: string[];
  decodeEpisode?: number;
}

type Json = Record<string, unknown>;

/** One case's working copy of a fixture. */
class CaseDir {
  constructor(
    readonly dir: string,
    readonly fixture: string,
    private readonly pristine: string,
  ) {}

  path(rel: string): string {
    return join(this.dir, rel);
  }

  /** Makes `rel` a real file (videos start as links to the pristine copy) and returns its path. */
  own(rel: string): string {
    const p = this.path(rel);
    if (lstatSync(p).isSymbolicLink()) {
      unlinkSync(p);
      cpSync(join(this.pristine, rel), p);
    }
    return p;
  }

  /** Replaces `rel` with the bytes of `src`. */
  replace(rel: string, src: string): void {
    const p = this.path(rel);
    rmSync(p, { force: true });
    cpSync(src, p);
  }

  readJson(rel: string): Json {
    return JSON.parse(readFileSync(this.path(rel), 'utf8')) as Json;
  }

  writeJson(rel: string, v: unknown): void {
    writeFileSync(this.own(rel), JSON.stringify(v, null, 1));
  }

  parquets(): string[] {
    return readdirSync(this.dir, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.parquet'))
      .sort();
  }
}

/** What a clear error about file `rel` names: the file, or for the v3.0 episode table its folder. */
function fileSubjects(rel: string): string[] {
  return rel.startsWith('meta/episodes/') ? [basename(rel), 'meta/episodes'] : [basename(rel)];
}

function flip(rng: Rng, path: string, from = 0, to?: number): string {
  const b = readFileSync(path);
  const end = to ?? b.length;
  const at: string[] = [];
  for (let k = rng.int(1, 4); k > 0; k--) {
    const i = rng.int(from, end - 1);
    const x = rng.int(1, 255);
    b[i] ^= x;
    at.push(`${i}^0x${x.toString(16)}`);
  }
  writeFileSync(path, b);
  return at.join(', ');
}

function dataFileOf(d: CaseDir, rng: Rng): { rel: string; episode: number } {
  if (d.fixture === CR5) {
    const episode = rng.int(0, 4);
    return { rel: cr5Data(episode), episode };
  }
  return { rel: 'data/chunk-000/file-000.parquet', episode: rng.int(0, 2) };
}

async function editRows(
  d: CaseDir,
  rng: Rng,
  edit: (rows: Json[], episode: number) => string,
): Promise<{ rel: string; what: string }> {
  const { rel, episode } = dataFileOf(d, rng);
  const table = await readParquetFile(d.own(rel));
  const mine = table.rows.filter((r) => Number(r.episode_index) === episode);
  const what = edit(mine, episode);
  // Rows are edited in place (the same objects), unless the edit replaced the episode's rows.
  if ((mine as Json[] & { replaced?: Json[] }).replaced) {
    const repl = (mine as Json[] & { replaced?: Json[] }).replaced!;
    const first = table.rows.indexOf(mine[0]);
    table.rows.splice(first, mine.length, ...repl);
  }
  writeParquetFile(d.path(rel), table);
  return { rel, what: `${rel} episode ${episode}: ${what}` };
}

function replaceRows(rows: Json[], repl: Json[]): void {
  (rows as Json[] & { replaced?: Json[] }).replaced = repl;
}

async function mutate(kind: string, rng: Rng, d: CaseDir, variants: VideoVariants): Promise<Applied> {
  const v21 = d.fixture === CR5;
  switch (kind) {
    case 'control':
      return { what: 'untouched', subjects: [], decodeEpisode: v21 ? rng.int(0, 4) : undefined };
    case 'parquet-truncate':
    case 'parquet-flip': {
      const rel = rng.pick(d.parquets());
      const p = d.own(rel);
      if (kind === 'parquet-truncate') {
        const size = readFileSync(p).length;
        const at = rng.int(0, size - 1);
        truncateSync(p, at);
        return { what: `${rel} truncated to ${at} of ${size} bytes`, subjects: fileSubjects(rel) };
      }
      return { what: `${rel} bytes flipped at ${flip(rng, p)}`, subjects: fileSubjects(rel) };
    }
    case 'info-edit':
      return infoEdit(rng, d);
    case 'stats-edit':
      return statsEdit(rng, d);
    case 'episodes-edit':
      return episodesEdit(rng, d);
    case 'timestamps': {
      const edit = rng.pick(['swap', 'duplicate', 'reverse', 'shift', 'scale', 'nan', 'negative'] as const);
      const r = await editRows(d, rng, (rows) => {
        const k = rng.int(1, rows.length - 1);
        const ts = rows.map((x) => x.timestamp as number);
        switch (edit) {
          case 'swap':
            [rows[k - 1].timestamp, rows[k].timestamp] = [ts[k], ts[k - 1]];
            return `timestamps of rows ${k - 1} and ${k} swapped`;
          case 'duplicate':
            rows[k].timestamp = ts[k - 1];
            return `row ${k} repeats timestamp ${ts[k - 1]}`;
          case 'reverse':
            rows.forEach((x, i) => (x.timestamp = ts[rows.length - 1 - i]));
            return 'timestamps reversed';
          case 'shift':
            rows.forEach((x, i) => (x.timestamp = Math.fround(ts[i] + 0.5)));
            return 'timestamps shifted by +0.5 s';
          case 'scale':
            rows.forEach((x, i) => (x.timestamp = Math.fround(ts[i] * 2)));
            return 'timestamps doubled (another fps)';
          case 'nan':
            rows[k].timestamp = NaN;
            return `row ${k} timestamp NaN`;
          case 'negative':
            rows[0].timestamp = -0.1;
            return 'row 0 timestamp -0.1';
        }
      });
      return {
        what: r.what,
        subjects: [basename(r.rel), 'timestamp'],
        decodeEpisode: v21 && rng.chance(0.3) ? Number(/episode_(\d+)/.exec(r.rel)?.[1]) : undefined,
      };
    }
    case 'rows-edit': {
      const edit = rng.pick([
        'short-state',
        'long-action',
        'episode-index',
        'frame-index',
        'drop-row',
        'duplicate-row',
        'nan-state',
      ] as const);
      const r = await editRows(d, rng, (rows, episode) => {
        const k = rng.int(0, rows.length - 1);
        switch (edit) {
          case 'short-state':
            rows[k]['observation.state'] = (rows[k]['observation.state'] as number[]).slice(1);
            return `row ${k} observation.state one value short`;
          case 'long-action':
            rows[k].action = [...(rows[k].action as number[]), 0.5];
            return `row ${k} action one value long`;
          case 'episode-index':
            rows[k].episode_index = BigInt(episode + 1);
            return `row ${k} episode_index ${episode + 1}`;
          case 'frame-index':
            rows[k].frame_index = BigInt(k + 3);
            return `row ${k} frame_index ${k + 3}`;
          case 'drop-row':
            replaceRows(
              rows,
              rows.filter((_, i) => i !== k),
            );
            return `row ${k} removed`;
          case 'duplicate-row':
            replaceRows(rows, [...rows.slice(0, k + 1), { ...rows[k] }, ...rows.slice(k + 1)]);
            return `row ${k} duplicated`;
          case 'nan-state': {
            const s = [...(rows[k]['observation.state'] as number[])];
            s[0] = NaN;
            rows[k]['observation.state'] = s;
            return `row ${k} observation.state[0] = NaN`;
          }
        }
      });
      return { what: r.what, subjects: [basename(r.rel)] };
    }
    case 'video-swap': {
      const a = rng.int(0, 4);
      const b = (a + rng.int(1, 4)) % 5;
      const pa = d.own(cr5Video(a));
      const pb = d.own(cr5Video(b));
      renameSync(pa, `${pa}.tmp`);
      renameSync(pb, pa);
      renameSync(`${pa}.tmp`, pb);
      return {
        what: `videos of episodes ${a} and ${b} swapped`,
        subjects: [basename(cr5Video(a)), basename(cr5Video(b))],
        decodeEpisode: a,
      };
    }
    case 'video-fps': {
      const mode = rng.pick(['dup20', 'retime20', 'retime5'] as const);
      d.replace(cr5Video(2), await variants.get(`fps-${mode}`));
      return {
        what: `${cr5Video(2)} re-encoded (${mode}: ${mode === 'dup20' ? 'same frames at 20 fps, duplicated' : `frames retimed to ${mode.slice(6)} fps`})`,
        subjects: [basename(cr5Video(2)), 'fps'],
        decodeEpisode: 2,
      };
    }
    case 'video-truncate': {
      const ep = rng.int(0, 4);
      const p = d.own(cr5Video(ep));
      const size = readFileSync(p).length;
      const at = rng.int(0, size - 1);
      truncateSync(p, at);
      return {
        what: `${cr5Video(ep)} truncated to ${at} of ${size} bytes`,
        subjects: [basename(cr5Video(ep))],
        decodeEpisode: ep,
      };
    }
    case 'video-fragment': {
      const ep = rng.int(0, 4);
      d.replace(cr5Video(ep), await variants.get(`frag-${ep}`));
      return {
        what: `${cr5Video(ep)} remuxed as fragmented mp4 (frag_keyframe+empty_moov)`,
        subjects: [basename(cr5Video(ep))],
        decodeEpisode: ep,
      };
    }
    case 'video-flip': {
      const ep = rng.int(0, 4);
      const p = d.own(cr5Video(ep));
      const size = readFileSync(p).length;
      // Mostly the box headers and the moov box (the last few KiB of these files), sometimes anywhere.
      const tail = rng.chance(0.7);
      const at = tail
        ? flip(rng, p, Math.max(0, size - 8192))
        : rng.chance(0.5)
          ? flip(rng, p, 0, 64)
          : flip(rng, p);
      return {
        what: `${cr5Video(ep)} bytes flipped at ${at}`,
        subjects: [basename(cr5Video(ep))],
        decodeEpisode: ep,
      };
    }
  }
  throw new Error(`unknown kind ${kind}`);
}

function infoEdit(rng: Rng, d: CaseDir): Applied {
  const rel = 'meta/info.json';
  const edit = rng.pick([
    'garble',
    'fps',
    'total_frames',
    'total_episodes',
    'shape',
    'dtype',
    'drop-feature',
    'data_path',
    'chunks_size',
    'version',
    'video-fps',
  ] as const);
  if (edit === 'garble') {
    const text = readFileSync(d.path(rel), 'utf8');
    const at = rng.int(1, text.length - 2);
    writeFileSync(
      d.own(rel),
      rng.chance(0.5)
        ? text.slice(0, at)
        : `${text.slice(0, at)}${rng.pick(['}', '"', ',', '\u0000', 'NaN'])}${text.slice(at)}`,
    );
    return { what: `${rel} garbled at ${at}`, subjects: ['info.json'] };
  }
  const info = d.readJson(rel);
  const features = info.features as Record<string, Json>;
  const keys = Object.keys(features);
  const numeric = keys.filter((k) => features[k].dtype !== 'video');
  let what = '';
  const subjects = ['info.json'];
  switch (edit) {
    case 'fps':
      info.fps = rng.pick<unknown>([0, -10, '10', null, 1e9, (info.fps as number) * 2, 10.5]);
      what = `fps = ${JSON.stringify(info.fps)}`;
      subjects.push('fps');
      break;
    case 'total_frames':
      info.total_frames = rng.pick<unknown>([
        (info.total_frames as number) + 1,
        (info.total_frames as number) - 1,
        0,
        String(info.total_frames),
        null,
        1e12,
      ]);
      what = `total_frames = ${JSON.stringify(info.total_frames)}`;
      subjects.push('total_frames');
      break;
    case 'total_episodes':
      info.total_episodes = rng.pick<unknown>([(info.total_episodes as number) + 1, 0, -1, null]);
      what = `total_episodes = ${JSON.stringify(info.total_episodes)}`;
      subjects.push('total_episodes');
      break;
    case 'shape': {
      const key = rng.pick(rng.chance(0.7) ? numeric : keys);
      features[key].shape = rng.pick<unknown>([[1e9], [-1], ['6'], [], [6.5], [1e9, 1e9], [0], null, [7]]);
      what = `features.${key}.shape = ${JSON.stringify(features[key].shape)}`;
      subjects.push(key);
      break;
    }
    case 'dtype': {
      const key = rng.pick(keys);
      features[key].dtype = rng.pick<unknown>(['float128', 5, null, 'video', 'string', 'int64']);
      what = `features.${key}.dtype = ${JSON.stringify(features[key].dtype)}`;
      subjects.push(key);
      break;
    }
    case 'drop-feature': {
      if (rng.chance(0.2)) {
        delete info.features;
        what = 'features removed';
        subjects.push('features');
      } else {
        const key = rng.pick(keys);
        delete features[key];
        what = `feature ${key} removed`;
        subjects.push(key);
      }
      break;
    }
    case 'data_path':
      info.data_path = rng.pick<unknown>([
        'data/{nope}.parquet',
        '',
        'data/chunk-{episode_chunk:03d}/x.parquet',
        7,
      ]);
      what = `data_path = ${JSON.stringify(info.data_path)}`;
      // A template with valid fields points at a file that does not exist: naming that file is clear too.
      subjects.push('data_path', 'x.parquet');
      break;
    case 'chunks_size':
      info.chunks_size = rng.pick<unknown>([0, -1, '1000', 1.5, null]);
      what = `chunks_size = ${JSON.stringify(info.chunks_size)}`;
      subjects.push('chunks_size');
      break;
    case 'version':
      info.codebase_version = rng.pick<unknown>(['v9.9', null, 'v2.0', 3]);
      what = `codebase_version = ${JSON.stringify(info.codebase_version)}`;
      subjects.push('codebase_version');
      break;
    case 'video-fps': {
      const video = keys.find((k) => features[k].dtype === 'video');
      if (!video) {
        info.fps = (info.fps as number) + 5;
        what = `fps = ${JSON.stringify(info.fps)}`;
        subjects.push('fps');
        break;
      }
      (features[video].info as Json)['video.fps'] = 20;
      what = `features.${video}.info["video.fps"] = 20`;
      subjects.push('video.fps', video);
      break;
    }
  }
  d.writeJson(rel, info);
  return {
    what: `${rel}: ${what}`,
    subjects,
    decodeEpisode: edit === 'video-fps' && d.fixture === CR5 ? rng.int(0, 4) : undefined,
  };
}

function statsEdit(rng: Rng, d: CaseDir): Applied {
  const v21 = d.fixture === CR5;
  const rel = v21 ? 'meta/episodes_stats.jsonl' : 'meta/stats.json';
  const text = readFileSync(d.path(rel), 'utf8');
  const edit = rng.pick(['garble', 'short', 'long', 'string', 'null', 'drop-mean', 'whole'] as const);
  if (edit === 'garble') {
    const at = rng.int(1, text.length - 2);
    writeFileSync(d.own(rel), text.slice(0, at) + (rng.chance(0.5) ? '' : `{${text.slice(at)}`));
    return { what: `${rel} garbled at ${at}`, subjects: [basename(rel)] };
  }
  const key = rng.pick(['observation.state', 'action']);
  const stat = rng.pick(['mean', 'std', 'min', 'max']);
  const change = (s: Json): string => {
    const entry = s[key] as Json;
    switch (edit) {
      case 'short':
        entry[stat] = (entry[stat] as number[]).slice(1);
        return `${key}.${stat} one value short`;
      case 'long':
        entry[stat] = [...(entry[stat] as number[]), 1];
        return `${key}.${stat} one value long`;
      case 'string':
        entry[stat] = (entry[stat] as number[]).map(String);
        return `${key}.${stat} as strings`;
      case 'null':
        entry[stat] = (entry[stat] as number[]).map((x, i) => (i === 0 ? null : x));
        return `${key}.${stat}[0] = null`;
      case 'drop-mean':
        delete entry.mean;
        return `${key}.mean removed`;
      default:
        s[key] = rng.pick<unknown>([[], null, 'x', 7]);
        return `${key} stats = ${JSON.stringify(s[key])}`;
    }
  };
  let what: string;
  if (v21) {
    const lines = text.split('\n').filter((l) => l.trim());
    const k = rng.int(0, lines.length - 1);
    const line = JSON.parse(lines[k]) as Json;
    what = `line ${k}: ${change(line.stats as Json)}`;
    lines[k] = JSON.stringify(line);
    writeFileSync(d.own(rel), `${lines.join('\n')}\n`);
  } else {
    const stats = JSON.parse(text) as Json;
    what = change(stats);
    writeFileSync(d.own(rel), JSON.stringify(stats));
  }
  return { what: `${rel}: ${what}`, subjects: [basename(rel), key] };
}

async function episodesEdit(rng: Rng, d: CaseDir): Promise<Applied> {
  if (d.fixture === CR5) {
    const rel = 'meta/episodes.jsonl';
    const lines = readFileSync(d.path(rel), 'utf8')
      .split('\n')
      .filter((l) => l.trim());
    const k = rng.int(0, lines.length - 1);
    const e = JSON.parse(lines[k]) as Json;
    const edit = rng.pick(['length', 'index', 'duplicate', 'drop', 'garble', 'reorder'] as const);
    let what: string;
    switch (edit) {
      case 'length':
        e.length = rng.pick<unknown>([
          (e.length as number) + 1,
          (e.length as number) - 1,
          0,
          -5,
          1e9,
          String(e.length),
          null,
        ]);
        lines[k] = JSON.stringify(e);
        what = `episode ${k} length = ${JSON.stringify(e.length)}`;
        break;
      case 'index':
        e.episode_index = rng.pick<unknown>([99, -1, (k + 1) % lines.length, '0', 1.5]);
        lines[k] = JSON.stringify(e);
        what = `line ${k} episode_index = ${JSON.stringify(e.episode_index)}`;
        break;
      case 'duplicate':
        lines.splice(k, 0, lines[k]);
        what = `episode ${k} listed twice`;
        break;
      case 'drop':
        lines.splice(k, 1);
        what = `episode ${k} removed from the list`;
        break;
      case 'garble':
        lines[k] = lines[k].slice(0, rng.int(1, lines[k].length - 1));
        what = `line ${k} cut short`;
        break;
      case 'reorder':
        lines.reverse();
        what = 'lines in reverse order';
        break;
    }
    writeFileSync(d.own(rel), `${lines.join('\n')}\n`);
    return { what: `${rel}: ${what}`, subjects: ['episodes.jsonl'] };
  }
  const rel = 'meta/episodes/chunk-000/file-000.parquet';
  const table = await readParquetFile(d.own(rel));
  const k = rng.int(0, table.rows.length - 1);
  const row = table.rows[k];
  const field = rng.pick([
    'length',
    'dataset_from_index',
    'dataset_to_index',
    'data/file_index',
    'episode_index',
  ]);
  const old = Number(row[field]);
  const value = rng.pick([old + 1, old - 1, 0, old + 1000, 7].filter((x) => x !== old && x >= 0));
  row[field] = BigInt(value);
  writeParquetFile(d.path(rel), table);
  // The error may name the episodes file, the field, or the data file the edited row points to.
  const pointed =
    field === 'data/file_index' ? `file-${String(row[field]).padStart(3, '0')}.parquet` : 'episode';
  return {
    what: `${rel}: episode row ${k} ${field} ${old}→${row[field]}`,
    subjects: ['file-000.parquet', field, pointed],
  };
}

/** Re-encoded and remuxed videos, made once per process on first use. */
class VideoVariants {
  private readonly made = new Map<string, Promise<string>>();
  constructor(
    private readonly dir: string,
    private readonly pristine: string,
  ) {}

  get(name: string): Promise<string> {
    let p = this.made.get(name);
    if (!p) this.made.set(name, (p = this.make(name)));
    return p;
  }

  private async make(name: string): Promise<string> {
    const out = join(this.dir, `${name}.mp4`);
    const enc = [
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-crf',
      '12',
      '-pix_fmt',
      'yuv420p',
      '-threads',
      '1',
    ];
    if (name.startsWith('frag-')) {
      const src = join(this.pristine, CR5, cr5Video(Number(name.slice(5))));
      await run('ffmpeg', [
        '-v',
        'error',
        '-y',
        '-i',
        src,
        '-c',
        'copy',
        '-movflags',
        'frag_keyframe+empty_moov',
        out,
      ]);
    } else {
      const src = join(this.pristine, CR5, cr5Video(2));
      const filter =
        name === 'fps-dup20'
          ? ['-r', '20']
          : [
              '-vf',
              `setpts=N/(${name.slice(-2) === '20' ? 20 : 5}*TB)`,
              '-r',
              name.slice(-2) === '20' ? '20' : '5',
            ];
      await run('ffmpeg', ['-v', 'error', '-y', '-i', src, ...filter, ...enc, out]);
    }
    return out;
  }
}

interface Exercised {
  ds: LeRobotDataset;
  episodes: Map<number, Awaited<ReturnType<LeRobotDataset['readEpisode']>>>;
  stats: DatasetStats | null;
  frames: { episode: number; key: string; row: number; data: Uint8Array }[];
}

/** What a training loader does with a dataset. */
async function exercise(dir: string, decodeEpisode: number | undefined): Promise<Exercised> {
  const ds = await LeRobotDataset.open(new NodeFileStorage(dir), {
    decoder: new FfmpegDecoder({ maxProcesses: 1, threads: 1 }),
  });
  const episodes = new Map<number, Awaited<ReturnType<LeRobotDataset['readEpisode']>>>();
  for (const e of ds.episodes) episodes.set(e.episodeIndex, await ds.readEpisode(e.episodeIndex));
  const stats = ds.stats;
  const frames: Exercised['frames'] = [];
  if (decodeEpisode !== undefined && episodes.has(decodeEpisode)) {
    const ep = episodes.get(decodeEpisode)!;
    const rows = [0, Math.floor(ep.length / 2)];
    const ts = rows.map((r) => ep.columns.timestamp.values[r]);
    for (const key of ds.videoKeys) {
      const got = await ds.decodeFrames(decodeEpisode, key, ts);
      got.forEach((data, i) => frames.push({ episode: decodeEpisode, key, row: rows[i], data }));
    }
  }
  return { ds, episodes, stats, frames };
}

const sameNumber = (a: number, b: number) => a === b || (Number.isNaN(a) && Number.isNaN(b));

/** The oracle for a dataset the package accepted. */
async function check(
  dir: string,
  fixtureDir: string,
  x: Exercised,
  references: Map<string, Promise<Uint8Array>>,
): Promise<Verdict> {
  const silent = (detail: string): Verdict => ({ outcome: 'silent-change', detail });
  const truth: DatasetTruth = await datasetTruth(dir);
  if (truth.violations.length)
    return silent(
      `accepted a dataset with ${truth.violations.length} problem(s), first: ${truth.violations[0]}`,
    );
  if (x.ds.fps !== truth.fps) return silent(`fps ${x.ds.fps}, files say ${truth.fps}`);
  const rows = truth.episodes.reduce((a, e) => a + e.length, 0);
  if (x.ds.numFrames !== rows) return silent(`numFrames ${x.ds.numFrames}, the files hold ${rows} rows`);
  const got = [...x.episodes.keys()].sort((a, b) => a - b).join();
  if (
    got !==
    truth.episodes
      .map((e) => e.index)
      .sort((a, b) => a - b)
      .join()
  )
    return silent(`episodes [${got}] differ from the files'`);
  for (const te of truth.episodes) {
    const ep = x.episodes.get(te.index)!;
    if (ep.length !== te.length) return silent(`episode ${te.index}: ${ep.length} rows, files ${te.length}`);
    for (const [key, f] of Object.entries(truth.features)) {
      const col = ep.columns[key];
      if (!col) return silent(`episode ${te.index}: column ${key} dropped`);
      for (let i = 0; i < te.rows.length; i++) {
        const want = flattenNumbers(te.rows[i][key])!.map((v) =>
          f.dtype === 'float32' ? Math.fround(v) : v,
        );
        for (let j = 0; j < want.length; j++) {
          const g = col.values[i * f.width + j];
          if (!sameNumber(g, want[j]))
            return silent(`episode ${te.index} row ${i} ${key}[${j}] = ${g}, file holds ${want[j]}`);
        }
      }
    }
  }
  if (truth.statsFiles.length && !x.stats)
    return silent(`stats silently dropped (${truth.statsFiles.join(', ')} present)`);
  if (x.stats) {
    for (const [key, f] of Object.entries(truth.features)) {
      const s = (x.stats as unknown as Record<string, Record<string, unknown>>)[key];
      if (!s) continue;
      for (const stat of ['mean', 'std', 'min', 'max']) {
        if (s[stat] === undefined) continue;
        const flat = flattenNumbers(s[stat]);
        if (!flat || flat.length !== f.width || flat.some((v) => !Number.isFinite(v)))
          return silent(
            `stats ${key}.${stat} = ${JSON.stringify(flat ?? s[stat])?.slice(0, 80)} for width ${f.width}`,
          );
      }
    }
  }
  for (const fr of x.frames) {
    const te = truth.episodes.find((e) => e.index === fr.episode)!;
    const rel = te.videos[fr.key];
    const fps = await videoFps(join(dir, rel));
    if (Math.abs(fps - truth.fps) > 1e-3)
      return silent(`decoded ${rel} although the video runs at ${fps} fps and the dataset at ${truth.fps}`);
    const frameIndex = Number(te.rows[fr.row].frame_index);
    const refKey = `${rel}#${frameIndex}`;
    let ref = references.get(refKey);
    if (!ref) references.set(refKey, (ref = ffmpegFrame(join(fixtureDir, rel), frameIndex)));
    const want = await ref;
    if (want.length !== fr.data.length)
      return silent(`${rel} frame ${frameIndex}: ${fr.data.length} bytes, reference ${want.length}`);
    let sum = 0;
    for (let i = 0; i < want.length; i++) sum += Math.abs(want[i] - fr.data[i]);
    const mad = sum / want.length;
    if (mad > 1.5)
      return silent(
        `episode ${fr.episode} row ${fr.row}: decoded frame differs from the recorded frame ${frameIndex} (mean abs diff ${mad.toFixed(2)})`,
      );
  }
  return { outcome: 'accepted' };
}

/** LeRobot datasets, mutated, opened and read. */
export function datasetsCampaign(): Campaign {
  let root = '';
  let pristine = '';
  let variants: VideoVariants;
  const references = new Map<string, Promise<Uint8Array>>();
  return {
    name: 'datasets',
    kinds: DATASET_KINDS,
    async setup() {
      root = scratchDir('data-');
      pristine = join(root, 'pristine');
      const fixtures = lerobotFixtures();
      for (const f of [CR5, SO101]) cpSync(join(fixtures, f), join(pristine, f), { recursive: true });
      await run('chmod', ['-R', 'u+w', pristine]);
      variants = new VideoVariants(root, pristine);
      const truth = await datasetTruth(join(pristine, CR5));
      if (truth.violations.length || truth.episodes.map((e) => e.length).join() !== CR5_LENGTHS.join())
        throw new Error(`the oracle does not accept the pristine ${CR5}: ${truth.violations[0]}`);
    },
    async makeCase(kind: string, ctx: CaseContext): Promise<FuzzCase> {
      const fixture = kind.startsWith('video-') ? CR5 : ctx.rng.pick([CR5, SO101]);
      const dir = join(root, `case-${ctx.index}`);
      rmSync(dir, { recursive: true, force: true });
      copyFixture(join(pristine, fixture), dir);
      const applied = await mutate(
        kind,
        ctx.rng,
        new CaseDir(dir, fixture, join(pristine, fixture)),
        variants,
      );
      const decode =
        applied.decodeEpisode !== undefined ? `; decode episode ${applied.decodeEpisode} rows 0 and mid` : '';
      return {
        kind,
        description: `${fixture}: ${applied.what}${decode}`,
        subjects: applied.subjects,
        async run() {
          try {
            const x = await exercise(dir, applied.decodeEpisode);
            return await check(dir, join(pristine, fixture), x, references);
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        },
      };
    },
    judgeError(error: unknown, fuzzCase: FuzzCase): Verdict {
      return judgeByClass(error, fuzzCase, [LeRobotError], (e) =>
        typeof (e as LeRobotError).code === 'string' && (e as LeRobotError).code
          ? null
          : 'LeRobotError without a code',
      );
    },
    async teardown() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Copies `src` to `dst`, linking the (large, read-only here) videos instead of copying them. */
export function copyFixture(src: string, dst: string): void {
  cpSync(src, dst, { recursive: true, filter: (s) => !s.includes('/videos') || !s.endsWith('.mp4') });
  const videos = join(src, 'videos');
  if (!existsSync(videos)) return;
  for (const rel of readdirSync(videos, { recursive: true, encoding: 'utf8' })) {
    if (rel.endsWith('.mp4')) symlinkSync(join(videos, rel), join(dst, 'videos', rel));
  }
}
