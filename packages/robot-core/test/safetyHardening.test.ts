// Issue 9, items 1–4: each case is the reproduction from the issue, asserted the way it must behave.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock, RosbridgeRobot, SafeCommand, SafetyLayer, defineEmbodiment } from '../src/index.js';
import { RosbridgeTestServer, waitUntil } from '../src/testing.js';
import { PerfectRobot, toyEmbodiment } from './fakes.js';
import { camToy, camToyRobot } from './rosToy.js';

// Genie-1's left arm joint 1 limits and velocity: 3.14 rad/s at 30 Hz is 0.105 rad per tick.
const arm = defineEmbodiment({
  robotType: 'Genie-1',
  dims: [
    {
      name: 'left_joint1',
      kind: 'joint',
      unit: 'rad',
      lower: -3.14,
      upper: 3.14,
      maxVelocity: 3.14,
      delta: true,
    },
    {
      name: 'left_gripper',
      kind: 'gripper',
      unit: 'm',
      lower: 0,
      upper: 0.1,
      maxVelocity: 0.2,
      delta: false,
    },
  ],
  cameras: [],
  controlHz: 30,
  home: [0, 0.05],
});
const PERIOD = 1000 / 30;
const upper = arm.dims.map((d) => d.upper);

/** A layer started at `pose`, observed at `now`. */
function running(pose = [0, 0.05], now = 0): SafetyLayer {
  const s = new SafetyLayer(arm);
  s.observe(pose, now);
  s.start(pose, now);
  return s;
}

/** An ArrayLike whose elements read as `first` once and as `later` on every read after that. */
function changing(first: readonly number[], later: number): ArrayLike<number> {
  const reads = first.map(() => 0);
  const out: Record<number, number> & { length: number } = { length: first.length };
  first.forEach((v, i) =>
    Object.defineProperty(out, i, { get: () => (reads[i]++ === 0 ? v : later), enumerable: true }),
  );
  return out;
}

describe('1. a failed e-stop reset never releases the e-stop', () => {
  for (const [what, measured, error] of [
    ['NaN', [Number.NaN, 0.05], /measured left_joint1 is NaN/],
    ['out of range', [3.5, 0.05], /measured left_joint1 = 3.5 is outside/],
    ['wrong length', [0], /1 values, layout has 2/],
    ['unreadable', throwing(2), /could not be read/],
  ] as const) {
    it(`measured state ${what}: throws, stays latched, keeps holding`, () => {
      const s = running();
      s.observe([0, 0.05], PERIOD);
      const before = s.step([0.05, 0.05], PERIOD);
      s.emergencyStop();
      expect(() => s.resetEmergencyStop(measured as ArrayLike<number>, 2 * PERIOD)).toThrow(error);
      expect(s.estopped).toBe(true);
      s.observe([0, 0.05], 3 * PERIOD);
      const c = s.step([1, 0.05], 3 * PERIOD);
      expect(c.reason).toBe('estop');
      expect(c.positions).toEqual(before.positions);
    });
  }

  it('a bad clock time is refused before anything changes', () => {
    const s = running();
    s.emergencyStop();
    expect(() => s.resetEmergencyStop([0, 0.05], Number.NaN)).toThrow(/time NaN/);
    expect(s.estopped).toBe(true);
  });

  it('a valid reset releases the latch and re-anchors at the measured pose', () => {
    const s = running();
    s.emergencyStop();
    s.resetEmergencyStop([0.5, 0.02], PERIOD);
    expect(s.estopped).toBe(false);
    expect(s.lastCommand!.positions).toEqual([0.5, 0.02]);
  });
});

function throwing(n: number): ArrayLike<number> {
  return new Proxy({ length: n } as ArrayLike<number>, {
    get: (t, k) => {
      if (k === 'length') return n;
      throw new Error('sensor buffer detached');
    },
  });
}

