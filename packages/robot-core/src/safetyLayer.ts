import { defineEmbodiment, measuredStateProblem, type Embodiment } from './embodiment.js';
import { mintSafeCommand, type CommandIssuer, type HoldReason, type SafeCommand } from './safeCommand.js';
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
  /** `start` and `resetEmergencyStop` refuse a measured state further outside the limits than this fraction of the range. Default 0.02. */
  readonly startTolerance?: number;
  /** `observe` rejects a state further outside the limits than this fraction of the range (a sensor or unit fault). Default 0.1. */
  readonly observationTolerance?: number;
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
  /** Observations rejected by {@link SafetyLayer.observe}. */
  rejectedObservations: number;
}

/**
 * The only path from an action source to a driver. Each `step` turns a requested target into a
 * {@link SafeCommand}:
 * - hold the last safe pose while the e-stop is latched (until {@link SafetyLayer.resetEmergencyStop}),
 *   while the newest observation is stale or was rejected, when there is no action or it is stale, and
 *   when the action has the wrong length, any value that is not a finite number, or cannot be read
 *   (the whole action is rejected);
 * - otherwise clamp each dim to its position limits, then to `previous ± maxVelocity × dt`.
 * Because the previous command is always inside the limits, so is the result. Holds repeat the
 * previous command exactly.
 *
 * Every input is copied once into memory the layer owns, then checked, then used, so values that
 * change between reads (getters, shared memory written by another thread) cannot slip past a check.
 * All state is in ES private fields; a failing call changes nothing. One run lasts from `start` to
 * `stop`; its commands drive one robot (see `acceptSafeCommand`).
 */
