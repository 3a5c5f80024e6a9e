import { defineEmbodiment, type Embodiment } from './embodiment.js';
import type { Robot } from './robot.js';

/** Why the safety layer emitted a hold instead of following the requested target. */
export type HoldReason = 'estop' | 'stale-observation' | 'stale-action' | 'no-action' | 'invalid-action';

/** The fields of a {@link SafeCommand}. */
export interface SafeCommandFields {
  readonly robotType: string;
  readonly positions: readonly number[];
  readonly held: boolean;
  readonly reason: HoldReason | 'ok';
  readonly timestampMs: number;
  readonly sequence: number;
}

/**
 * @internal One run of a SafetyLayer (from `start` to `stop`): the identity its commands carry, and
 * the rules its steps obeyed, which the gate checks again. The first robot that accepts one of its
 * commands becomes its robot; `released` is set by `stop`.
 */
export interface CommandIssuer {
  released: boolean;
  robot: object | undefined;
  /** The layer's velocity scale, in (0, 1]. */
  readonly velocityScale: number;
  /** The layer's tick period (ms): the most time one step may count. */
  readonly periodMs: number;
}

// Module-private: the only way to construct a SafeCommand. Not exported from the package index and,
// because the package bundles to one file and its `exports` map has no deep paths, not reachable from
// outside the package.
const MINT: unique symbol = Symbol('SafeCommand.mint');
let mint:
  ((f: SafeCommandFields, issuer: CommandIssuer, anchor: SafeCommand | undefined) => SafeCommand) | undefined;
let genuine: ((x: unknown) => x is SafeCommand) | undefined;
let issuerOf: ((c: SafeCommand) => CommandIssuer) | undefined;
let anchorOf: ((c: SafeCommand) => SafeCommand) | undefined;

/**
 * Joint targets that passed the {@link SafetyLayer}: inside joint and gripper limits, within the
 * velocity limit from the previous command, finite, and equal to the held pose while the e-stop is
 * latched or the watchdog trips. Drivers accept only this type, through {@link acceptSafeCommand}.
 *
 * Nothing else can produce one: the constructor is private and also checks a module-private symbol at
 * run time, and genuineness is an ES private-field brand check (`#brand in x`), which no object
 * literal, `Object.create(SafeCommand.prototype)`, proxy or overwritten method can pass. The class and
 * its prototype are frozen, so no static can be replaced. Each command also carries, privately, the
 * layer run that made it: that is what binds it to one layer and one robot. If two copies of this
 * package are loaded, a command from one is rejected by drivers bound to the other; keep one copy.
 */
export class SafeCommand {
  readonly #brand = true;
  readonly #issuer: CommandIssuer;
  // The pose this command's chain started from: the `start` or `resetEmergencyStop(measured)` command.
  readonly #anchor: SafeCommand;
  /** Robot type of the embodiment the safety layer guards. */
  readonly robotType: string;
  /** Target positions in robot units, the embodiment's layout. Frozen. */
  readonly positions: readonly number[];
  /** True when this is a hold of the last safe pose rather than a step toward the request. */
  readonly held: boolean;
  /** `ok`, or why the request was not followed. */
  readonly reason: HoldReason | 'ok';
  /** Safety-layer clock time when it was made (ms); never decreases within a run. */
  readonly timestampMs: number;
  /** Increases by one per command from the same safety layer; a robot accepts only increasing ones. */
  readonly sequence: number;

  private constructor(
    token: symbol,
    f: SafeCommandFields,
    issuer: CommandIssuer,
    anchor: SafeCommand | undefined,
  ) {
    if (token !== MINT) throw new Error('SafeCommand: only the SafetyLayer can create commands');
    this.#issuer = issuer;
    this.#anchor = anchor ?? this;
    this.robotType = f.robotType;
    this.positions = Object.freeze([...f.positions]);
    this.held = f.held;
    this.reason = f.reason;
    this.timestampMs = f.timestampMs;
    this.sequence = f.sequence;
    Object.freeze(this);
  }