describe('2. inputs are read once: values that change between reads cannot mint NaN', () => {
  it('step: finite on the first read, NaN afterwards', () => {
    const s = running();
    s.observe([0, 0.05], PERIOD);
    const c = s.step(changing([0.05, 0.05], Number.NaN), PERIOD);
    expect(c.positions.every(Number.isFinite)).toBe(true);
    expect(c.held).toBe(false);
    expect(c.positions[0]).toBeCloseTo(0.05, 12);
    s.observe([0, 0.05], 2 * PERIOD);
    expect(s.step([0.06, 0.05], 2 * PERIOD).positions.every(Number.isFinite)).toBe(true);
  });

  it('step: a SharedArrayBuffer view rewritten between reads cannot get NaN through', () => {
    const s = running();
    const shared = new Float64Array(new SharedArrayBuffer(16));
    shared.set([0.05, 0.05]);
    // Once every element was read, the buffer turns NaN, as another thread could between check and use.
    let reads = 0;
    const racing = new Proxy(shared, {
      get(t, k) {
        const v = Reflect.get(t, k) as unknown;
        if (typeof k === 'string' && /^\d+$/.test(k) && ++reads === t.length) t.fill(Number.NaN);
        return v;
      },
    });
    s.observe([0, 0.05], PERIOD);
    expect(s.step(racing, PERIOD).positions.every(Number.isFinite)).toBe(true);
  });

  it('step: an action whose reads throw is held as invalid', () => {
    const s = running();
    s.observe([0, 0.05], PERIOD);
    const c = s.step(throwing(2), PERIOD);
    expect([c.held, c.reason]).toEqual([true, 'invalid-action']);
  });

  it('start and observe read once too', () => {
    const s = new SafetyLayer(arm);
    expect(s.observe(changing([0, 0.05], Number.NaN), 0)).toBe(true);
    s.start(changing([0.1, 0.05], Number.NaN), 0);
    expect(s.lastCommand!.positions).toEqual([0.1, 0.05]);
  });
});

