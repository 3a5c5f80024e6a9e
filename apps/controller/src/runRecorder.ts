import type { Embodiment, ExecutorStats, Observation, SafeCommand } from '@vla/robot-core';
import { boundaryJerk, latencyStats, type BoundaryJerk } from './boundaryJerk.js';
import type { EpisodeSummary, RunSummary } from './runSummary.js';

/** What a run loop reports while it runs (the dashboard listens). */
export interface RunListener {
  /** Every control tick: the observation it read (if any) and the command sent. */
  tick?(t: {
    readonly timestampMs: number;
    readonly observation?: Observation;
    readonly command: SafeCommand;
  }): void;
  /** Every chunk that arrived. */
  chunk?(c: { readonly latencyMs: number; readonly timestampMs: number }): void;
  /** Every finished episode. */
  episode?(e: EpisodeSummary): void;
  /** Free-form progress lines. */
  log?(message: string): void;
}

/** @internal Collects commands, boundaries and latencies of a run's episodes into a {@link RunSummary}. */
export class RunRecorder {
  readonly episodes: EpisodeSummary[] = [];
  private positions: number[][] = [];
  private boundaries: number[] = [];
  private readonly jerks: BoundaryJerk[] = [];
  private first: readonly number[] | undefined;
  private travel = 0;
  private inLimits = true;
  private readonly messages: string[] = [];
  private episodeLatencies: number[] = [];
  private episodeEstopHolds = 0;

  constructor(private readonly embodiment: Embodiment) {}

  /** Starts an episode (its first tick follows). */
  beginEpisode(): void {
    this.positions = [];
    this.boundaries = [];
    this.episodeLatencies = [];
    this.episodeEstopHolds = 0;
  }

  /** Records a sent command. */
  command(cmd: SafeCommand): void {
    const p = [...cmd.positions];
    this.positions.push(p);
    if (cmd.reason === 'estop') this.episodeEstopHolds++;
    this.first ??= p;
    this.embodiment.dims.forEach((d, i) => {
      this.travel = Math.max(this.travel, Math.abs(p[i] - this.first![i]));
      if (!(p[i] >= d.lower && p[i] <= d.upper)) this.inLimits = false;
    });
  }

  /** A chunk arrived: the next tick is the first that can execute it. */
  chunk(latencyMs: number): void {
    this.episodeLatencies.push(latencyMs);
    this.boundaries.push(this.positions.length);
  }

  /** Records an error message. */
  error(err: Error): void {
    if (this.messages.length < 5) this.messages.push(err.message);
  }

  /** Ends the episode with the executor's counters. */
  endEpisode(seed: number, success: boolean, stats: ExecutorStats): EpisodeSummary {
    const e: EpisodeSummary = {
      seed,
      ticks: this.positions.length,
      success,
      requests: stats.requests,
      chunks: stats.chunksReceived,
      chunksDropped: stats.chunksDropped,
      holds: stats.holds,
      estopHolds: this.episodeEstopHolds,
      errors: stats.errors,
      latenciesMs: this.episodeLatencies,
    };
    this.episodes.push(e);
    // Per episode, so no stencil spans the jump of a reset.
    const joints = this.embodiment.dims.flatMap((d, i) => (d.kind === 'joint' ? [i] : []));
    this.jerks.push(boundaryJerk(this.positions, joints, this.boundaries));
    return e;
  }

  /** The run's summary. */
  summary(base: {
    mode: 'lockstep' | 'realtime';
    robot: string;
    task?: string;
    strategy: string;
    estops: number;
    stopped: boolean;
  }): RunSummary {
    const sum = (f: (e: EpisodeSummary) => number) => this.episodes.reduce((a, e) => a + f(e), 0);
    const successes = sum((e) => (e.success ? 1 : 0));
    const total = (f: (j: BoundaryJerk) => number, n: (j: BoundaryJerk) => number) =>
      this.jerks.reduce((a, j) => a + (n(j) ? f(j) * n(j) : 0), 0);
    const nB = this.jerks.reduce((a, j) => a + j.boundaryCount, 0);
    const nE = this.jerks.reduce((a, j) => a + j.elsewhereCount, 0);
    const jerk: BoundaryJerk = {
      boundary:
        total(
          (j) => j.boundary,
          (j) => j.boundaryCount,
        ) / nB,
      elsewhere:
        total(
          (j) => j.elsewhere,
          (j) => j.elsewhereCount,
        ) / nE,
      boundaryCount: nB,
      elsewhereCount: nE,
    };
    return {
      ...base,
      episodes: this.episodes.length,
      successes,
      successRate: this.episodes.length ? successes / this.episodes.length : 0,
      ticks: sum((e) => e.ticks),
      requests: sum((e) => e.requests),
      chunks: sum((e) => e.chunks),
      chunksDropped: sum((e) => e.chunksDropped),
      chunkLatencyMs: latencyStats(this.episodes.flatMap((e) => e.latenciesMs)),
      holds: sum((e) => e.holds),
      estopHolds: sum((e) => e.estopHolds),
      errors: sum((e) => e.errors),
      errorMessages: this.messages,
      maxTravel: this.travel,
      withinLimits: this.inLimits,
      jerk,
      perEpisode: this.episodes,
    };
  }
}