  static {
    mint = (f, issuer, anchor) => new SafeCommand(MINT, f, issuer, anchor);
    genuine = (x): x is SafeCommand => typeof x === 'object' && x !== null && #brand in x && x.#brand;
    issuerOf = (c) => c.#issuer;
    anchorOf = (c) => c.#anchor;
  }

  /** True only for commands created by a SafetyLayer of this package copy. */
  static isSafeCommand(x: unknown): x is SafeCommand {
    return genuine!(x);
  }
}
Object.freeze(SafeCommand);
Object.freeze(SafeCommand.prototype);

// Per robot: its embodiment as it was when it accepted its first command (so mutating or swapping the
// driver's field later changes nothing here), the layer run it follows and the last command it
// accepted. Keyed weakly by the driver object, so nothing here keeps a robot alive.
interface Followed {
  readonly embodiment: Embodiment;
  readonly issuer: CommandIssuer;
  readonly last: SafeCommand;
}
const followed = new WeakMap<object, Followed>();

// How far (in ticks at each dim's full velocity) a chain's anchor may lie from the state the robot
// reports when the chain's first command reaches it. Anchors are measured states, so a genuine one sits
// on the reported state up to sensor noise and the motion between the two readings.
const ANCHOR_TOLERANCE_TICKS = 2;

/**
 * The gate every driver calls first in `command`, with itself as `robot`. It throws, accepting
 * nothing, unless all of these hold:
 *
 * - `cmd` is a genuine {@link SafeCommand} for the robot's type and layout, inside its position limits;
 * - it comes from the layer run that drives this robot (the first run whose command the robot
 *   accepted, until that run's `stop()`), and that run drives no other robot;
 * - its sequence number is above that of every command the robot accepted from the run: each command
 *   is used once, even when the driver then drops it, and never out of order;
 * - it is continuous with what the robot executed: within `maxVelocity × velocityScale × dt` of the
 *   last accepted command on every dim, where `dt` is the time between their timestamps, counting at
 *   most the layer's tick period per command in between (what the layer's own steps allow);
 * - when it starts a new chain (the first command of a run, or the first after
 *   `resetEmergencyStop(measured)` re-anchored the layer), the chain's anchor lies within
 *   `maxVelocity × 2 / controlHz` (two ticks at full speed) of the state `robot.observe()` reports now
 *   (both clamped into the limits), and the command is continuous with that anchor. A robot with no
 *   state refuses new chains.
 *
 * So whatever the caller does with layers and commands, what a robot executes moves no faster than
 * its velocity limits, and starts only from where the robot is.
 */
export function acceptSafeCommand(robot: Robot, cmd: unknown): asserts cmd is SafeCommand {
  const prior = followed.get(robot);
  // A validated, frozen copy, taken once: limits cannot change under a robot that is being driven.
  const e = prior?.embodiment ?? defineEmbodiment(robot.embodiment);
  const who = `${e.robotType} driver`;
  if (!genuine!(cmd)) throw new Error(`${who}: command rejected, it was not created by a SafetyLayer`);
  if (cmd.robotType !== e.robotType) throw new Error(`${who}: command is for robot type "${cmd.robotType}"`);
  const n = e.dims.length;
  if (cmd.positions.length !== n) {
    throw new Error(`${who}: command has ${cmd.positions.length} positions, expected ${n}`);
  }
  const id = `command #${cmd.sequence}`;
  const issuer = issuerOf!(cmd);
  if (issuer.released) throw new Error(`${who}: ${id} is from a SafetyLayer run that was stopped`);
  if (issuer.robot !== undefined && issuer.robot !== robot) {
    throw new Error(`${who}: ${id} is from a SafetyLayer that drives another robot`);
  }
  const last = prior && !prior.issuer.released ? prior : undefined;
  if (last && last.issuer !== issuer) {
    throw new Error(
      `${who}: ${id} is from another SafetyLayer than the one driving this robot; stop() that one first`,
    );
  }
  if (last && !(cmd.sequence > last.last.sequence)) {
    throw new Error(
      `${who}: command sequence ${cmd.sequence} is not newer than ${last.last.sequence}, the last one accepted (replayed or out of order)`,
    );
  }
  for (let i = 0; i < n; i++) {
    const d = e.dims[i];
    const v = cmd.positions[i];
    if (!(v >= d.lower && v <= d.upper)) {
      throw new Error(`${who}: ${id} puts ${d.name} at ${v}, outside [${d.lower}, ${d.upper}]`);
    }
  }
  const anchor = anchorOf!(cmd);
  let from = last?.last;
  if (!from || anchorOf!(from) !== anchor) {
    checkAnchor(robot, e, anchor, who, id);
    from = anchor;
  }
  checkContinuity(e, issuer, from, cmd, who, id);
  issuer.robot = robot;
  followed.set(robot, { embodiment: e, issuer, last: cmd });
}

