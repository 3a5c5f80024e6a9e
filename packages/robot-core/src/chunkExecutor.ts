import type { ActionChunk, ActionSource, CommittedActions } from './actionSource.js';
import { systemClock, type Clock } from './clock.js';
import { tickPeriodMs } from './embodiment.js';
import { fromPolicyActions, toAbsoluteChunk, toPolicyState } from './policyVector.js';
import type { Observation, Robot } from './robot.js';
import type { SafeCommand } from './safeCommand.js';
import type { SafetyLayer } from './safetyLayer.js';
import { ensemblePredictions } from './temporalEnsemble.js';

/**
 * How chunks become per-tick actions.
 * - `chunk`: execute the first `executeSteps` actions of each chunk (default 30 of 50), then switch to
 *   the next one.
 * - `ensemble`: ACT temporal ensembling; every tick averages all chunks that predicted this step with
 *   weights `exp(-k·i)` (oldest first, default k = 0.01), asking for a new chunk every
 *   `queryEverySteps` executed steps (default 1) whenever none is in flight.
 * - `rtc`: real-time chunking. As `chunk`, and every request carries
 *   {@link ChunkRequest.committed}: the current plan's remaining rows from the request's step (robot →
 *   dataset units, absolute) with `delaySteps` = the steps the plan still runs before the new chunk
 *   takes over. The request is made when the steps left ≤ ceil(latency / period), latency the larger
 *   of `expectedLatencyMs` and the measured latency of the last chunk, so that d covers the inference.
 */
export type ExecutionStrategy =
  | { readonly kind: 'chunk'; readonly executeSteps?: number }
  | { readonly kind: 'rtc'; readonly executeSteps?: number }
  | { readonly kind: 'ensemble'; readonly k?: number; readonly queryEverySteps?: number };

/** Wiring and options of a {@link ChunkExecutor}. */
export interface ChunkExecutorConfig {
  /** The driver (real or simulated). */
  readonly robot: Robot;
  /** The policy, local or remote. */
  readonly source: ActionSource;
  /** The safety layer for the robot's embodiment; every command goes through it. */
  readonly safety: SafetyLayer;
  /** Clock shared with the driver and the safety layer. Default {@link systemClock}. */
  readonly clock?: Clock;
  /** Default `{ kind: 'chunk', executeSteps: 30 }`. */
  readonly strategy?: ExecutionStrategy;
  /** Expected inference latency; the next chunk is requested when the steps left ≤ ceil(latency / period). Default 0 (request when exhausted). */
  readonly expectedLatencyMs?: number;
  /**
   * The policy predicts deltas on the embodiment's delta dims: the request's state is added back on
   * them. Default true. A chunk marked {@link ActionChunk.absolute} is taken as absolute regardless.
   */
  readonly actionsAreDelta?: boolean;
  /** Snap grippers at this normalised threshold (upstream 0.5); omitted = no snapping. */
  readonly gripperThreshold?: number;
  /** Task instruction passed to the policy. */
  readonly prompt?: string;
  /**
   * Called once per tick with the robot observation the tick read, before the tick plans (so before
   * any request it makes), e.g. to keep a history of frames at the robot's rate for a policy that
   * reads past frames. Not called on ticks where the robot has no observation. An error it throws is
   * counted and goes to `onError` like other tick errors; the tick then goes on (the robot is still
   * commanded through the safety layer).
   */
  readonly onObservation?: (observation: Observation) => void;
  /** Called with every command after it was sent. */
  readonly onCommand?: (cmd: SafeCommand) => void;
  /** Called on policy errors, malformed chunks and exceptions inside a tick. */
  readonly onError?: (err: Error) => void;
}

/** Counters of a {@link ChunkExecutor}. */
export interface ExecutorStats {
  /** Ticks run. */
  ticks: number;
  /** Chunks requested. */
  requests: number;
  /** Chunks received and accepted. */
  chunksReceived: number;
  /** Chunks that arrived after all the steps they were to cover had passed. */
  chunksDropped: number;
  /** Policy failures and malformed chunks. */
  errors: number;
  /** Ticks that executed a planned action (the safety layer followed it). */
  executedSteps: number;
  /** Ticks where the safety layer held. */
  holds: number;
  /** Request → arrival time of the last chunk (ms). */
  lastLatencyMs: number;
}