export class SafetyLayer {
  readonly #embodiment: Embodiment;
  readonly #watchdog: Watchdog;
  readonly #periodMs: number;
  readonly #velocityScale: number;
  readonly #startTolerance: number;
  readonly #observationTolerance: number;
  #last: SafeCommand | undefined;
  #issuer: CommandIssuer | undefined;
  // The command the current chain started from (start or re-anchor); every later command carries it.
  #anchor: SafeCommand | undefined;
  #lastTimeMs = 0;
  #latched = false;
  #seq = 0;
  #observationError: Error | undefined;
  readonly #counters: SafetyStats = {
    emitted: 0,
    followed: 0,
    positionClamped: 0,
    velocityLimited: 0,
    holds: { estop: 0, 'stale-observation': 0, 'stale-action': 0, 'no-action': 0, 'invalid-action': 0 },
    rejectedObservations: 0,
  };

  /** Validates the config and the embodiment (see {@link defineEmbodiment}). */
  constructor(embodiment: Embodiment, config: SafetyConfig = {}) {
    // A copy the caller cannot mutate: limits must not change under a running layer.
    this.#embodiment = defineEmbodiment(embodiment);
    this.#periodMs = config.tickPeriodMs ?? 1000 / this.#embodiment.controlHz;
    this.#velocityScale = config.velocityScale ?? 1;
    this.#startTolerance = config.startTolerance ?? 0.02;
    this.#observationTolerance = config.observationTolerance ?? 0.1;
    if (!(this.#periodMs > 0) || !Number.isFinite(this.#periodMs))
      throw new Error(`SafetyLayer: tickPeriodMs ${this.#periodMs} is not positive`);
    if (!(this.#velocityScale > 0 && this.#velocityScale <= 1))
      throw new Error(`SafetyLayer: velocityScale ${this.#velocityScale} is not in (0, 1]`);
    if (!(this.#startTolerance >= 0) || !Number.isFinite(this.#startTolerance))
      throw new Error(`SafetyLayer: startTolerance ${this.#startTolerance} is not a non-negative number`);
    if (!(this.#observationTolerance >= 0) || !Number.isFinite(this.#observationTolerance))
      throw new Error(
        `SafetyLayer: observationTolerance ${this.#observationTolerance} is not a non-negative number`,
      );
    this.#watchdog = new Watchdog({
      observationTimeoutMs: config.observationTimeoutMs ?? 200,
      actionTimeoutMs: config.actionTimeoutMs ?? 2000,
    });
  }

  /** The embodiment whose limits are enforced (a validated, frozen copy of the one given). */
  get embodiment(): Embodiment {
    return this.#embodiment;
  }

  /** True from {@link SafetyLayer.start} until {@link SafetyLayer.stop}. */
  get started(): boolean {
    return this.#issuer !== undefined;
  }

  /** True while the e-stop is latched. */
  get estopped(): boolean {
    return this.#latched;
  }

  /** The last command emitted, if any. */
  get lastCommand(): SafeCommand | undefined {
    return this.#last;
  }

  /** Why the newest observation was rejected; undefined once one is accepted. */
  get observationError(): Error | undefined {
    return this.#observationError;
  }

  /** A copy of the counters. */
  get stats(): SafetyStats {
    return { ...this.#counters, holds: { ...this.#counters.holds } };
  }

  /**
   * Begin a run: anchor the held pose at the measured state (clamped into the limits). Throws when the
   * state has the wrong length, a value that is not a finite number, or lies further outside a limit
   * than `startTolerance` of that dim's range, when `nowMs` is not finite, while the e-stop is latched,
   * and while a run is going (re-anchor through {@link SafetyLayer.resetEmergencyStop}, or
   * {@link SafetyLayer.stop} first).
   */
  start(measured: ArrayLike<number>, nowMs: number): void {
    const e = this.#embodiment;
    if (this.#latched) throw new Error(`${e.robotType} safety: cannot start while the e-stop is latched`);
    if (this.#issuer)
      throw new Error(
        `${e.robotType} safety: already started; stop() first, or re-anchor with resetEmergencyStop(measured) while the e-stop is latched`,
      );
    const pose = this.#anchorPose(measured, nowMs);
    this.#issuer = this.#newIssuer();
    // A new run counts time from its own start, whatever clock the last run used.
    this.#lastTimeMs = nowMs;
    this.#last = this.#anchor = this.#make(pose, true, 'no-action', nowMs, true);
  }

  /**
   * End the run: later steps throw until the next {@link SafetyLayer.start}, and the robot this run
   * drove accepts no more of its commands, so another layer (or a new run) may take it over. The e-stop
   * latch is kept.
   */
  stop(): void {
    if (this.#issuer) this.#issuer.released = true;
    this.#issuer = undefined;
  }

  /**
   * Feed the watchdog with an observation. A state with the wrong length, a value that is not a finite
   * number, a value further outside a limit than `observationTolerance` of the range, or a non-finite
   * timestamp is rejected: returns false, sets {@link SafetyLayer.observationError}, and forgets every
   * earlier observation, so steps hold (`stale-observation`) until a good one arrives.
   */
  observe(state: ArrayLike<number>, timestampMs: number): boolean {
    const e = this.#embodiment;
    const copy = readOnce(state);
    const problem =
      typeof copy === 'string'
        ? `state ${copy}`
        : !Number.isFinite(timestampMs)
          ? `observation timestamp ${timestampMs} is not finite`
          : measuredStateProblem(e, copy, this.#observationTolerance);
    if (problem !== undefined) {
      this.#observationError = new Error(`${e.robotType} safety: observation rejected: ${problem}`);
      this.#counters.rejectedObservations++;
      this.#watchdog.clear();
      return false;
    }
    this.#observationError = undefined;
    this.#watchdog.noteObservation(timestampMs);
    return true;
  }

  /** Forget observations, so the watchdog holds until a new one arrives (e.g. on disconnect). */
  clearObservations(): void {
    this.#watchdog.clear();
  }

  /** True while the newest accepted observation is within the observation timeout. */
  observationFresh(nowMs: number): boolean {
    return this.#watchdog.observationFresh(nowMs);
  }

  /** Age of the newest accepted observation at `nowMs`. */
  observationAgeMs(nowMs: number): number {
    return this.#watchdog.observationAgeMs(nowMs);
  }

  /** Latch the e-stop: every later step holds the current pose until {@link SafetyLayer.resetEmergencyStop}. */
  emergencyStop(): void {
    this.#latched = true;
  }

  /**
   * Release the e-stop. Motion resumes from the held pose under the velocity limit. Pass the measured
   * state to re-anchor there instead (same checks as {@link SafetyLayer.start}); that is allowed only
   * while the e-stop is latched. Everything is checked before anything changes: when this throws, the
   * e-stop stays latched and the held pose stays. A re-anchor starts a new chain of commands, which a
   * robot follows only when the anchor matches the state it reports (see {@link acceptSafeCommand}).
   */
  resetEmergencyStop(measured?: ArrayLike<number>, nowMs?: number): void {
    if (measured === undefined) {
      this.#latched = false;
      return;
    }
    const e = this.#embodiment;
    if (!this.#latched) {
      throw new Error(
        `${e.robotType} safety: the e-stop is not latched; re-anchoring at a measured state mid-run is refused`,
      );
    }
    const t = nowMs ?? this.#lastTimeMs;
    const pose = this.#anchorPose(measured, t);
    if (!this.#issuer) {
      this.#issuer = this.#newIssuer();
      this.#lastTimeMs = t;
    }
    this.#last = this.#anchor = this.#make(pose, true, 'no-action', t, true);
    this.#latched = false;
  }

  /**
   * One control tick: returns the command to send. `actionTimeMs` is when the observation behind the
   * action was taken (default `nowMs`). Throws only outside a run (before {@link SafetyLayer.start} or
   * after {@link SafetyLayer.stop}).
   */
  step(target: ArrayLike<number> | undefined, nowMs: number, actionTimeMs: number = nowMs): SafeCommand {
    const prev = this.#last;
    if (!prev || !this.#issuer)
      throw new Error(`${this.#embodiment.robotType} safety: step() before start()`);
    if (this.#latched) return this.#hold('estop', nowMs);
    if (!this.#watchdog.observationFresh(nowMs)) return this.#hold('stale-observation', nowMs);
    if (target === undefined || target === null) return this.#hold('no-action', nowMs);
    if (!this.#watchdog.actionFresh(actionTimeMs, nowMs)) return this.#hold('stale-action', nowMs);
    const dims = this.#embodiment.dims;
    // Read once, check the copy, compute from the copy.
    const want = readOnce(target);
    if (typeof want === 'string' || want.length !== dims.length) return this.#hold('invalid-action', nowMs);
    for (let i = 0; i < dims.length; i++) {
      const v = want[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) return this.#hold('invalid-action', nowMs);
    }
    const goal = want as number[];

    const dtS = Math.max(0, Math.min(this.#periodMs, nowMs - this.#lastTimeMs)) / 1000;
    const out = new Array<number>(dims.length);
    let clamped = false;
    let limited = false;
    for (let i = 0; i < dims.length; i++) {
      const d = dims[i];
      const inLimits = Math.min(d.upper, Math.max(d.lower, goal[i]));
      const p = prev.positions[i];
      const maxStep = d.maxVelocity * this.#velocityScale * dtS;
      const v = Math.min(p + maxStep, Math.max(p - maxStep, inLimits));
      if (inLimits !== goal[i]) clamped = true;
      if (v !== inLimits) limited = true;
      out[i] = v;
    }
    if (clamped) this.#counters.positionClamped++;
    if (limited) this.#counters.velocityLimited++;
    this.#counters.followed++;
    this.#counters.emitted++;
    return (this.#last = this.#make(out, false, 'ok', nowMs));
  }

  #hold(reason: HoldReason, nowMs: number): SafeCommand {
    this.#counters.emitted++;
    this.#counters.holds[reason]++;
    return (this.#last = this.#make(this.#last!.positions, true, reason, nowMs));
  }

  #make(
    positions: readonly number[],
    held: boolean,
    reason: HoldReason | 'ok',
    nowMs: number,
    anchor = false,
  ): SafeCommand {
    // Time never runs backwards within a run: a clock step back (or NaN) counts as no time at all, and
    // the command carries the run's time, so a driver can re-check each step's dt from timestamps.
    if (nowMs > this.#lastTimeMs) this.#lastTimeMs = nowMs;
    return mintSafeCommand(
      {
        robotType: this.#embodiment.robotType,
        positions,
        held,
        reason,
        timestampMs: this.#lastTimeMs,
        sequence: this.#seq++,
      },
      this.#issuer!,
      anchor ? undefined : this.#anchor,
    );
  }

  #newIssuer(): CommandIssuer {
    return {
      released: false,
      robot: undefined,
      velocityScale: this.#velocityScale,
      periodMs: this.#periodMs,
    };
  }

  // The pose to anchor at: the measured state clamped into the limits. Throws, changing nothing, on a
  // bad time or a state that is unreadable, the wrong length, not finite or too far outside a limit.
  #anchorPose(measured: ArrayLike<number>, nowMs: number): number[] {
    const e = this.#embodiment;
    if (!Number.isFinite(nowMs)) throw new Error(`${e.robotType} safety: time ${nowMs} is not finite`);
    const copy = readOnce(measured);
    if (typeof copy === 'string') throw new Error(`${e.robotType} safety: measured state ${copy}`);
    if (copy.length !== e.dims.length) {
      throw new Error(
        `${e.robotType} safety: measured state has ${copy.length} values, layout has ${e.dims.length}`,
      );
    }
    const problem = measuredStateProblem(e, copy, this.#startTolerance);
    if (problem !== undefined)
      throw new Error(`${e.robotType} safety: measured ${problem}; move it inside before starting`);
    return e.dims.map((d, i) => Math.min(d.upper, Math.max(d.lower, copy[i] as number)));
  }
}
Object.freeze(SafetyLayer);
Object.freeze(SafetyLayer.prototype);

// Copy an untrusted ArrayLike into an array this module owns, reading `length` and each element
// exactly once. Returns the text of the failure when reading throws (a proxy, a detached buffer).
function readOnce(values: ArrayLike<number>): unknown[] | string {
  try {
    const n = values.length;
    if (!Number.isSafeInteger(n) || n < 0) return `has length ${String(n)}`;
    if (n > 1 << 16) return `has ${n} values`;
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) out[i] = values[i];
    return out;
  } catch (err) {
    return `could not be read: ${err instanceof Error ? err.message : String(err)}`;
  }
}
