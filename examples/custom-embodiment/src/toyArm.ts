import {
  acceptSafeCommand,
  type CameraFrame,
  type Clock,
  type Embodiment,
  type Observation,
  type Robot,
  type SafeCommand,
} from '@vla/robot-core';

/**
 * A driver for an ideal position-controlled arm, in process: each accepted command becomes the state
 * at once, and every camera shows a fixed grey frame of the embodiment's size. A real driver has the
 * same shape: `observe()` returns the latest state and frames, `command()` first passes its argument
 * through `acceptSafeCommand`, then talks to the hardware.
 */
export class ToyArm implements Robot {
  /** Every command this arm accepted, in order. */
  readonly received: SafeCommand[] = [];
  #state: Float64Array;
  readonly #images: Record<string, CameraFrame>;

  /** Starts at the embodiment's home pose; `clock` stamps observations. */
  constructor(
    readonly embodiment: Embodiment,
    private readonly clock: Clock,
  ) {
    this.#state = Float64Array.from(embodiment.home);
    this.#images = Object.fromEntries(
      embodiment.cameras.map((c) => [
        c.name,
        {
          width: c.width,
          height: c.height,
          data: new Uint8Array(c.width * c.height * 3).fill(128),
          timestampMs: 0,
        },
      ]),
    );
  }

  /** The current joint state (robot units) and camera frames. */
  observe(): Observation {
    const now = this.clock.now();
    const images = Object.fromEntries(
      Object.entries(this.#images).map(([name, frame]) => [name, { ...frame, timestampMs: now }]),
    );
    return { state: this.#state.slice(), images, timestampMs: now };
  }

  /** Executes a command of the safety layer driving this arm; anything else throws before it moves. */
  command(cmd: SafeCommand): void {
    acceptSafeCommand(this, cmd);
    this.received.push(cmd);
    this.#state = Float64Array.from(cmd.positions);
  }
}
