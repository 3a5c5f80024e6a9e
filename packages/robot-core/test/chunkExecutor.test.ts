import { describe, expect, it } from 'vitest';
import {
  ChunkExecutor,
  FakeClock,
  SafetyLayer,
  actEnsembleWeights,
  type ActionChunk,
  defineEmbodiment,
  ensemblePredictions,
} from '../src/index.js';
import { PerfectRobot, ScriptedPolicy, toyEmbodiment, whichRow } from './fakes.js';

const PERIOD = 1000 / 30;

function rig(opts: {
  latencyTicks: number;
  expectedTicks?: number;
  executeSteps?: number;
  actionTimeoutMs?: number;
}) {
  const clock = new FakeClock(0);
  const robot = new PerfectRobot(clock);
  const policy = new ScriptedPolicy(clock, opts.latencyTicks * PERIOD - 1e-6);
  const safety = new SafetyLayer(toyEmbodiment, {
    observationTimeoutMs: 100,
    actionTimeoutMs: opts.actionTimeoutMs ?? 5000,
  });
  const exec = new ChunkExecutor({
    robot,
    source: policy.source,
    safety,
    clock,
    strategy: { kind: 'chunk', executeSteps: opts.executeSteps ?? 30 },
    expectedLatencyMs: (opts.expectedTicks ?? 0) * PERIOD,
    actionsAreDelta: false,
  });
  return { clock, robot, policy, safety, exec };
}

const ticks = (clock: FakeClock, n: number) => clock.advance(n * PERIOD);

