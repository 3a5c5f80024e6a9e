// A real ActionSource per connection whose answers depend on that episode's own history, so a reply
// that went through another connection's episode is detectable.
import { POLICY_DIM, type ActionChunk, type ChunkRequest, type Observation } from '@vla/robot-core';
import type { ServerEpisode } from '../src/index.js';
import { refGripperToRobot } from './helpers.js';

/** What the test records of one server-side episode. */
export interface EpisodeLog {
  readonly id: number;
  readonly observed: Observation[];
  readonly requests: ChunkRequest[];
  closed: boolean;
}

/** Rows of the k-th (1-based) answer of an episode. */
export const horizonOf = (k: number): number => 3 + (k % 3);
/** Every 4th answer is an absolute chunk; the rest carry deltas on the joints. */
export const isAbsolute = (k: number): boolean => k % 4 === 0;

/** Dataset-unit value of row h, column i of the k-th answer. */
export function chunkValue(k: number, h: number, i: number): number {
  if (i === 3) return 0.1 * (k % 5) + 0.05 * h; // gripper: always absolute, dataset units
  return isAbsolute(k) ? 0.3 * (i + 1) - 0.02 * h : 0.01 * k + 0.001 * h + 0.0001 * i;
}

/** The reply the server must send for the k-th request with robot state `s` (float64 reference). */
export function expectedRobotRows(k: number, s: readonly number[]): number[][] {
  const rows: number[][] = [];
  for (let h = 0; h < horizonOf(k); h++) {
    const r: number[] = [];
    for (let i = 0; i < 3; i++) r.push(chunkValue(k, h, i) + (isAbsolute(k) ? 0 : s[i]));
    r.push(refGripperToRobot(chunkValue(k, h, 3)));
    rows.push(r);
  }
  return rows;
}

/** openEpisode for a PolicyServer, with the logs of every episode it opened. */
export function episodeFactory(seed = 0): { open: () => ServerEpisode; logs: EpisodeLog[] } {
  const logs: EpisodeLog[] = [];
  let jitter = seed;
  const open = (): ServerEpisode => {
    const log: EpisodeLog = { id: logs.length, observed: [], requests: [], closed: false };
    logs.push(log);
    let lastMs: number | undefined;
    return {
      observe: (o) => log.observed.push(o),
      source: async (req: ChunkRequest): Promise<ActionChunk> => {
        log.requests.push(req);
        if (req.prompt === 'explode') throw new Error('policy exploded');
        const k = log.requests.length;
        // Different delays per call so that concurrent requests finish out of order.
        jitter = (jitter * 1103515245 + 12345) % 2147483648;
        await new Promise((r) => setTimeout(r, jitter % 7));
        const horizon = horizonOf(k);
        const actions = new Float32Array(horizon * POLICY_DIM).fill(99); // padding must be ignored
        for (let h = 0; h < horizon; h++)
          for (let i = 0; i < 4; i++) actions[h * POLICY_DIM + i] = chunkValue(k, h, i);
        lastMs = 1000 + k;
        return { actions, horizon, dim: POLICY_DIM, ...(isAbsolute(k) ? { absolute: true } : {}) };
      },
      get lastTiming() {
        return lastMs === undefined ? undefined : { inferMs: lastMs };
      },
      close: () => {
        log.closed = true;
      },
    };
  };
  return { open, logs };
}
