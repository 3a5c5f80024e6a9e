import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import {
  FfmpegDecoder,
  LeRobotDataset,
  LeRobotError,
  NodeFileStorage,
  SampleBuilder,
  type LeRobotErrorCode,
} from '../src/index';
import { copyFixture, CR5, mp4Boxes, rawRows, SO101, tempDir, writeRowsParquet } from './helpers';
import { writeSynthetic } from './synthetic';

let cleanups: (() => void)[] = [];
afterEach(() => {
  cleanups.forEach((c) => c());
  cleanups = [];
});

function copy(src: string): string {
  const c = copyFixture(src);
  cleanups.push(c.cleanup);
  return c.dir;
}

const open = (dir: string) => LeRobotDataset.open(new NodeFileStorage(dir), { decoder: new FfmpegDecoder() });

async function expectError(
  p: Promise<unknown>,
  code: LeRobotErrorCode,
  ...patterns: RegExp[]
): Promise<LeRobotError> {
  const e = await p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(LeRobotError);
  const le = e as LeRobotError;
  expect(le.code, le.message).toBe(code);
  for (const re of patterns) expect(le.message).toMatch(re);
  return le;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- free-form JSON edits
function editInfo(dir: string, edit: (info: Record<string, any>) => void): void {
  const p = join(dir, 'meta/info.json');
  const info = JSON.parse(readFileSync(p, 'utf8'));
  edit(info);
  writeFileSync(p, JSON.stringify(info));
}

describe('malformed datasets produce clear errors', () => {
  test('deleted info.json', async () => {
    const dir = copy(CR5);
    rmSync(join(dir, 'meta/info.json'));
    const e = await expectError(open(dir), 'missing_file', /meta\/info\.json/, /not found/);
    expect(e.path).toBe('meta/info.json');
  });

  test('info.json that is not JSON', async () => {
    const dir = copy(SO101);
    writeFileSync(join(dir, 'meta/info.json'), '{"codebase_version": "v3.0", "fps": 30,');
    const e = await expectError(open(dir), 'bad_json', /meta\/info\.json is not valid JSON/);
    expect(e.path).toBe('meta/info.json');
  });

  test('info.json with missing or wrong fields', async () => {
    const dir = copy(SO101);
    editInfo(dir, (i) => delete i.fps);
    await expectError(open(dir), 'malformed_info', /field 'fps' must be a number/);
    editInfo(dir, (i) => {
      i.fps = 30;
      i.codebase_version = 'v1.6';
    });
    await expectError(open(dir), 'malformed_info', /unsupported codebase_version "v1.6"/);
    editInfo(dir, (i) => {
      i.codebase_version = 'v3.0';
      i.features.action.shape = [6.5];
    });
    await expectError(open(dir), 'malformed_info', /feature 'action' has invalid shape \[6\.5\]/);
    editInfo(dir, (i) => {
      i.features.action.shape = [6];
      i.total_episodes = 4;
    });
    await expectError(
      open(dir),
      'malformed_metadata',
      /holds 3 episodes .* but meta\/info\.json says total_episodes=4/,
    );
    editInfo(dir, (i) => {
      i.total_episodes = 3;
      i.total_frames = 2000;
    });
    await expectError(
      open(dir),
      'malformed_metadata',
      /episode lengths sum to 2094 but meta\/info\.json says total_frames=2000/,
    );
  });

  test('a path template with a field of another version names info.json and the field', async () => {
    const dir = copy(SO101);
    editInfo(dir, (i) => {
      i.data_path = 'data/chunk-{episode_chunk:03d}/x.parquet';
    });
    await expectError(open(dir), 'malformed_info', /meta\/info\.json/, /'data_path'/, /\{episode_chunk\}/);
    editInfo(dir, (i) => {
      i.data_path = 'data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet';
      i.video_path = 'videos/{video_key}/{camera}/file-{file_index:03d}.mp4';
    });
    await expectError(open(dir), 'malformed_info', /'video_path'/, /\{camera\}/);
  });

  test('missing data parquet names the path', async () => {
    const dir = copy(CR5);
    rmSync(join(dir, 'data/chunk-000/episode_000002.parquet'));
    const ds = await open(dir);
    await expect(ds.readEpisode(1)).resolves.toBeTruthy();
    const e = await expectError(
      ds.readEpisode(2),
      'missing_file',
      /data\/chunk-000\/episode_000002\.parquet/,
    );
    expect(e.path).toBe('data/chunk-000/episode_000002.parquet');
  });

  test('missing mp4 names the path', async () => {
    const dir = copy(CR5);
    rmSync(join(dir, 'videos/chunk-000/observation.images.top/episode_000004.mp4'));
    const ds = await open(dir);
    await expectError(
      ds.decodeFrames(4, 'observation.images.top', [0]),
      'missing_file',
      /videos\/chunk-000\/observation\.images\.top\/episode_000004\.mp4/,
    );
  });

  test('a file that is not parquet', async () => {
    const dir = copy(SO101);
    writeFileSync(join(dir, 'meta/tasks.parquet'), 'task_index,task\n0,Pick up the cube\n');
    await expectError(open(dir), 'malformed_data', /meta\/tasks\.parquet is not a readable parquet file/);
  });

  test('v3.0 without its episodes table', async () => {
    const dir = copy(SO101);
    rmSync(join(dir, 'meta/episodes'), { recursive: true });
    await expectError(
      open(dir),
      'missing_file',
      /meta\/episodes\/chunk-000\/file-000\.parquet/,
      /found 0 of 3 episodes/,
    );
  });

  test('broken episodes.jsonl line', async () => {
    const dir = copy(CR5);
    const p = join(dir, 'meta/episodes.jsonl');
    const lines = readFileSync(p, 'utf8').split('\n');
    lines[2] = lines[2].slice(0, 20);
    writeFileSync(p, lines.join('\n'));
    await expectError(open(dir), 'bad_json', /meta\/episodes\.jsonl: line 3 is not valid JSON/);
  });

  test('a feature whose shape disagrees with info.json', async () => {
    const dir = copy(CR5);
    editInfo(dir, (i) => {
      i.features['observation.state'].shape = [7];
    });
    // The stored stats (6 values) already disagree at open.
    await expectError(open(dir), 'bad_stats', /'observation\.state' min has 6 values/, /\[7\]/);
    rmSync(join(dir, 'meta/episodes_stats.jsonl'));
    const ds = await open(dir);
    await expectError(
      ds.readEpisode(0),
      'shape_mismatch',
      /'observation\.state' has 6 values/,
      /declares shape \[7\]/,
      /episode_000000\.parquet/,
    );
    const dir2 = copy(SO101);
    editInfo(dir2, (i) => {
      i.features.action.shape = [2, 3];
    });
    // 2x3 = 6 values: the same count in another shape is accepted (LeRobot flattens nothing either).
    await expect((await open(dir2)).readEpisode(0)).resolves.toBeTruthy();
    editInfo(dir2, (i) => {
      i.features.action.shape = [5];
    });
    const e = await expectError(
      open(dir2),
      'bad_stats',
      /meta\/episodes\/chunk-000\/file-000\.parquet episode 0: 'action' min has 6 values/,
    );
    expect(e.path).toBe('meta/episodes/chunk-000/file-000.parquet');
  });

  test('a video whose size disagrees with info.json', async () => {
    const dir = copy(CR5);
    editInfo(dir, (i) => {
      i.features['observation.images.top'].shape = [480, 600, 3];
    });
    const ds = await open(dir);
    await expectError(
      ds.decodeFrames(0, 'observation.images.top', [0]),
      'shape_mismatch',
      /video is 640x480/,
      /\[480,600,3\]/,
    );
  });

  test('a row timestamp off the fps grid is refused when the episode is read', async () => {
    const dir = copy(CR5);
    const path = join(dir, 'data/chunk-000/episode_000001.parquet');
    const rows = await rawRows(path);
    rows[40].timestamp = Math.fround(4.05);
    writeRowsParquet(path, rows);
    const ds = await open(dir);
    await expectError(
      ds.readEpisode(1),
      'bad_timestamps',
      /episode_000001\.parquet: episode 1 row 40 has timestamp 4\.05/,
      /frame_index \/ fps = 40 \/ 10 = 4\b/,
    );
    // The sample builder reads the episode first, so no sample of it is built from other frames.
    const b = new SampleBuilder(ds, { imageSize: [32, 32] });
    await expectError(b.get(ds.episode(1).datasetFromIndex + 100), 'bad_timestamps', /row 40/);
    await expect(b.get(ds.episode(2).datasetFromIndex)).resolves.toBeTruthy();
  });

  test('a timestamp with no video frame within tolerance names episode, key and timestamp', async () => {
    const ds = await open(CR5);
    await expectError(
      ds.decodeFrames(1, 'observation.images.top', [Math.fround(4.05)]),
      'timestamp_not_found',
      /episode 1/,
      /key 'observation\.images\.top'/,
      /timestamp 4\.05/,
      /nearest frame at 4(\.1)?\b/,
    );
  });
});

const TOP = 'observation.images.top';
const cr5Video = (dir: string, ep: number) =>
  join(dir, `videos/chunk-000/${TOP}/episode_${String(ep).padStart(6, '0')}.mp4`);
const cr5Data = (dir: string, ep: number) =>
  join(dir, `data/chunk-000/episode_${String(ep).padStart(6, '0')}.parquet`);
const ffmpeg = (...args: string[]) => execFileSync('ffmpeg', ['-v', 'error', '-y', ...args]);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- free-form JSON edits
function editJsonl(path: string, line: number, edit: (obj: Record<string, any>) => void): void {
  const lines = readFileSync(path, 'utf8').split('\n');
  const obj = JSON.parse(lines[line]);
  edit(obj);
  lines[line] = JSON.stringify(obj);
  writeFileSync(path, lines.join('\n'));
}

describe('inconsistent datasets are refused when a dataset, episode or video is opened', () => {
  test('reversed or duplicated timestamps', async () => {
    const dir = copy(CR5);
    const rows = await rawRows(cr5Data(dir, 1));
    const good = rows.map((r) => r.timestamp);
    [rows[10].timestamp, rows[11].timestamp] = [good[11], good[10]];
    writeRowsParquet(cr5Data(dir, 1), rows);
    await expectError(
      (await open(dir)).readEpisode(1),
      'bad_timestamps',
      /episode_000001\.parquet: episode 1 row 11 has timestamp 1, not after the previous row's 1\.1/,
    );
    rows[10].timestamp = good[10];
    rows[11].timestamp = good[10];
    writeRowsParquet(cr5Data(dir, 1), rows);
    const e = await expectError(
      (await open(dir)).readEpisode(1),
      'bad_timestamps',
      /row 11 has timestamp 1\b/,
      /strictly increase/,
    );
    expect(e.path).toBe('data/chunk-000/episode_000001.parquet');
  });

  test('frame_index that does not count from 0', async () => {
    const dir = copy(CR5);
    const rows = await rawRows(cr5Data(dir, 3));
    for (const r of rows) r.frame_index = (r.frame_index as bigint) + 1n;
    writeRowsParquet(cr5Data(dir, 3), rows);
    await expectError(
      (await open(dir)).readEpisode(3),
      'bad_timestamps',
      /episode 3 row 0 has frame_index 1, expected 0/,
    );
  });

  test('extra parquet rows and a shifted index column', async () => {
    const dir = copy(CR5);
    const rows = await rawRows(cr5Data(dir, 2));
    const last = rows[rows.length - 1];
    writeRowsParquet(cr5Data(dir, 2), [
      ...rows,
      { ...last, frame_index: 76n, index: (last.index as bigint) + 1n, timestamp: Math.fround(7.6) },
    ]);
    const ds = await open(dir);
    await expectError(
      ds.readEpisode(2),
      'malformed_data',
      /episode_000002\.parquet has 77 rows but its episodes' lengths add up to 76/,
    );
    const shifted = await rawRows(cr5Data(dir, 4));
    for (const r of shifted) r.index = (r.index as bigint) + 1n;
    writeRowsParquet(cr5Data(dir, 4), shifted);
    await expectError(ds.readEpisode(4), 'malformed_data', /episode 4 row 0 has index 434, expected 433/);

    // v3.0: several episodes share the file, so the check is against their summed lengths.
    const dir3 = copy(SO101);
    const data = join(dir3, 'data/chunk-000/file-000.parquet');
    const all = await rawRows(data);
    writeRowsParquet(data, [...all, all[all.length - 1]]);
    await expectError(
      (await open(dir3)).readEpisode(0),
      'malformed_data',
      /file-000\.parquet has 2095 rows but its episodes' lengths add up to 2094/,
    );
  });

  test('a video at another fps fails on its first frames', async () => {
    const dir = copy(CR5);
    // The same coded frames, retimed to 20 fps: frame 1 now sits at 0.05 s.
    const src = join(dir, 'retimed-source.mp4');
    copyFileSync(cr5Video(dir, 2), src);
    ffmpeg('-itsscale', '0.5', '-i', src, '-c', 'copy', cr5Video(dir, 2));
    const ds = await open(dir);
    const e = await expectError(
      ds.decodeFrames(2, TOP, [0.1]),
      'video_mismatch',
      /episode 2, key 'observation\.images\.top'/,
      /frame 1 of the episode is at 0\.05 s, expected 0\.1 s/,
      /about 20\.0* fps/,
    );
    expect(e.path).toBe(`videos/chunk-000/${TOP}/episode_000002.mp4`);
  });

  test("another episode's video", async () => {
    const dir = copy(CR5);
    copyFileSync(cr5Video(dir, 3), cr5Video(dir, 2));
    const ds = await open(dir);
    await expectError(
      ds.decodeFrames(2, TOP, [0]),
      'video_mismatch',
      /the file has 83 frames, the episode 76/,
    );
    // The check is per episode: the others still decode.
    await expect(ds.decodeFrames(1, TOP, [0])).resolves.toHaveLength(1);
  });

  test('v3.0: an episode whose from/to timestamps lie outside its video file', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const dir = join(tmp.dir, 'ds');
    await writeSynthetic(dir, {
      fps: 10,
      robotType: 'x',
      numeric: { 'observation.state': 2, action: 2 },
      cameras: [TOP],
      height: 64,
      width: 64,
      episodes: [
        { length: 8, task: 'a' },
        { length: 6, task: 'b' },
      ],
      seed: 1,
      videoCodec: 'libx264',
    });
    const video = join(dir, `videos/${TOP}/chunk-000/file-000.mp4`);
    const ds = await open(dir);
    await expect(ds.decodeFrames(1, TOP, [0, 0.5])).resolves.toHaveLength(2);
    // Keep only episode 0's frames.
    const src = join(tmp.dir, 'full.mp4');
    copyFileSync(video, src);
    ffmpeg('-i', src, '-c', 'copy', '-frames:v', '8', video);
    const cut = await open(dir);
    await expect(cut.decodeFrames(0, TOP, [0, 0.7])).resolves.toHaveLength(2);
    await expectError(
      cut.decodeFrames(1, TOP, [0]),
      'video_mismatch',
      /episode 1/,
      /the file has 0 frames from 0\.8 s on, the episode 6/,
    );
  });

  test('stats of the wrong width or with an impossible count', async () => {
    const dir = copy(CR5);
    const epStats = join(dir, 'meta/episodes_stats.jsonl');
    const original = readFileSync(epStats, 'utf8');
    editJsonl(epStats, 3, (l) => l.stats.action.mean.pop());
    const e = await expectError(
      open(dir),
      'bad_stats',
      /meta\/episodes_stats\.jsonl episode 3: 'action' mean has 6 values/,
      /declares shape \[7\]/,
    );
    expect(e.path).toBe('meta/episodes_stats.jsonl');
    writeFileSync(epStats, original);
    editJsonl(epStats, 0, (l) => l.stats[TOP].std.push([[0.5]]));
    await expectError(
      open(dir),
      'bad_stats',
      /'observation\.images\.top' std has 4 values .* \(3 channels\)/,
    );
    writeFileSync(epStats, original);
    editJsonl(epStats, 2, (l) => (l.stats.action.count = [77]));
    await expectError(
      open(dir),
      'bad_stats',
      /episode 2: 'action' count \[77\] must be one integer in 0\.\.76/,
    );

    const dir3 = copy(SO101);
    const stats = JSON.parse(readFileSync(join(dir3, 'meta/stats.json'), 'utf8'));
    stats['observation.state'].q50.push(1);
    writeFileSync(join(dir3, 'meta/stats.json'), JSON.stringify(stats));
    const e3 = await expectError(
      open(dir3),
      'bad_stats',
      /meta\/stats\.json: 'observation\.state' q50 has 7 values/,
    );
    expect(e3.path).toBe('meta/stats.json');
  });

  test('the real fixtures pass every check (cr5 keeps its stale timestamp stats)', async () => {
    const cr5 = await open(CR5);
    for (const ep of cr5.episodes) {
      const rows = await cr5.readEpisode(ep.episodeIndex);
      const { frames } = await cr5.findFrames(
        ep.episodeIndex,
        TOP,
        Array.from(rows.columns.timestamp.values),
      );
      expect(frames.map((f) => f.frameIndex)).toEqual(Array.from({ length: ep.length }, (_, i) => i));
    }
    expect(cr5.episode(0).stats!.timestamp.min[0]).toBeCloseTo(0.05568, 4);
    const so101 = await open(SO101);
    for (const ep of so101.episodes) await expect(so101.readEpisode(ep.episodeIndex)).resolves.toBeTruthy();
  });
});