describe('ChunkExecutor (fake clock)', () => {
  it('executes the first 30 of each 50-action chunk, then asks for the next (synchronous when latency is unknown)', async () => {
    const { clock, robot, exec } = rig({ latencyTicks: 3 });
    exec.start();
    await ticks(clock, 200);
    exec.stop();
    const followed = robot.commands.filter((c) => !c.held).map(whichRow);
    // Rows 0..29 of chunk 0, then 0..29 of chunk 1, ...: each chunk restarts at row 0 because the robot
    // held (did not execute steps) while it waited for it.
    for (let i = 0; i < followed.length; i++) expect(followed[i]).toEqual([Math.floor(i / 30), i % 30]);
    expect(followed.length).toBeGreaterThan(120);
    // Between chunks it holds exactly while inference runs (3 ticks), with reason no-action.
    const holds = robot.commands.filter((c) => c.held);
    expect(holds.every((c) => c.reason === 'no-action')).toBe(true);
    const runs = robot.commands
      .map((c) => (c.held ? 'h' : 'f'))
      .join('')
      .split('f')
      .filter((r) => r.length > 0)
      .map((r) => r.length);
    expect(runs.every((n) => n === 3)).toBe(true);
  });

  it('requests the next chunk early so inference overlaps execution, and aligns it by executed steps', async () => {
    const { clock, robot, exec, policy } = rig({ latencyTicks: 5, expectedTicks: 5 });
    exec.start();
    await ticks(clock, 300);
    exec.stop();
    const cmds = robot.commands;
    const firstFollowed = cmds.findIndex((c) => !c.held);
    // After the first chunk arrives the robot never holds again.
    expect(cmds.slice(firstFollowed).every((c) => !c.held)).toBe(true);
    const rows = cmds.slice(firstFollowed).map(whichRow);
    // Chunk 0 from row 0; later chunks from row 5 (the 5 steps that ran while they were computed).
    expect(rows.slice(0, 30)).toEqual(Array.from({ length: 30 }, (_, r) => [0, r]));
    expect(rows.slice(30, 55)).toEqual(Array.from({ length: 25 }, (_, r) => [1, r + 5]));
    expect(rows.slice(55, 80)).toEqual(Array.from({ length: 25 }, (_, r) => [2, r + 5]));
    // Each request was sent with 5 steps left of the previous chunk: the observation came from the
    // state after row 24 of chunk k-1.
    expect(policy.requests[1].state[0]).toBeCloseTo(24, 4);
    expect(policy.requests[2].state[0]).toBeCloseTo(1024, 4);
  });

  it('holds through the safety layer while a chunk is late, then resumes aligned', async () => {
    const { clock, robot, exec } = rig({ latencyTicks: 20, expectedTicks: 5 });
    exec.start();
    await ticks(clock, 100);
    exec.stop();
    const cmds = robot.commands;
    const start = cmds.findIndex((c) => !c.held);
    const rows = cmds.slice(start).map((c) => (c.held ? 'hold' : whichRow(c)));
    expect(rows.slice(0, 30)).toEqual(Array.from({ length: 30 }, (_, r) => [0, r]));
    // Requested with 5 steps left, arrives 20 ticks later: 15 ticks of holding at chunk 0's last row.
    expect(rows.slice(30, 45)).toEqual(new Array(15).fill('hold'));
    const lastPose = cmds[start + 29].positions;
    for (const c of cmds.slice(start + 30, start + 45)) {
      expect(c.reason).toBe('no-action');
      expect(c.positions).toEqual(lastPose);
    }
    // Only 5 steps ran since chunk 1's observation, so it starts at row 5.
    expect(rows[45]).toEqual([1, 5]);
  });

  it('drops a plan older than the action timeout and asks again', async () => {
    const { clock, robot, exec, policy } = rig({ latencyTicks: 0, actionTimeoutMs: 10 * PERIOD });
    exec.start();
    await ticks(clock, 3);
    // The robot stops reporting (observations stale): the executor holds and rows are not consumed.
    robot.online = false;
    await ticks(clock, 15);
    robot.online = true;
    const before = policy.requests.length;
    await ticks(clock, 3);
    const reasons = robot.commands.map((c) => c.reason);
    expect(reasons).toContain('stale-observation');
    expect(reasons).toContain('stale-action');
    expect(policy.requests.length).toBeGreaterThan(before);
    exec.stop();
  });

  it('holds at once when the robot has no valid state any more', async () => {
    const { clock, robot, exec } = rig({ latencyTicks: 0 });
    exec.start();
    await ticks(clock, 5);
    expect(robot.commands[robot.commands.length - 1].held).toBe(false);
    robot.stateValid = false; // e.g. the driver rejected a state of 1e308
    await ticks(clock, 1);
    exec.stop();
    // The observation timeout is 3 ticks; the hold comes on the very next one.
    expect(robot.commands[robot.commands.length - 1].reason).toBe('stale-observation');
  });

  it('survives an e-stop and a re-anchor: a reset away from the robot is refused by it, one at its state resumes', async () => {
    const slow = defineEmbodiment({
      ...toyEmbodiment,
      robotType: 'slow',
      dims: toyEmbodiment.dims.map((d) =>
        d.kind === 'joint' ? { ...d, lower: -3, upper: 3, maxVelocity: 3 } : { ...d, maxVelocity: 1 },
      ),
    });
    const clock = new FakeClock(0);
    const robot = new PerfectRobot(clock, slow);
    const policy = new ScriptedPolicy(clock, 0, () => [2, -2, 0.5]);
    const safety = new SafetyLayer(slow, { observationTimeoutMs: 100 });
    const errors: string[] = [];
    const exec = new ChunkExecutor({
      robot,
      source: policy.source,
      safety,
      clock,
      actionsAreDelta: false,
      onError: (err) => errors.push(err.message),
    });
    exec.start();
    await ticks(clock, 5);
    expect(robot.state[0]).toBeGreaterThan(0.3); // moving toward 2 at 0.1 rad per tick
    safety.emergencyStop();
    await ticks(clock, 2);
    const stopped = [...robot.state];
    expect(robot.commands.slice(-2).map((c) => c.reason)).toEqual(['estop', 'estop']);

    safety.resetEmergencyStop([3, 3, 1], clock.now()); // not where the robot is
    await ticks(clock, 3);
    expect([...robot.state]).toEqual(stopped);
    expect(errors.length).toBe(3);
    expect(errors[0]).toMatch(/slow driver: command #\d+ starts from j1 = 3, but the robot reports/);

    safety.emergencyStop();
    safety.resetEmergencyStop(robot.observe()!.state, clock.now());
    await ticks(clock, 3);
    expect(errors.length).toBe(3);
    expect(robot.state[0]).toBeCloseTo(stopped[0] + 0.3, 9);
    exec.stop();
  });

  it('adds the request-time state to delta chunks', async () => {
    const clock = new FakeClock(0);
    const robot = new PerfectRobot(clock);
    robot.state = new Float64Array([3, -2, 0.25]);
    const policy = new ScriptedPolicy(clock, 0, (_k, r) => [0.01 * r, 0, 0.75]);
    const safety = new SafetyLayer(toyEmbodiment);
    const exec = new ChunkExecutor({ robot, source: policy.source, safety, clock });
    exec.start();
    await ticks(clock, 12);
    exec.stop();
    const followed = robot.commands.filter((c) => !c.held);
    followed.forEach((c, r) => {
      expect(c.positions[0]).toBeCloseTo(3 + 0.01 * r, 6);
      expect(c.positions[1]).toBeCloseTo(-2, 6);
      expect(c.positions[2]).toBeCloseTo(0.75, 6); // gripper absolute
    });
    expect(policy.requests[0].state.length).toBe(32);
    expect(policy.requests[0].state[0]).toBeCloseTo(3, 6);
  });

  it('takes a chunk marked absolute as given, even with actionsAreDelta on', async () => {
    // Two runs from the same state with the same numbers: one chunk marked absolute, one not.
    const run = async (absolute: boolean | undefined) => {
      const clock = new FakeClock(0);
      const robot = new PerfectRobot(clock);
      robot.state = new Float64Array([3, -2, 0.25]);
      const rows = (r: number) => [3 + 0.01 * r, -2 - 0.02 * r, 0.75];
      const source = (): Promise<ActionChunk> => {
        const actions = new Float32Array(50 * 32);
        for (let r = 0; r < 50; r++) rows(r).forEach((v, i) => (actions[r * 32 + i] = v));
        return Promise.resolve({
          actions,
          horizon: 50,
          dim: 32,
          ...(absolute !== undefined ? { absolute } : {}),
        });
      };
      const exec = new ChunkExecutor({ robot, source, safety: new SafetyLayer(toyEmbodiment), clock });
      exec.start();
      await ticks(clock, 12);
      exec.stop();
      const followed = robot.commands.filter((c) => !c.held);
      expect(followed.length).toBeGreaterThan(8);
      return { followed, rows };
    };
    const abs = await run(true);
    abs.followed.forEach((c, r) => {
      const want = abs.rows(r);
      for (let i = 0; i < 3; i++) expect(c.positions[i]).toBeCloseTo(Math.fround(want[i]), 6);
    });
    // The same numbers without the flag (or with it false) are deltas on j1, j2: the state is added.
    for (const flag of [undefined, false]) {
      const rel = await run(flag);
      rel.followed.forEach((c, r) => {
        const want = rel.rows(r);
        expect(c.positions[0]).toBeCloseTo(3 + Math.fround(want[0]), 5);
        expect(c.positions[1]).toBeCloseTo(-2 + Math.fround(want[1]), 5);
        expect(c.positions[2]).toBeCloseTo(0.75, 6); // gripper absolute either way
      });
    }
  });

  it('hands every observation it reads to onObservation once per tick, before the tick plans', async () => {
    const clock = new FakeClock(0);
    const robot = new PerfectRobot(clock);
    const seen: { t: number; state: number[]; requestsBefore: number }[] = [];
    const policy = new ScriptedPolicy(clock, 2 * PERIOD - 1e-6);
    const errors: string[] = [];
    let fail = false;
    const exec = new ChunkExecutor({
      robot,
      source: policy.source,
      safety: new SafetyLayer(toyEmbodiment),
      clock,
      actionsAreDelta: false,
      onObservation: (o) => {
        seen.push({ t: o.timestampMs, state: [...o.state], requestsBefore: policy.requests.length });
        if (fail) throw new Error('history is full');
      },
      onError: (e) => errors.push(e.message),
    });
    exec.start();
    await ticks(clock, 20);
    // One call per tick, in tick order, with the state the robot reported on that tick.
    expect(seen.length).toBe(exec.stats.ticks);
    seen.forEach((s, i) => expect(s.t).toBeCloseTo(i * PERIOD, 6));
    for (let i = 1; i < seen.length; i++) {
      // The robot reports the previous tick's command.
      expect(seen[i].state).toEqual([...robot.commands[i - 1].positions]);
    }
    // Called before the tick's request: the first tick requested, after its observation was seen.
    expect(seen[0].requestsBefore).toBe(0);
    expect(policy.requests[0].timestampMs).toBe(seen[0].t);
    // Not called when the robot has no observation.
    robot.stateValid = false;
    const n = seen.length;
    await ticks(clock, 3);
    expect(seen.length).toBe(n);
    robot.stateValid = true;
    // A throwing hook is reported and counted; the tick still commands the robot.
    fail = true;
    const errorsBefore = exec.stats.errors;
    const commandsBefore = robot.commands.length;
    await ticks(clock, 3);
    exec.stop();
    expect(errors.slice(-3)).toEqual(['history is full', 'history is full', 'history is full']);
    expect(exec.stats.errors - errorsBefore).toBe(3);
    expect(robot.commands.length - commandsBefore).toBe(3);
  });

  it('ticks at the control rate without drift', async () => {
    const { clock, exec } = rig({ latencyTicks: 1 });
    exec.start();
    await clock.advance(1001);
    exec.stop();
    expect(exec.stats.ticks).toBe(31); // t = 0, 33.3, ..., 1000
    await clock.advance(1000);
    expect(exec.stats.ticks).toBe(31);
  });

  it('reports policy failures and malformed chunks without sending anything unsafe', async () => {
    const clock = new FakeClock(0);
    const robot = new PerfectRobot(clock);
    const errors: string[] = [];
    let n = 0;
    const exec = new ChunkExecutor({
      robot,
      safety: new SafetyLayer(toyEmbodiment),
      clock,
      source: async () => {
        n++;
        if (n === 1) throw new Error('server said 1011');
        return { actions: new Float32Array(7), horizon: 50, dim: 32 };
      },
      onError: (e) => errors.push(e.message),
    });
    exec.start();
    await ticks(clock, 5);
    exec.stop();
    expect(errors[0]).toBe('server said 1011');
    expect(errors[1]).toMatch(/7 values, shape \[50, 32\]/);
    expect(robot.commands.every((c) => c.held)).toBe(true);
  });
});

describe('temporal ensembling', () => {
  it('uses ACT weights exp(-k·i), oldest first, normalised', () => {
    const w = actEnsembleWeights(4, 0.5);
    const raw = [1, Math.exp(-0.5), Math.exp(-1), Math.exp(-1.5)];
    const sum = raw.reduce((a, b) => a + b);
    raw.forEach((r, i) => expect(w[i]).toBeCloseTo(r / sum, 14));
    expect(ensemblePredictions([[1], [2], [3]], 0)[0]).toBeCloseTo(2, 14);
    expect(() => actEnsembleWeights(0)).toThrow(/count 0/);
  });

  it('averages every chunk that predicted the current step with those weights', async () => {
    const clock = new FakeClock(0);
    const robot = new PerfectRobot(clock);
    // Chunk k predicts the constant value k + 1 for j1 at every row.
    const policy = new ScriptedPolicy(clock, 2 * PERIOD - 1e-6, (k) => [k + 1, 0, 0]);
    const k = 0.5;
    const checked: number[] = [];
    const exec = new ChunkExecutor({
      robot,
      source: policy.source,
      safety: new SafetyLayer(toyEmbodiment),
      clock,
      strategy: { kind: 'ensemble', k, queryEverySteps: 1 },
      actionsAreDelta: false,
      onCommand: (c) => {
        if (c.held) return;
        const values = Array.from({ length: policy.arrived }, (_, i) => [i + 1]);
        const want = ensemblePredictions(values, k)[0];
        expect(c.positions[0]).toBeCloseTo(want, 9);
        checked.push(policy.arrived);
      },
    });
    exec.start();
    await ticks(clock, 40); // < 50 executed steps, so every chunk still covers the current step
    exec.stop();
    expect(checked.length).toBeGreaterThan(30);
    expect(Math.max(...checked)).toBeGreaterThan(10);
  });
});
