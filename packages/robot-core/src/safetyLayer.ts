import type { Embodiment } from './embodiment.js';
import { mintSafeCommand, type HoldReason, type SafeCommand } from './safeCommand.js';
import { Watchdog } from './watchdog.js';

/** Settings of a {@link SafetyLayer}; every field has a default. */
export interface SafetyConfig {
  /** Nominal tick period in ms; the per-tick step limit is `maxVelocity × min(period, elapsed)`. Default 1000 / controlHz. */
  readonly tickPeriodMs?: number;
  /** Hold when the newest observation is older than this (ms). Default 200. */
  readonly observationTimeoutMs?: number;
  /** Hold when the action was computed from an observation older than this (ms). Default 2000. */
  readonly actionTimeoutMs?: number;
  /** Scales every velocity limit, in (0, 1]. Default 1. */
  readonly velocityScale?: number;
  /** `start` refuses a measured state further outside the limits than this fraction of the range. Default 0.02. */
  readonly startTolerance?: number;
}

/** Counters of what the safety layer did. */
export interface SafetyStats {
  /** Commands emitted. */
  emitted: number;
  /** Commands that followed (a clamped version of) the request. */
  followed: number;
  /** Steps where at least one dim was clamped to a position limit. */
  positionClamped: number;
  /** Steps where at least one dim was limited by the velocity limit. */
  velocityLimited: number;
  /** Holds, by reason. */
  holds: Record<HoldReason, number>;
}

/**
 * The only path from an action source to a driver. Each `step` turns a requested target into a
 * {@link SafeCommand}:
 * - hold the last safe pose while the e-stop is latched (until {@link SafetyLayer.resetEmergencyStop}),
 *   while the newest observation is stale, when there is no action or it is stale, and when the action
 *   has the wrong length or any NaN/±Inf value (the whole action is rejected);
 * - otherwise clamp each dim to its position limits, then to `previous ± maxVelocity × dt`.
 * Because the previous command is always inside the limits, so is the result. Holds repeat the
 * previous command exactly.
 */
export class SafetyLayer {
  /** The embodiment whose limits are enforced. */
  readonly embodiment: Embodiment;
  private readonly watchdog: Watchdog;
  private readonly periodMs: number;
  private readonly velocityScale: number;
  private readonly startTolerance: number;
  private last: SafeCommand | undefined;
  private lastTimeMs = 0;
  private latched = false;
  private seq = 0;
  private readonly counters: SafetyStats = {
    emitted: 0,
    followed: 0,
    positionClamped: 0,
    velocityLimited: 0,
    holds: { estop: 0, 'stale-observation': 0, 'stale-action': 0, 'no-action': 0, 'invalid-action': 0 },
  };

  /** Validates the config against the embodiment. */
  constructor(embodiment: Embodiment, config: SafetyConfig = {}) {
    this.embodiment = embodiment;
    this.periodMs = config.tickPeriodMs ?? 1000 / embodiment.controlHz;
    this.velocityScale = config.velocityScale ?? 1;
    this.startTolerance = config.startTolerance ?? 0.02;
    if (!(this.periodMs > 0) || !Number.isFinite(this.periodMs))
      throw new Error(`SafetyLayer: tickPeriodMs ${this.periodMs} is not positive`);
    if (!(this.velocityScale > 0 && this.velocityScale <= 1))
      throw new Error(`SafetyLayer: velocityScale ${this.velocityScale} is not in (0, 1]`);
    if (!(this.startTolerance >= 0))
      throw new Error(`SafetyLayer: startTolerance ${this.startTolerance} is negative`);
    this.watchdog = new Watchdog({
      observationTimeoutMs: config.observationTimeoutMs ?? 200,
      actionTimeoutMs: config.actionTimeoutMs ?? 2000,
    });
  }

  /** True once {@link SafetyLayer.start} anchored a pose. */
  get started(): boolean {
    return this.last !== undefined;
  }

  /** True while the e-stop is latched. */
  get estopped(): boolean {
    return this.latched;
  }

  /** The last command emitted, if any. */
  get lastCommand(): SafeCommand | undefined {
    return this.last;
  }

  /** A copy of the counters. */
  get stats(): SafetyStats {
    return { ...this.counters, holds: { ...this.counters.holds } };
  }

  /**
   * Anchor the held pose at the measured state (clamped into the limits) before the first step. Throws
   * when the state has the wrong length, a non-finite value, or lies further outside a limit than
   * `startTolerance` of that dim's range, or while the e-stop is latched.
   */
  start(measured: ArrayLike<number>, nowMs: number): void {
    const e = this.embodiment;
    if (this.latched) throw new Error(`${e.robotType} safety: cannot start while the e-stop is latched`);
    const pose = this.checkedPose(measured);
    this.last = this.make(pose, true, 'no-action', nowMs);
  }

