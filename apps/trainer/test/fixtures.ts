// Where the shared LeRobot fixtures live: `VLA_FIXTURES` if set, else the `shared/` folder beside the
// checkout (the repository's sibling).
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Folder holding `cr5_grasp_cube_v21/` and `so101_test_v30/`. */
export function lerobotFixtures(): string {
  const candidates = [
    process.env.VLA_FIXTURES && join(process.env.VLA_FIXTURES, 'lerobot'),
    resolve(here, '../../../../shared/fixtures/lerobot'),
  ].filter((p): p is string => !!p);
  const found = candidates.find((p) => existsSync(join(p, 'cr5_grasp_cube_v21', 'meta', 'info.json')));
  if (!found)
    throw new Error(`LeRobot fixtures not found; looked in: ${candidates.join(', ')} (set VLA_FIXTURES)`);
  return found;
}

/** The v2.1 fixture: Dobot CR5, 5 episodes, 530 frames, one AV1 camera, state 6, action 7. */
export const cr5 = (): string => join(lerobotFixtures(), 'cr5_grasp_cube_v21');
/** The v3.0 fixture: SO-101, 3 episodes, 2094 frames, no camera, state 6, action 6. */
export const so101 = (): string => join(lerobotFixtures(), 'so101_test_v30');

/** The smallest policy that has every part of the real one (used by the trainer's tests). */
export const MICRO_MODEL = {
  width: 32,
  layers: 1,
  visionLayers: 1,
  imageSize: 32,
  views: 1,
  textTokens: 8,
  vocabSize: 256,
  chunkSize: 10,
} as const;

/**
 * A copy of the cr5 fixture in `dst` cut to its first `episodes` episodes (meta files rewritten; the
 * data and video files of the rest stay unused), for tests that decode or encode every frame.
 */
export function cutCr5(dst: string, episodes: number): string {
  cpSync(cr5(), dst, { recursive: true });
  const meta = (f: string) => join(dst, 'meta', f);
  const keep = (f: string) => {
    const rows = readFileSync(meta(f), 'utf8')
      .split('\n')
      .filter((l) => l.trim() && (JSON.parse(l) as { episode_index: number }).episode_index < episodes);
    writeFileSync(meta(f), rows.join('\n') + '\n');
    return rows.map((l) => JSON.parse(l) as { length?: number });
  };
  const eps = keep('episodes.jsonl');
  keep('episodes_stats.jsonl');
  const info = JSON.parse(readFileSync(meta('info.json'), 'utf8')) as Record<string, unknown>;
  info.total_episodes = episodes;
  info.total_frames = eps.reduce((n, e) => n + e.length!, 0);
  info.total_videos = episodes;
  info.splits = { train: `0:${episodes}` };
  writeFileSync(meta('info.json'), JSON.stringify(info, null, 4));
  return dst;
}