// A new chain starts only where the robot is: its anchor against the state the robot reports now.
function checkAnchor(robot: Robot, e: Embodiment, anchor: SafeCommand, who: string, id: string): void {
  let state: Float64Array | undefined;
  try {
    const s = robot.observe()?.state;
    if (s !== undefined) {
      state = new Float64Array(e.dims.length);
      if (s.length !== state.length) throw new Error(`${s.length} values`);
      for (let i = 0; i < state.length; i++) state[i] = s[i]; // read once
    }
  } catch (err) {
    throw new Error(
      `${who}: ${id} starts from a new anchor, and the robot's state could not be read: ${String(err)}`,
    );
  }
  if (state === undefined) {
    throw new Error(`${who}: ${id} starts from a new anchor, and the robot has no state to check it against`);
  }
  const hz = e.controlHz;
  for (let i = 0; i < state.length; i++) {
    const d = e.dims[i];
    const at = Math.min(d.upper, Math.max(d.lower, state[i]));
    const tol = (d.maxVelocity * ANCHOR_TOLERANCE_TICKS) / hz;
    const off = Math.abs(anchor.positions[i] - at);
    if (!(off <= tol * (1 + 1e-9))) {
      throw new Error(
        `${who}: ${id} starts from ${d.name} = ${anchor.positions[i]}, but the robot reports ${state[i]} (${off} away, tolerance ${tol}); re-anchor at the measured state`,
      );
    }
  }
}

// Within the velocity limit of `from`: each layer step counts at most one tick period of motion.
function checkContinuity(
  e: Embodiment,
  issuer: CommandIssuer,
  from: SafeCommand,
  cmd: SafeCommand,
  who: string,
  id: string,
): void {
  if (from === cmd) return;
  const steps = cmd.sequence - from.sequence;
  const dtS = Math.max(0, Math.min(steps * issuer.periodMs, cmd.timestampMs - from.timestampMs)) / 1000;
  for (let i = 0; i < e.dims.length; i++) {
    const d = e.dims[i];
    const bound = d.maxVelocity * issuer.velocityScale * dtS;
    const moved = Math.abs(cmd.positions[i] - from.positions[i]);
    // Slack for rounding only: a part in 1e9 of the bound and of the range.
    if (!(moved <= bound * (1 + 1e-9) + 1e-9 * (d.upper - d.lower))) {
      throw new Error(
        `${who}: ${id} moves ${d.name} by ${moved} in ${dtS * 1000} ms since command #${from.sequence}, over the limit ${bound}`,
      );
    }
  }
}

/** @internal Used by the SafetyLayer only; deliberately not exported from the package index. */
export function mintSafeCommand(
  f: SafeCommandFields,
  issuer: CommandIssuer,
  anchor: SafeCommand | undefined,
): SafeCommand {
  return mint!(f, issuer, anchor);
}