  /** Feed the watchdog with an observation; non-finite or wrong-length states are ignored (and so go stale). */
  observe(state: ArrayLike<number>, timestampMs: number): boolean {
    if (state.length !== this.embodiment.dims.length) return false;
    for (let i = 0; i < state.length; i++) if (!Number.isFinite(state[i])) return false;
    this.watchdog.noteObservation(timestampMs);
    return true;
  }

  /** Forget observations, so the watchdog holds until a new one arrives (e.g. on disconnect). */
  clearObservations(): void {
    this.watchdog.clear();
  }

  /** True while the newest accepted observation is within the observation timeout. */
  observationFresh(nowMs: number): boolean {
    return this.watchdog.observationFresh(nowMs);
  }

  /** Age of the newest accepted observation at `nowMs`. */
  observationAgeMs(nowMs: number): number {
    return this.watchdog.observationAgeMs(nowMs);
  }

  /** Latch the e-stop: every later step holds the current pose until {@link SafetyLayer.resetEmergencyStop}. */
  emergencyStop(): void {
    this.latched = true;
  }

  /**
   * Release the e-stop. Motion resumes from the held pose under the velocity limit. Pass the measured
   * state to re-anchor there instead (same checks as {@link SafetyLayer.start}).
   */
  resetEmergencyStop(measured?: ArrayLike<number>, nowMs?: number): void {
    this.latched = false;
    if (measured !== undefined) this.start(measured, nowMs ?? this.lastTimeMs);
  }

  /**
   * One control tick: returns the command to send. `actionTimeMs` is when the observation behind the
   * action was taken (default `nowMs`). Throws only before {@link SafetyLayer.start}.
   */
  step(target: ArrayLike<number> | undefined, nowMs: number, actionTimeMs: number = nowMs): SafeCommand {
    const prev = this.last;
    if (!prev) throw new Error(`${this.embodiment.robotType} safety: step() before start()`);
    if (this.latched) return this.hold('estop', nowMs);
    if (!this.watchdog.observationFresh(nowMs)) return this.hold('stale-observation', nowMs);
    if (target === undefined || target === null) return this.hold('no-action', nowMs);
    if (!this.watchdog.actionFresh(actionTimeMs, nowMs)) return this.hold('stale-action', nowMs);
    const dims = this.embodiment.dims;
    if (target.length !== dims.length) return this.hold('invalid-action', nowMs);
    for (let i = 0; i < dims.length; i++)
      if (!Number.isFinite(target[i])) return this.hold('invalid-action', nowMs);

    const dtS = Math.max(0, Math.min(this.periodMs, nowMs - this.lastTimeMs)) / 1000;
    const out = new Array<number>(dims.length);
    let clamped = false;
    let limited = false;
    for (let i = 0; i < dims.length; i++) {
      const d = dims[i];
      const inLimits = Math.min(d.upper, Math.max(d.lower, target[i]));
      const p = prev.positions[i];
      const maxStep = d.maxVelocity * this.velocityScale * dtS;
      const v = Math.min(p + maxStep, Math.max(p - maxStep, inLimits));
      if (inLimits !== target[i]) clamped = true;
      if (v !== inLimits) limited = true;
      out[i] = v;
    }
    if (clamped) this.counters.positionClamped++;
    if (limited) this.counters.velocityLimited++;
    this.counters.followed++;
    this.counters.emitted++;
    return (this.last = this.make(out, false, 'ok', nowMs));
  }

  private hold(reason: HoldReason, nowMs: number): SafeCommand {
    this.counters.emitted++;
    this.counters.holds[reason]++;
    return (this.last = this.make(this.last!.positions, true, reason, nowMs));
  }

  private make(
    positions: readonly number[],
    held: boolean,
    reason: HoldReason | 'ok',
    nowMs: number,
  ): SafeCommand {
    // Time never runs backwards for the velocity limit: a clock step back yields dt = 0 (a hold).
    this.lastTimeMs = Number.isFinite(nowMs) ? nowMs : this.lastTimeMs;
    return mintSafeCommand({
      robotType: this.embodiment.robotType,
      positions,
      held,
      reason,
      timestampMs: nowMs,
      sequence: this.seq++,
    });
  }

  private checkedPose(measured: ArrayLike<number>): number[] {
    const e = this.embodiment;
    if (measured.length !== e.dims.length) {
      throw new Error(
        `${e.robotType} safety: measured state has ${measured.length} values, layout has ${e.dims.length}`,
      );
    }
    return e.dims.map((d, i) => {
      const v = measured[i];
      if (!Number.isFinite(v)) throw new Error(`${e.robotType} safety: measured ${d.name} is ${v}`);
      const slack = this.startTolerance * (d.upper - d.lower);
      if (v < d.lower - slack || v > d.upper + slack) {
        throw new Error(
          `${e.robotType} safety: measured ${d.name} = ${v} is outside [${d.lower}, ${d.upper}]; move it inside before starting`,
        );
      }
      return Math.min(d.upper, Math.max(d.lower, v));
    });
  }
}
