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

// Module-private: the only way to construct a SafeCommand. Not exported from the package index and,
// because the package bundles to one file and its `exports` map has no deep paths, not reachable from
// outside the package.
const MINT: unique symbol = Symbol('SafeCommand.mint');
const minted = new WeakSet<object>();
let mint: ((f: SafeCommandFields) => SafeCommand) | undefined;

/**
 * Joint targets that passed the {@link SafetyLayer}: inside joint and gripper limits, within the
 * velocity limit from the previous command, finite, and equal to the held pose while the e-stop is
 * latched or the watchdog trips. Drivers accept only this type.
 *
 * Nothing else can produce one: the constructor is private and also checks a module-private symbol at
 * run time, the class carries an ES private field (so no object literal type-checks as one), and every
 * genuine instance is recorded in a module-private WeakSet that {@link assertSafeCommand} consults (so
 * `Object.create(SafeCommand.prototype)` is rejected). If two copies of this package are loaded, a
 * command from one is rejected by drivers bound to the other; keep one copy.
 */
export class SafeCommand {
  readonly #brand = true;
  /** Robot type of the embodiment the safety layer guards. */
  readonly robotType: string;
  /** Target positions in robot units, the embodiment's layout. Frozen. */
  readonly positions: readonly number[];
  /** True when this is a hold of the last safe pose rather than a step toward the request. */
  readonly held: boolean;
  /** `ok`, or why the request was not followed. */
  readonly reason: HoldReason | 'ok';
  /** Safety-layer clock time when it was made (ms). */
  readonly timestampMs: number;
  /** Increases by one per command from the same safety layer. */
  readonly sequence: number;

  private constructor(token: symbol, f: SafeCommandFields) {
    if (token !== MINT) throw new Error('SafeCommand: only the SafetyLayer can create commands');
    this.robotType = f.robotType;
    this.positions = Object.freeze([...f.positions]);
    this.held = f.held;
    this.reason = f.reason;
    this.timestampMs = f.timestampMs;
    this.sequence = f.sequence;
    Object.freeze(this);
    minted.add(this);
  }

  static {
    mint = (f) => new SafeCommand(MINT, f);
  }

  /** True only for commands created by a SafetyLayer of this package copy. */
  static isSafeCommand(x: unknown): x is SafeCommand {
    return typeof x === 'object' && x !== null && minted.has(x) && (x as SafeCommand).#brand;
  }
}

/**
 * Throws unless `cmd` is a genuine {@link SafeCommand} for `robotType` with `dims` positions. Every
 * driver calls this first in `command`.
 */
export function assertSafeCommand(cmd: unknown, robotType: string, dims: number): asserts cmd is SafeCommand {
  if (!SafeCommand.isSafeCommand(cmd)) {
    throw new Error(`${robotType} driver: command rejected, it was not created by a SafetyLayer`);
  }
  if (cmd.robotType !== robotType) {
    throw new Error(`${robotType} driver: command is for robot type "${cmd.robotType}"`);
  }
  if (cmd.positions.length !== dims) {
    throw new Error(`${robotType} driver: command has ${cmd.positions.length} positions, expected ${dims}`);
  }
}

/** @internal Used by the SafetyLayer only; deliberately not exported from the package index. */
export function mintSafeCommand(f: SafeCommandFields): SafeCommand {
  return mint!(f);
}
