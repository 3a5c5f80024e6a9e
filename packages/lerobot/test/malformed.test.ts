import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { parquetWriteBuffer } from 'hyparquet-writer';
import {
  FfmpegDecoder,
  LeRobotDataset,
  LeRobotError,
  NodeFileStorage,
  SampleBuilder,
  type LeRobotErrorCode,
} from '../src/index';
import { copyFixture, CR5, rawRows, SO101 } from './helpers';

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
    await expectError(open(dir), 'malformed_info', /meta\/info\.json is not valid JSON/);
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
    await expectError(open(dir), 'malformed_metadata', /meta\/episodes\.jsonl: line 3 is not valid JSON/);
  });

  test('a feature whose shape disagrees with info.json', async () => {
    const dir = copy(CR5);
    editInfo(dir, (i) => {
      i.features['observation.state'].shape = [7];
    });
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
    await expectError(
      (await open(dir2)).readEpisode(2),
      'shape_mismatch',
      /'action' has 6 values in row 0 of episode 2/,
    );
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

  test('a timestamp with no video frame within tolerance names episode, key and timestamp', async () => {
    const dir = copy(CR5);
    const path = join(dir, 'data/chunk-000/episode_000001.parquet');
    const rows = await rawRows(path);
    rows[40].timestamp = Math.fround(4.05);
    const list = (name: string) => [
      { name, repetition_type: 'OPTIONAL' as const, converted_type: 'LIST' as const, num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED' as const, num_children: 1 },
      { name: 'element', repetition_type: 'OPTIONAL' as const, type: 'FLOAT' as const },
    ];
    const ints = ['frame_index', 'episode_index', 'index', 'task_index'];
    const buf = parquetWriteBuffer({
      columnData: ['observation.state', 'action', 'timestamp', ...ints].map((name) => ({
        name,
        data: rows.map((r) => r[name]) as never,
      })),
      schema: [
        { name: 'schema', num_children: 7 },
        ...list('observation.state'),
        ...list('action'),
        { name: 'timestamp', type: 'FLOAT', repetition_type: 'OPTIONAL' },
        ...ints.map((name) => ({ name, type: 'INT64' as const, repetition_type: 'OPTIONAL' as const })),
      ],
    });
    writeFileSync(path, new Uint8Array(buf));
    const ds = await open(dir);
    const ep = await ds.readEpisode(1);
    expect(ep.columns.timestamp.values[40]).toBe(Math.fround(4.05));
    await expectError(
      ds.decodeFrames(1, 'observation.images.top', [ep.columns.timestamp.values[40]]),
      'timestamp_not_found',
      /episode 1/,
      /key 'observation\.images\.top'/,
      /timestamp 4\.05/,
      /nearest frame at 4(\.1)?\b/,
    );
    // The sample builder hits the same error for a frame whose image window includes row 40.
    const b = new SampleBuilder(ds, { imageSize: [32, 32] });
    await expectError(
      b.get(ds.episode(1).datasetFromIndex + 25),
      'timestamp_not_found',
      /episode 1/,
      /timestamp 4\.05/,
    );
    // Rows away from it still work.
    await expect(b.get(ds.episode(1).datasetFromIndex + 100)).resolves.toBeTruthy();
  });
});
