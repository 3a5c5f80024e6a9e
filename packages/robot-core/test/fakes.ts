import {
  acceptSafeCommand,
  defineEmbodiment,
  type ActionChunk,
  type Clock,
  type Embodiment,
  type Observation,
  type ChunkRequest,
  type Robot,
  type SafeCommand,
} from '../src/index.js';

/** 2 joints + 1 gripper, fast enough that test chunks are never velocity-limited. */
export const toyEmbodiment: Embodiment = defineEmbodiment({
  robotType: 'toy',
  dims: [
    { name: 'j1', kind: 'joint', unit: 'rad', lower: -1e6, upper: 1e6, maxVelocity: 1e9, delta: true },
    { name: 'j2', kind: 'joint', unit: 'rad', lower: -1e6, upper: 1e6, maxVelocity: 1e9, delta: true },
    { name: 'g', kind: 'gripper', unit: 'm', lower: 0, upper: 1, maxVelocity: 1e6, delta: false },
  ],
  cameras: [],
  controlHz: 30,
  home: [0, 0, 0],
});

/** A robot that tracks every command perfectly and reports it as its state; it starts at home. */
export class PerfectRobot implements Robot {
  readonly commands: SafeCommand[] = [];
  state: Float64Array;
  online = true;
  /** False: the driver has no valid state (it rejected its newest one). */
  stateValid = true;
  constructor(
    private readonly clock: Clock,
    readonly embodiment: Embodiment = toyEmbodiment,
  ) {
    this.state = Float64Array.from(embodiment.home);
  }
  observe(): Observation | undefined {
    if (!this.stateValid) return undefined;
    if (!this.online) return { state: this.state.slice(), images: {}, timestampMs: -1e9 };
    return { state: this.state.slice(), images: {}, timestampMs: this.clock.now() };
  }
  command(cmd: SafeCommand): void {
    acceptSafeCommand(this, cmd);
    this.commands.push(cmd);
    this.state = Float64Array.from(cmd.positions);
  }
}

/**
 * A policy whose chunk k (0-based request order) has row r = [k * 1000 + r, -(k * 1000 + r), 0.5]
 * (absolute), answered after `latencyMs` on the fake clock.
 */
export class ScriptedPolicy {
  readonly requests: ChunkRequest[] = [];
  arrived = 0;
  constructor(
    private readonly clock: Clock,
    public latencyMs: number,
    private readonly row: (k: number, r: number) => number[] = (k, r) => [k * 1000 + r, -(k * 1000 + r), 0.5],
  ) {}
  readonly source = (request: ChunkRequest): Promise<ActionChunk> => {
    const k = this.requests.length;
    this.requests.push(request);
    return new Promise((resolve) => {
      this.clock.setTimeout(() => {
        const horizon = 50;
        const actions = new Float32Array(horizon * 32);
        for (let r = 0; r < horizon; r++) this.row(k, r).forEach((v, i) => (actions[r * 32 + i] = v));
        this.arrived++;
        resolve({ actions, horizon, dim: 32 });
      }, this.latencyMs);
    });
  };
}

/** Decode which (chunk, row) a command came from, for the default ScriptedPolicy rows. */
export function whichRow(cmd: SafeCommand): [number, number] {
  const v = Math.round(cmd.positions[0]);
  return [Math.floor(v / 1000), v % 1000];
}
