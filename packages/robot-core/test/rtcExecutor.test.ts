import { describe, expect, it } from 'vitest';
import {
  ChunkExecutor,
  FakeClock,
  SafetyLayer,
  defineEmbodiment,
  robotToDataset,
  type ActionChunk,
  type ChunkRequest,
  type Clock,
  type Embodiment,
  type ExecutionStrategy,
} from '../src/index.js';
import { PerfectRobot } from './fakes.js';
import { mulberry32 } from '../src/testing.js';

const rng = mulberry32;

// Two joints and a gripper stored flipped in the dataset (robot metres 0..0.08 ↔ dataset 1..0), so the
// committed rows must go through the robot → dataset conversion.
const arm: Embodiment = defineEmbodiment({
  robotType: 'rtc-toy',
  dims: [
    { name: 'j1', kind: 'joint', unit: 'rad', lower: -10, upper: 10, maxVelocity: 1e9, delta: true },
    { name: 'j2', kind: 'joint', unit: 'rad', lower: -10, upper: 10, maxVelocity: 1e9, delta: true },
    {
      name: 'g',
      kind: 'gripper',
      unit: 'm',
      lower: 0,
      upper: 0.08,
      maxVelocity: 1e9,
      delta: false,
      dataset: { atLower: 1, atUpper: 0, description: '0 = open, 1 = closed' },
    },
  ],
  cameras: [],
  controlHz: 30,
  home: [0, 0, 0.04],
});
const PERIOD = 1000 / 30;
const H = 50;

/** A policy answering seeded random absolute chunks (dataset units) after `latencyTicks` ticks. */
class RandomPolicy {
  readonly requests: { request: ChunkRequest; commandIndex: number; chunk: Float32Array }[] = [];
  constructor(
    private readonly clock: Clock,
    private readonly robot: PerfectRobot,
    public latencyTicks: number,
    private readonly seed: number,
  ) {}
  readonly source = (request: ChunkRequest): Promise<ActionChunk> => {
    const r = rng(this.seed + this.requests.length);
    const actions = new Float32Array(H * 32);
    for (let h = 0; h < H; h++) {
      actions[h * 32] = r() * 4 - 2;
      actions[h * 32 + 1] = r() * 4 - 2;
      actions[h * 32 + 2] = r();
    }
    // The command of the requesting tick is sent after the request: it is commands[commandIndex].
    this.requests.push({ request, commandIndex: this.robot.commands.length, chunk: actions });
    return new Promise((resolve) =>
      this.clock.setTimeout(
        () => resolve({ actions, horizon: H, dim: 32, absolute: true }),
        this.latencyTicks * PERIOD - 1e-6,
      ),
    );
  };
}

function rig(latencyTicks: number, expectedTicks: number, strategy: ExecutionStrategy, seed: number) {
  const clock = new FakeClock(0);
  const robot = new PerfectRobot(clock, arm);
  const policy = new RandomPolicy(clock, robot, latencyTicks, seed);
  const safety = new SafetyLayer(arm, { observationTimeoutMs: 100, actionTimeoutMs: 5000 });
  const exec = new ChunkExecutor({
    robot,
    source: policy.source,
    safety,
    clock,
    strategy,
    expectedLatencyMs: expectedTicks * PERIOD,
  });
  return { clock, robot, policy, exec };
}

/** A robot command as the dataset row it came from (f32, as a chunk stores it). */
const asDataset = (positions: ArrayLike<number>) => Float32Array.from(robotToDataset(arm, positions));

describe('ChunkExecutor rtc strategy', () => {
  it('commits exactly the plan rows the robot then executes; the new chunk starts after them', async () => {
    const { clock, robot, policy, exec } = rig(4, 4, { kind: 'rtc', executeSteps: 17 }, 31);
    exec.start();
    await clock.advance(120 * PERIOD);
    exec.stop();
    const reqs = policy.requests;
    expect(reqs.length).toBeGreaterThan(4);
    expect(reqs[0].request.committed).toBeUndefined();
    for (let k = 1; k < reqs.length - 1; k++) {
      const { request, commandIndex } = reqs[k];
      const c = request.committed!;
      expect(c.dim).toBe(32);
      expect(c.delaySteps).toBe(4);
      // Requested with 4 of 17 steps left of chunk k−1: rows 13..49 of it remain.
      expect(c.horizon).toBe(H - 13);
      expect(c.actions.length).toBe(c.horizon * 32);
      // Every committed row is the previous chunk's row (as the executor converted it back and forth).
      for (let i = 0; i < c.horizon; i++) {
        const prev = reqs[k - 1].chunk.subarray((13 + i) * 32, (13 + i) * 32 + 3);
        expect(Array.from(c.actions.subarray(i * 32, i * 32 + 3))).toEqual(
          Array.from(asDataset(robotRow(prev))),
        );
        for (let j = 0; j < 3; j++) expect(Math.abs(c.actions[i * 32 + j] - prev[j])).toBeLessThan(1e-6);
        expect(c.actions.subarray(i * 32 + 3, (i + 1) * 32).every((v) => v === 0)).toBe(true);
      }
      // The d committed rows are exactly what the robot executes from the requesting tick on ...
      const cmds = robot.commands.slice(commandIndex, commandIndex + c.delaySteps + 3);
      expect(cmds.every((x) => !x.held)).toBe(true);
      for (let i = 0; i < c.delaySteps; i++)
        expect(Array.from(asDataset(cmds[i].positions))).toEqual(
          Array.from(c.actions.subarray(i * 32, i * 32 + 3)),
        );
      // ... and then the new chunk k takes over at its row d.
      for (let i = c.delaySteps; i < cmds.length; i++) {
        const row = reqs[k].chunk.subarray(i * 32, i * 32 + 3);
        expect(Array.from(cmds[i].positions)).toEqual(Array.from(robotRow(row)));
      }
    }
  });

  it('requests earlier once a chunk took longer than expected (measured latency → delaySteps)', async () => {
    const { clock, robot, policy, exec } = rig(6, 2, { kind: 'rtc' }, 77);
    exec.start();
    await clock.advance(150 * PERIOD);
    exec.stop();
    const ds = policy.requests.slice(1).map((r) => r.request.committed?.delaySteps);
    // Every later request is made after chunk 0 arrived, 6 ticks after it was asked for: the measured
    // latency (6 ticks) wins over the expected one (2).
    expect(ds.length).toBeGreaterThan(3);
    expect(ds.every((d) => d === 6)).toBe(true);
    // With d = 6 no tick holds once the first chunk started.
    const start = policy.requests[1].commandIndex;
    expect(robot.commands.slice(start).every((c) => !c.held)).toBe(true);
  });

  it('the chunk strategy sends no committed actions', async () => {
    const { clock, policy, exec } = rig(3, 3, { kind: 'chunk', executeSteps: 10 }, 5);
    exec.start();
    await clock.advance(60 * PERIOD);
    exec.stop();
    expect(policy.requests.length).toBeGreaterThan(3);
    expect(policy.requests.every((r) => r.request.committed === undefined)).toBe(true);
  });
});

/** Dataset row → robot units (the executor's conversion of an absolute chunk row). */
function robotRow(row: ArrayLike<number>): Float64Array {
  const lo = arm.dims[2];
  const g = lo.lower + ((row[2] - 1) / (0 - 1)) * (lo.upper - lo.lower);
  return Float64Array.from([row[0], row[1], g]);
}
