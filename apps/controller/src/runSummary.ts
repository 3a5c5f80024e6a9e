import type { BoundaryJerk } from './boundaryJerk.js';

/** One episode of a run. */
export interface EpisodeSummary {
  /** Seed of the scene (simulator) or 0 (ROS robot). */
  readonly seed: number;
  /** Control ticks run. */
  readonly ticks: number;
  /** The task reached its goal (always false on a ROS robot, which has no scorer). */
  readonly success: boolean;
  /** Chunks requested and received. */
  readonly requests: number;
  readonly chunks: number;
  /** Chunks that arrived too late to be used. */
  readonly chunksDropped: number;
  /** Ticks the safety layer held (no action yet, stale observation, e-stop). */
  readonly holds: number;
  /** Ticks held by the e-stop. */
  readonly estopHolds: number;
  /** Policy and tick errors. */
  readonly errors: number;
  /** Wall-clock latency of every chunk (ms): inference time in lockstep, request → arrival in real time. */
  readonly latenciesMs: readonly number[];
}

/** The result of a run, printed by `vla-control run` as JSON. */
export interface RunSummary {
  /** `lockstep` (simulated time, deterministic) or `realtime` (system clock). */
  readonly mode: 'lockstep' | 'realtime';
  readonly robot: string;
  /** Simulator task, absent on a ROS robot. */
  readonly task?: string;
  readonly strategy: string;
  readonly episodes: number;
  readonly successes: number;
  readonly successRate: number;
  readonly ticks: number;
  readonly requests: number;
  readonly chunks: number;
  readonly chunksDropped: number;
  /** Chunk latency (ms) over the run. */
  readonly chunkLatencyMs: { readonly mean: number; readonly p95: number; readonly max: number };
  readonly holds: number;
  readonly estopHolds: number;
  /** E-stops triggered (keyboard, dashboard). */
  readonly estops: number;
  readonly errors: number;
  /** First error messages (at most 5). */
  readonly errorMessages: readonly string[];
  /** Largest distance (robot units) any dim was commanded from its first commanded position. */
  readonly maxTravel: number;
  /** Every commanded position stayed within its dim's limits. */
  readonly withinLimits: boolean;
  /** Jerk around chunk boundaries (see boundaryJerk). */
  readonly jerk: BoundaryJerk;
  /** Whether the run ended by a stop request (SIGINT, `q`, the dashboard). */
  readonly stopped: boolean;
  readonly perEpisode: readonly EpisodeSummary[];
}
