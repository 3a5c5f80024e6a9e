import type { Embodiment } from './embodiment.js';
import type { SafeCommand } from './safeCommand.js';

/** One camera image: RGB8, row-major HWC, `width * height * 3` bytes. */
export interface CameraFrame {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** RGB bytes, HWC. Drivers may decode lazily on first access. */
  readonly data: Uint8Array;
  /** When the frame arrived, on the driver's clock (ms). */
  readonly timestampMs: number;
}

/** A snapshot of the robot: joint state in robot units (the embodiment's layout) and camera frames. */
export interface Observation {
  /** Joint state in robot units, one value per embodiment dim. */
  readonly state: Float64Array;
  /** Latest frame per camera name. */
  readonly images: Readonly<Record<string, CameraFrame>>;
  /** Age marker of the state on the driver's clock (ms): the oldest part of it when it is assembled from several feeds. */
  readonly timestampMs: number;
}

/** Connection and freshness as a driver sees them. */
export interface RobotStatus {
  /** The transport is up (always true for in-process robots). */
  readonly connected: boolean;
  /** No complete state yet, or the newest complete state is older than the driver's stale limit. */
  readonly stale: boolean;
  /** Age of the state in ms, or Infinity before the first one. */
  readonly stateAgeMs: number;
}

/**
 * A robot driver, real or simulated. `observe` returns the latest snapshot without blocking (drivers
 * cache what their feeds deliver). `command` accepts only a {@link SafeCommand}, which only the
 * {@link SafetyLayer} can create, so no action reaches a driver without passing the safety checks.
 * A robot never knows which policy drives it.
 */
export interface Robot {
  /** The embodiment this driver speaks. */
  readonly embodiment: Embodiment;
  /** Latest snapshot, or undefined while there is no valid state (before the first, or after the driver rejected its newest one). */
  observe(): Observation | undefined;
  /**
   * Send joint targets. Implementations must first pass the argument through {@link acceptSafeCommand}
   * (with themselves as the robot), which refuses anything but the next command of the layer driving
   * them.
   */
  command(cmd: SafeCommand): void;
  /** Transport and freshness; optional for in-process robots. */
  status?(): RobotStatus;
}