// A received chunk in robot-space absolute targets. Its row i is the action for executed step base + i.
interface Plan {
  readonly rows: Float64Array[];
  readonly base: number;
  readonly obsTimeMs: number;
}

interface Pending {
  readonly base: number;
  readonly obsTimeMs: number;
  readonly sentAtMs: number;
  readonly state: Float64Array;
  readonly generation: number;
}

/**
 * Runs action chunks on a robot at the embodiment's control rate, asynchronously: the next chunk is
 * requested while the current one executes, so inference overlaps execution.
 *
 * Time inside a plan is counted in executed steps, not wall time: row i of a chunk is the action for
 * the i-th step executed after its observation was taken. A chunk requested `L` steps before the
 * current one runs out therefore starts at row `L` when it arrives (its first rows were covered by the
 * old chunk meanwhile), and ticks where the safety layer held (stale observation, e-stop) do not
 * consume rows. A chunk that arrives later than the steps it was to cover is dropped; while no chunk
 * covers the current step the executor asks the safety layer to hold (`no-action`), and a plan whose
 * observation is older than the safety layer's action timeout is held (`stale-action`) and replaced.
 */
export class ChunkExecutor {
  private readonly cfg: ChunkExecutorConfig;
  private readonly clock: Clock;
  private readonly periodMs: number;
  private readonly strategy: Required<ExecutionStrategy>;
  private readonly latencySteps: number;
  private current: Plan | undefined;
  private queued: Plan | undefined;
  private plans: Plan[] = [];
  private pending: Pending | undefined;
  private executed = 0;
  private lastRequestBase = -Infinity;
  private generation = 0;
  private timer: unknown;
  private isRunning = false;
  private t0 = 0;
  private k = 0;
  private readonly counters: ExecutorStats = {
    ticks: 0,
    requests: 0,
    chunksReceived: 0,
    chunksDropped: 0,
    errors: 0,
    executedSteps: 0,
    holds: 0,
    lastLatencyMs: Number.NaN,
  };

  /** Checks the wiring: the safety layer must guard the robot's embodiment. */
  constructor(config: ChunkExecutorConfig) {
    this.cfg = config;
    this.clock = config.clock ?? systemClock;
    const e = config.robot.embodiment;
    if (config.safety.embodiment.robotType !== e.robotType) {
      throw new Error(
        `ChunkExecutor: safety layer is for "${config.safety.embodiment.robotType}", robot is "${e.robotType}"`,
      );
    }
    this.periodMs = tickPeriodMs(e);
    const s = config.strategy ?? { kind: 'chunk' };
    this.strategy =
      s.kind === 'ensemble'
        ? { kind: 'ensemble', k: s.k ?? 0.01, queryEverySteps: s.queryEverySteps ?? 1 }
        : { kind: s.kind, executeSteps: s.executeSteps ?? 30 };
    if (
      this.strategy.kind !== 'ensemble' &&
      !(Number.isInteger(this.strategy.executeSteps) && this.strategy.executeSteps >= 1)
    ) {
      throw new Error(`ChunkExecutor: executeSteps ${this.strategy.executeSteps} is not a positive integer`);
    }
    if (
      this.strategy.kind === 'ensemble' &&
      !(Number.isInteger(this.strategy.queryEverySteps) && this.strategy.queryEverySteps >= 1)
    ) {
      throw new Error(
        `ChunkExecutor: queryEverySteps ${this.strategy.queryEverySteps} is not a positive integer`,
      );
    }
    const latency = config.expectedLatencyMs ?? 0;
    if (!(latency >= 0)) throw new Error(`ChunkExecutor: expectedLatencyMs ${latency} is negative`);
    this.latencySteps = Math.ceil(latency / this.periodMs);
  }

  /** A copy of the counters. */
  get stats(): ExecutorStats {
    return { ...this.counters };
  }