describe('parse failures are LeRobotErrors with a code and the file', () => {
  test('a garbled stats.json', async () => {
    const dir = copy(SO101);
    writeFileSync(join(dir, 'meta/stats.json'), '{"action": {"min": [1, 2,');
    const e = await expectError(open(dir), 'bad_json', /meta\/stats\.json is not valid JSON/);
    expect(e.path).toBe('meta/stats.json');
  });

  test('a JSONL line that is not an object', async () => {
    const dir = copy(CR5);
    const p = join(dir, 'meta/episodes.jsonl');
    const lines = readFileSync(p, 'utf8').split('\n');
    lines[1] = 'null';
    writeFileSync(p, lines.join('\n'));
    await expectError(open(dir), 'bad_json', /meta\/episodes\.jsonl: line 2 must be a JSON object, got null/);
  });

  test('a feature shape too large to allocate', async () => {
    const dir = copy(CR5);
    editInfo(dir, (i) => {
      i.features['observation.state'].shape = [1e9];
    });
    const e = await expectError(
      open(dir).then((ds) => ds.readEpisode(0)),
      'feature_too_large',
      /meta\/info\.json: feature 'observation\.state' has shape \[1000000000\]/,
    );
    expect(e.path).toBe('meta/info.json');
    // Under the per-frame cap but far from the data: reported as a shape mismatch, nothing allocated.
    rmSync(join(dir, 'meta/episodes_stats.jsonl'));
    editInfo(dir, (i) => {
      i.features['observation.state'].shape = [1e8];
    });
    await expectError(
      open(dir).then((ds) => ds.readEpisode(0)),
      'shape_mismatch',
      /'observation\.state' has 6 values in row 0/,
    );
  });

  test('a truncated mp4 index', async () => {
    const dir = copy(CR5);
    const path = cr5Video(dir, 2);
    const bytes = new Uint8Array(readFileSync(path));
    const moov = mp4Boxes(bytes).find((b) => b.type === 'moov')!;
    const rel = `videos/chunk-000/${TOP}/episode_000002.mp4`;
    // A moov box cut short with its size rewritten to match: mp4box itself fails on it.
    const short = bytes.slice(0, moov.offset + 16);
    new DataView(short.buffer).setUint32(moov.offset, 16);
    writeFileSync(path, short);
    await expectError(
      (await open(dir)).decodeFrames(2, TOP, [0]),
      'bad_mp4',
      /episode_000002\.mp4: cannot parse the mp4 index/,
    );
    // Cut inside the moov box, size field intact.
    writeFileSync(path, bytes.subarray(0, moov.offset + 600));
    const e = await expectError(
      (await open(dir)).decodeFrames(2, TOP, [0]),
      'bad_mp4',
      /'moov' box at byte \d+ declares \d+ bytes but the file ends 600 bytes later \(truncated\)/,
    );
    expect(e.path).toBe(rel);
  });

  test('a fragmented mp4', async () => {
    const dir = copy(CR5);
    const src = join(dir, 'plain.mp4');
    copyFileSync(cr5Video(dir, 2), src);
    ffmpeg('-i', src, '-c', 'copy', '-movflags', 'frag_keyframe+empty_moov', cr5Video(dir, 2));
    const e = await expectError(
      (await open(dir)).decodeFrames(2, TOP, [0]),
      'fragmented_mp4',
      /episode_000002\.mp4: fragmented mp4 is not supported/,
    );
    expect(e.path).toBe(`videos/chunk-000/${TOP}/episode_000002.mp4`);
  });

  test('an ffmpeg process past its time limit is killed', async () => {
    const ds = await LeRobotDataset.open(new NodeFileStorage(CR5), {
      decoder: new FfmpegDecoder({ timeoutS: 1e-6 }),
    });
    await expectError(
      ds.decodeFrames(0, TOP, [0]),
      'video_error',
      /episode_000000\.mp4/,
      /ffmpeg ran longer than 0\.001 ms; killed it/,
    );
  });
});
