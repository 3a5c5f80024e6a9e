import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FfmpegDecoder, FileMapStorage, LeRobotDataset, NodeFileStorage, UrlStorage } from '../src/index';
import { CR5, maxAbsDiff, SO101 } from './helpers';
import { serveFixtures } from './httpFixtureServer';

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) =>
    statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)],
  );
}

describe('storages read the same dataset the same way', () => {
  let srv: Awaited<ReturnType<typeof serveFixtures>>;
  beforeAll(async () => {
    srv = await serveFixtures({ '/cr5/': CR5, '/so101/': SO101 });
  });
  afterAll(() => new Promise<void>((r) => srv.server.close(() => r())));

  test('UrlStorage (HTTP ranges) and FileMapStorage (Blobs) match NodeFileStorage, rows and frames', async () => {
    const decoder = new FfmpegDecoder();
    const local = await LeRobotDataset.open(new NodeFileStorage(CR5), { decoder });
    const url = await LeRobotDataset.open(new UrlStorage(`${srv.url}/cr5/`), { decoder });
    const blobs = new Map(walk(CR5).map((f) => [relative(CR5, f), new Blob([readFileSync(f)])]));
    const mem = await LeRobotDataset.open(new FileMapStorage(blobs), { decoder });
    for (const ds of [url, mem]) {
      expect(ds.episodes).toEqual(local.episodes);
      const a = await local.readEpisode(3);
      const b = await ds.readEpisode(3);
      expect(b.columns.action.values).toEqual(a.columns.action.values);
      const [fa] = await local.decodeFrames(3, 'observation.images.top', [2.3]);
      const [fb] = await ds.decodeFrames(3, 'observation.images.top', [2.3]);
      expect(maxAbsDiff(fa, fb)).toBe(0);
    }
    // The mp4 index was read with range requests, not whole-file downloads.
    expect(srv.requests.some((r) => /episode_000003\.mp4 bytes=\d+-\d+/.test(r))).toBe(true);
    await decoder.close();
    const v3 = await LeRobotDataset.open(new UrlStorage(`${srv.url}/so101/`));
    expect(v3.numFrames).toBe(2094);
    expect((await v3.readEpisode(2)).length).toBe(275);
  });

  test('missing URL files are reported with their path', async () => {
    await expect(LeRobotDataset.open(new UrlStorage(`${srv.url}/nothing/`))).rejects.toThrow(
      /file not found: meta\/info\.json/,
    );
  });
});