  /** True between {@link ChunkExecutor.start} and {@link ChunkExecutor.stop}. */
  get running(): boolean {
    return this.isRunning;
  }

  /** Steps left in the active plan (chunk and rtc strategies), 0 when none. */
  get stepsLeft(): number {
    if (this.strategy.kind === 'ensemble' || !this.current) return 0;
    return Math.max(0, this.limit(this.current) - (this.executed - this.current.base));
  }

  /** Tick at the control rate on the clock until {@link ChunkExecutor.stop}. The first tick runs at once. */
  start(): void {
    if (this.isRunning) return;
    this.isRunning = true;
    this.t0 = this.clock.now();
    this.k = 0;
    this.schedule();
  }

  /** Stop ticking; a chunk still in flight is ignored when it arrives. */
  stop(): void {
    this.isRunning = false;
    this.generation++;
    this.pending = undefined;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * One control step at `clock.now()`: read the robot, maybe request a chunk, pick this step's target,
   * pass it through the safety layer and send the result. Returns the command, or undefined before the
   * robot delivered its first valid state. Public so a simulator can drive the loop in lockstep.
   */
  tick(): SafeCommand | undefined {
    const { robot, safety } = this.cfg;
    const now = this.clock.now();
    this.counters.ticks++;
    const obs = robot.observe();
    if (obs !== undefined && this.cfg.onObservation) {
      try {
        this.cfg.onObservation(obs);
      } catch (err) {
        this.report(err);
      }
    }
    // No snapshot from a robot that had one means its state is unknown now: hold at once rather than
    // when the last good observation times out.
    if (obs === undefined) safety.clearObservations();
    const valid = obs !== undefined && safety.observe(obs.state, obs.timestampMs);
    if (!safety.started) {
      if (!valid) return undefined;
      safety.start(obs.state, now);
    }
    // Ask the policy only about the present: a stale snapshot would plan from the past.
    const canRequest = valid && safety.observationFresh(now);

    let target: { row: Float64Array; obsTimeMs: number } | undefined;
    if (this.strategy.kind !== 'ensemble') {
      this.advanceChunkPlan();
      const left = this.stepsLeft;
      if (canRequest && !this.pending && !this.queued && left <= this.requestSteps()) this.request(obs!, now);
      if (this.current && left > 0) {
        target = {
          row: this.current.rows[this.executed - this.current.base],
          obsTimeMs: this.current.obsTimeMs,
        };
      }
    } else {
      this.plans = this.plans.filter((p) => this.executed - p.base < p.rows.length);
      if (
        canRequest &&
        !this.pending &&
        (this.plans.length === 0 || this.executed - this.lastRequestBase >= this.strategy.queryEverySteps)
      ) {
        this.request(obs!, now);
      }
      if (this.plans.length > 0) {
        const preds = this.plans.map((p) => p.rows[this.executed - p.base]);
        target = {
          row: ensemblePredictions(preds, this.strategy.k),
          obsTimeMs: this.plans[this.plans.length - 1].obsTimeMs,
        };
      }
    }

    const cmd = safety.step(target?.row, now, target?.obsTimeMs);
    if (target && !cmd.held) {
      this.executed++;
      this.counters.executedSteps++;
    } else {
      this.counters.holds++;
    }
    if (cmd.reason === 'stale-action') {
      // The plan outlived its observation: drop it so the next tick asks for a fresh one.
      this.current = undefined;
      this.plans = [];
    }
    robot.command(cmd);
    this.cfg.onCommand?.(cmd);
    return cmd;
  }

  // Steps left at which the next chunk is asked for: the expected latency; with rtc also the measured one.
  private requestSteps(): number {
    const measured = this.counters.lastLatencyMs;
    if (this.strategy.kind !== 'rtc' || !Number.isFinite(measured)) return this.latencySteps;
    return Math.max(this.latencySteps, Math.ceil(measured / this.periodMs));
  }

  // The current plan's rows from this step on, in dataset units: what runs while the chunk is computed.
  private committed(): CommittedActions | undefined {
    const p = this.current;
    if (this.strategy.kind !== 'rtc' || !p) return undefined;
    const { actions, horizon, dim } = toAbsoluteChunk(
      this.cfg.robot.embodiment,
      p.rows.slice(this.executed - p.base),
    );
    // Rows are counted in executed steps, so the new chunk starts after exactly the steps left, however
    // late it arrives (held ticks consume no rows).
    return { actions, horizon, dim, delaySteps: this.stepsLeft };
  }

  private limit(p: Plan): number {
    return this.strategy.kind !== 'ensemble'
      ? Math.min(this.strategy.executeSteps, p.rows.length)
      : p.rows.length;
  }

  private advanceChunkPlan(): void {
    if (this.current && this.executed - this.current.base >= this.limit(this.current))
      this.current = undefined;
    if (!this.current && this.queued) {
      const q = this.queued;
      this.queued = undefined;
      if (this.executed - q.base >= this.limit(q)) this.counters.chunksDropped++;
      else this.current = q;
    }
  }

  private request(obs: Observation, now: number): void {
    const e = this.cfg.robot.embodiment;
    const p: Pending = {
      base: this.executed,
      obsTimeMs: obs.timestampMs,
      sentAtMs: now,
      state: Float64Array.from(obs.state),
      generation: this.generation,
    };
    this.pending = p;
    this.lastRequestBase = this.executed;
    this.counters.requests++;
    const committed = this.committed();
    let promise: Promise<ActionChunk>;
    try {
      promise = this.cfg.source({
        robotType: e.robotType,
        state: toPolicyState(e, obs.state),
        images: obs.images,
        ...(this.cfg.prompt !== undefined ? { prompt: this.cfg.prompt } : {}),
        timestampMs: obs.timestampMs,
        ...(committed ? { committed } : {}),
      });
    } catch (err) {
      promise = Promise.reject(err);
    }
    promise.then(
      (chunk) => this.receive(p, chunk),
      (err) => this.fail(p, err),
    );
  }

  private receive(p: Pending, chunk: ActionChunk): void {
    if (p.generation !== this.generation || this.pending !== p) return;
    this.pending = undefined;
    this.counters.lastLatencyMs = this.clock.now() - p.sentAtMs;
    let rows: Float64Array[];
    try {
      rows = fromPolicyActions(this.cfg.robot.embodiment, chunk, p.state, {
        // A source that added the state back itself must not get it added twice.
        delta: chunk.absolute === true ? false : (this.cfg.actionsAreDelta ?? true),
        ...(this.cfg.gripperThreshold !== undefined ? { gripperThreshold: this.cfg.gripperThreshold } : {}),
      });
    } catch (err) {
      this.fail(p, err, true);
      return;
    }
    this.counters.chunksReceived++;
    const plan: Plan = { rows, base: p.base, obsTimeMs: p.obsTimeMs };
    if (this.strategy.kind !== 'ensemble') {
      this.queued = plan;
    } else if (this.executed - plan.base < plan.rows.length) {
      this.plans.push(plan);
    } else {
      this.counters.chunksDropped++;
    }
  }

  private fail(p: Pending, err: unknown, alreadyCleared = false): void {
    if (!alreadyCleared && (p.generation !== this.generation || this.pending !== p)) return;
    this.pending = undefined;
    this.report(err);
  }

  private report(err: unknown): void {
    this.counters.errors++;
    this.cfg.onError?.(err instanceof Error ? err : new Error(String(err)));
  }

  private schedule(): void {
    if (!this.isRunning) return;
    const now = this.clock.now();
    let due = this.t0 + this.k * this.periodMs;
    // Fell behind (slow tick, suspended tab): skip the missed ticks rather than bursting through them.
    if (due < now - this.periodMs) {
      this.k = Math.ceil((now - this.t0) / this.periodMs);
      due = this.t0 + this.k * this.periodMs;
    }
    this.k++;
    this.timer = this.clock.setTimeout(
      () => {
        this.timer = undefined;
        if (!this.isRunning) return;
        try {
          this.tick();
        } catch (err) {
          this.report(err);
        }
        this.schedule();
      },
      Math.max(0, due - now),
    );
  }
}