describe('3. a SafeCommand proves continuity, not only limits', () => {
  it('the brand cannot be overwritten: statics are read-only and prototypes frozen', () => {
    const fake = {
      robotType: 'toy',
      positions: [0, 0, 0],
      held: false,
      reason: 'ok',
      timestampMs: 0,
      sequence: 99,
    };
    expect(() => {
      (SafeCommand as unknown as { isSafeCommand: () => boolean }).isSafeCommand = () => true;
    }).toThrow(TypeError);
    expect(() => Object.defineProperty(SafeCommand, 'isSafeCommand', { value: () => true })).toThrow(
      TypeError,
    );
    expect(Object.isFrozen(SafeCommand) && Object.isFrozen(SafeCommand.prototype)).toBe(true);
    expect(SafeCommand.isSafeCommand(fake)).toBe(false);
    const robot = new PerfectRobot(new FakeClock());
    expect(() => robot.command(fake as unknown as SafeCommand)).toThrow(/not created by a SafetyLayer/);
    expect(robot.commands).toEqual([]);
  });

  it("a SafetyLayer's private internals are not reachable: no minting through them, no unlatching", () => {
    const s = new SafetyLayer(toyEmbodiment);
    s.observe([0, 0, 0], 0);
    s.start([0, 0, 0], 0);
    const any = s as unknown as Record<string, unknown>;
    expect(any.make).toBeUndefined();
    expect(any.latched).toBeUndefined();
    expect(any.last).toBeUndefined();
    s.emergencyStop();
    any.latched = false;
    expect(s.estopped).toBe(true);
    expect(s.step([1, 1, 1], 10).reason).toBe('estop');
  });

  it('limits cannot be changed under a running layer by mutating the embodiment it was given', () => {
    const mutable = JSON.parse(JSON.stringify(arm)) as { dims: { upper: number; maxVelocity: number }[] };
    const s = new SafetyLayer(mutable as unknown as typeof arm);
    s.observe([0, 0.05], 0);
    s.start([0, 0.05], 0);
    mutable.dims[0].upper = 100;
    mutable.dims[0].maxVelocity = 1e9;
    s.observe([0, 0.05], PERIOD);
    expect(s.step([100, 0.05], PERIOD).positions[0]).toBeCloseTo(3.14 / 30, 12);
    expect(Object.isFrozen(s.embodiment.dims[0])).toBe(true);
  });

  it("a second layer's command is refused by a robot another layer drives", () => {
    const clock = new FakeClock();
    const robot = new PerfectRobot(clock);
    const a = new SafetyLayer(toyEmbodiment);
    a.observe(robot.state, 0);
    a.start(robot.state, 0);
    robot.command(a.step([0, 0, 0], 0));
    const b = new SafetyLayer(toyEmbodiment);
    b.start([1e6, 1e6, 1], 0); // upper limits, claimed as measured
    expect(() => robot.command(b.lastCommand!)).toThrow(/another SafetyLayer/);
    expect(robot.state).toEqual(new Float64Array([0, 0, 0]));
    // Once the first layer stops, a new one may take over.
    a.stop();
    b.observe(robot.state, 1);
    robot.command(b.step([0, 0, 0], 1));
    expect(robot.commands.length).toBe(2);
  });

  it("a layer's commands go to one robot only", () => {
    const clock = new FakeClock();
    const [r1, r2] = [new PerfectRobot(clock), new PerfectRobot(clock)];
    const s = new SafetyLayer(toyEmbodiment);
    s.observe([0, 0, 0], 0);
    s.start([0, 0, 0], 0);
    r1.command(s.step([0, 0, 0], 0));
    expect(() => r2.command(s.step([0, 0, 0], 0))).toThrow(/drives another robot/);
  });

  it('commands are single-use and ordered', () => {
    const clock = new FakeClock();
    const robot = new PerfectRobot(clock);
    const s = new SafetyLayer(toyEmbodiment);
    s.observe([0, 0, 0], 0);
    s.start([0, 0, 0], 0);
    const first = s.step([0, 0, 0], 0);
    const second = s.step([0, 0, 0], 0);
    robot.command(second);
    expect(() => robot.command(second)).toThrow(/sequence/);
    expect(() => robot.command(first)).toThrow(/sequence/);
    robot.command(s.step([0, 0, 0], 0));
    expect(robot.commands.map((c) => c.sequence)).toEqual([second.sequence, second.sequence + 1]);
  });

  // The 3.14 rad jumps, on an arm whose limit is 0.105 rad per tick: every one is refused by the
  // robot, which stays where it was.
  it("a fresh robot refuses a layer 'started' at the upper limits: a new chain must start where the robot is", () => {
    const robot = new PerfectRobot(new FakeClock(), arm);
    const b = new SafetyLayer(arm);
    b.observe(upper, 0);
    b.start(upper, 0);
    expect(() => robot.command(b.lastCommand!)).toThrow(
      /starts from left_joint1 = 3.14, but the robot reports 0 .*re-anchor at the measured state/,
    );
    expect(() => robot.command(b.step(upper, PERIOD))).toThrow(/starts from left_joint1 = 3.14/);
    expect(robot.commands).toEqual([]);
  });

  it('stop() hands a robot over only to a layer anchored where the robot is', () => {
    const robot = new PerfectRobot(new FakeClock(), arm);
    const a = running([...arm.home]);
    robot.command(a.step([0.1, 0.05], 0));
    a.stop();
    const b = running(upper);
    expect(() => robot.command(b.step(upper, 0))).toThrow(/starts from left_joint1 = 3.14/);
    const c = running([...robot.state]);
    c.observe(robot.state, PERIOD);
    robot.command(c.step(upper, PERIOD));
    expect(robot.state[0]).toBeCloseTo(3.14 / 30, 12); // one tick of motion, not a jump
  });

  it('a re-anchor away from the robot is refused; one at the measured state is accepted', () => {
    const robot = new PerfectRobot(new FakeClock(), arm);
    const s = running([...arm.home]);
    robot.command(s.step([0, 0.05], 0));
    s.emergencyStop();
    s.resetEmergencyStop(upper, PERIOD); // the layer cannot know it is a lie
    s.observe([0, 0.05], PERIOD);
    expect(() => robot.command(s.step(upper, PERIOD))).toThrow(/starts from left_joint1 = 3.14/);
    expect(() => robot.command(s.lastCommand!)).toThrow(/starts from left_joint1 = 3.14/);
    expect([...robot.state]).toEqual([0, 0.05]);
    s.emergencyStop();
    s.resetEmergencyStop(robot.state, 2 * PERIOD);
    s.observe(robot.state, 3 * PERIOD);
    robot.command(s.step(upper, 3 * PERIOD));
    expect(robot.state[0]).toBeCloseTo(3.14 / 30, 12);
  });

  it('the robot re-checks limits and velocity itself: a layer for a looser copy of the embodiment is refused', () => {
    const fast = defineEmbodiment({ ...arm, dims: arm.dims.map((d) => ({ ...d, maxVelocity: 100 })) });
    const wide = defineEmbodiment({ ...arm, dims: arm.dims.map((d) => ({ ...d, upper: d.upper + 1 })) });
    for (const [loose, at, error] of [
      [fast, [0, 0.05], /moves left_joint1 by 3.14 in 33.3+\d* ms since command #0, over the limit 0.10466/],
      [wide, [3.1, 0.05], /puts left_joint1 at 3.204.*, outside \[-3.14, 3.14\]/],
    ] as const) {
      const robot = new PerfectRobot(new FakeClock(), arm);
      robot.state = Float64Array.from(at);
      const s = new SafetyLayer(loose, { observationTimeoutMs: 1e9 });
      s.observe(at, 0);
      s.start(at, 0);
      expect(() => robot.command(s.step([5, 0.05], PERIOD))).toThrow(error);
      expect(robot.commands).toEqual([]);
    }
  });

  it('commands the driver never saw are fine as long as the ones it executes stay within the limit', () => {
    const robot = new PerfectRobot(new FakeClock(), arm);
    const s = running([...arm.home]);
    s.observe(arm.home, 0);
    robot.command(s.step(upper, 0));
    for (let k = 1; k <= 3; k++) {
      s.observe(arm.home, k * PERIOD);
      s.step(upper, k * PERIOD); // three ticks the driver never receives
    }
    s.observe(arm.home, 4 * PERIOD);
    robot.command(s.step(upper, 4 * PERIOD));
    expect(robot.state[0]).toBeCloseTo((4 * 3.14) / 30, 12);
  });

  it('start() is refused while running; re-anchoring needs a latched e-stop', () => {
    const s = running();
    expect(() => s.start(upper, PERIOD)).toThrow(/already started/);
    expect(() => s.resetEmergencyStop(upper, PERIOD)).toThrow(/e-stop is not latched/);
    s.observe([0, 0.05], PERIOD);
    const c = s.step(upper, PERIOD);
    expect(c.positions[0]).toBeCloseTo(3.14 / 30, 12);
    s.stop();
    expect(s.started).toBe(false);
    expect(() => s.step([0, 0.05], PERIOD)).toThrow(/before start/);
    s.start([0.2, 0.05], 2 * PERIOD); // a new run may start after stop()
    expect(s.started).toBe(true);
  });
});

describe('4. absurd observations are rejected with a named error and go stale at once', () => {
  it('observe rejects 1e308, non-numbers and far-out values and stops following', () => {
    const s = running();
    for (const [state, error] of [
      [[1e308, 0.05], /left_joint1 = 1e\+308 is outside/],
      [[0, 0.05 + 10], /left_gripper = 10.05 is outside/],
      [['0.1', 0.05], /left_joint1 is 0.1 \(string\)/],
      [[0], /1 values, layout has 2/],
      [throwing(2), /could not be read/],
    ] as const) {
      s.observe([0, 0.05], PERIOD);
      expect(s.step([0.01, 0.05], PERIOD).held).toBe(false);
      expect(s.observe(state as unknown as ArrayLike<number>, PERIOD)).toBe(false);
      expect(s.observationError?.message).toMatch(error);
      expect(s.observationFresh(PERIOD)).toBe(false);
      expect(s.step([0.01, 0.05], PERIOD).reason).toBe('stale-observation');
    }
    expect(s.observe([0, 0.05], PERIOD)).toBe(true);
    expect(s.observationError).toBeUndefined();
    expect(s.stats.rejectedObservations).toBe(5);
  });

  it('observe rejects a non-finite timestamp', () => {
    const s = running();
    expect(s.observe([0, 0.05], Number.NaN)).toBe(false);
    expect(s.observationError?.message).toMatch(/timestamp NaN/);
  });

  it('a measured state just outside the limits (sensor noise) is still an observation', () => {
    const s = running();
    expect(s.observe([3.14 + 0.05 * 6.28, -0.005], PERIOD)).toBe(true);
  });
});

describe('the rosbridge driver (against an in-process rosbridge server)', () => {
  let server: RosbridgeTestServer | undefined;
  let robot: RosbridgeRobot | undefined;
  afterEach(async () => {
    robot?.close();
    await server?.stop();
  });

  async function connectedToy(): Promise<RosbridgeRobot> {
    server = await RosbridgeTestServer.start();
    robot = camToyRobot({ url: server.url, clock: new FakeClock(0), noCamera: true });
    robot.connect();
    await waitUntil(() => server!.subscriptions().size === 1, 'subscribed');
    return robot;
  }

  it("publishes nothing for a second layer's command, a replay or a forgery", async () => {
    const r = await connectedToy();
    server!.publish('/toy/state', { data: [0, 0, 0] });
    await waitUntil(() => r.observe() !== undefined, 'state');
    const a = new SafetyLayer(camToy);
    a.observe(r.observe()!.state, 0);
    a.start(r.observe()!.state, 0);
    const cmd = a.step([0, 0, 0.5], 0);
    r.command(cmd);
    await server!.waitFor((o) => o.op === 'publish' && o.topic === '/toy/cmd');
    const b = new SafetyLayer(camToy);
    b.start([3, 3, 1], 0); // upper limits, claimed as measured
    expect(() => r.command(b.lastCommand!)).toThrow(/another SafetyLayer/);
    expect(() => r.command(cmd)).toThrow(/not newer/);
    expect(() => r.command({ ...cmd } as SafeCommand)).toThrow(/not created by a SafetyLayer/);
    expect(r.stats.commandsSent).toBe(1);
  });
});
