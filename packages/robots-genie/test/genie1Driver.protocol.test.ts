import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { FakeClock, SafetyLayer, decodeCompressedImage } from '@vla/robot-core';
import { RosbridgeTestServer, mulberry32, waitUntil } from '@vla/robot-core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { GENIE1, GENIE1_JOINT_NAMES, createGenie1Driver } from '../src/index.js';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

function image(w: number, h: number, seed: number): Uint8Array {
  const rnd = mulberry32(seed);
  return Uint8Array.from({ length: w * h * 3 }, (_, i) => Math.round(((i * 37) % 200) + rnd() * 20));
}

function rgbaOf(rgb: Uint8Array): Uint8Array {
  const out = new Uint8Array((rgb.length / 3) * 4).fill(255);
  for (let p = 0; p < rgb.length / 3; p++) out.set(rgb.subarray(3 * p, 3 * p + 3), 4 * p);
  return out;
}

/** JointState as the simulator publishes it: extra joints, shuffled order, gripper joints in rad. */
function jointState(arm: number[], gripperRad: [number, number]) {
  const entries: [string, number][] = [
    ['idx11_head_joint1', 0.1],
    ['idx01_body_joint1', 0.2],
    ...arm.map((q, i) => [GENIE1_JOINT_NAMES[GENIE1.dims[i].name], q] as [string, number]),
    [GENIE1_JOINT_NAMES.left_gripper, gripperRad[0]],
    [GENIE1_JOINT_NAMES.right_gripper, gripperRad[1]],
  ];
  entries.reverse();
  return {
    header: { stamp: { sec: 1, nanosec: 2 }, frame_id: '' },
    name: entries.map((e) => e[0]),
    position: entries.map((e) => e[1]),
    velocity: [],
    effort: [],
  };
}

let server: RosbridgeTestServer | undefined;
let close: (() => void) | undefined;
afterEach(async () => {
  close?.();
  await server?.stop();
});

describe('protocol test: in-process rosbridge server', () => {
  it('Genie-1 driver: subscribe, state by joint name, JPEG/PNG cameras, JointState commands, drop and reconnect', async () => {
    server = await RosbridgeTestServer.start();
    const clock = new FakeClock(10_000);
    const driver = createGenie1Driver({
      url: server.url,
      clock,
      backoff: { initialMs: 200, maxMs: 1600 },
      staleAfterMs: 100,
    });
    close = () => driver.close();
    driver.connect();

    // 1. Subscriptions: topic names, message types, newest-only queues.
    const sub = await server.waitFor((o) => o.op === 'subscribe' && o.topic === '/joint_states');
    expect(sub.type).toBe('sensor_msgs/JointState');
    expect(sub.queue_length).toBe(1);
    for (const t of ['/sim/head_img', '/sim/left_wrist_img', '/sim/right_wrist_img']) {
      const s = await server.waitFor((o) => o.op === 'subscribe' && o.topic === t);
      expect(s.type).toBe('sensor_msgs/CompressedImage');
    }
    expect(server.received.filter((o) => o.op === 'subscribe').length).toBe(4);

    // 2. State, matched by joint name; grippers 0.8 rad (open) → 0.1 m, 0.2 rad → 0.025 m.
    const arm = GENIE1.dims.slice(0, 14).map((d, i) => d.lower + ((d.upper - d.lower) * (i + 1)) / 16);
    server.publish('/joint_states', { header: {}, name: ['idx21_arm_l_joint1'], position: [0.5] }); // incomplete: rejected
    server.publish('/joint_states', jointState(arm, [0.8, 0.2]));
    await waitUntil(() => driver.observe() !== undefined, 'first state');
    expect(driver.stats.rejectedMessages).toBe(1);
    const obs = driver.observe()!;
    arm.forEach((q, i) => expect(obs.state[i]).toBeCloseTo(q, 12));
    expect(obs.state[14]).toBeCloseTo(0.1, 12);
    expect(obs.state[15]).toBeCloseTo(0.025, 12);
    expect(obs.timestampMs).toBe(10_000);

    // 3. Cameras: a real JPEG and a real PNG, base64 in JSON as rosbridge sends uint8[].
    const [w, h] = [32, 24];
    const headRgb = image(w, h, 1);
    const leftRgb = image(w, h, 2);
    const jpg = jpeg.encode({ width: w, height: h, data: rgbaOf(headRgb) }, 95).data;
    const png = encodePng({ width: w, height: h, data: leftRgb, channels: 3, depth: 8 });
    server.publish('/sim/head_img', { header: {}, format: 'rgb8; jpeg compressed bgr8', data: b64(jpg) });
    server.publish('/sim/left_wrist_img', { header: {}, format: 'png', data: b64(png) });
    server.publish('/sim/right_wrist_img', { header: {}, format: 'jpeg', data: b64(jpg) });
    await waitUntil(() => Object.keys(driver.observe()!.images).length === 3, 'three cameras');
    const imgs = driver.observe()!.images;
    expect([imgs.hand_left.width, imgs.hand_left.height]).toEqual([w, h]);
    expect(imgs.hand_left.data).toEqual(leftRgb); // PNG is lossless
    expect(imgs.head.data).toEqual(decodeCompressedImage({ format: 'jpeg', data: jpg }).data);
    let err = 0;
    for (let i = 0; i < headRgb.length; i++) err += Math.abs(imgs.head.data[i] - headRgb[i]);
    expect(err / headRgb.length).toBeLessThan(6);

    // 4. Commands through the safety layer: advertise then publish a 16-joint JointState.
    const safety = new SafetyLayer(GENIE1, { observationTimeoutMs: 100 });
    safety.observe(obs.state, obs.timestampMs);
    safety.start(obs.state, clock.now());
    await clock.advance(1000 / 30);
    const target = Array.from(obs.state);
    target[0] += 0.05;
    target[15] = 0.05;
    safety.observe(obs.state, obs.timestampMs);
    const cmd = safety.step(target, clock.now());
    expect(cmd.held).toBe(false);
    const before = server.received.length;
    driver.command(cmd);
    // Advertised on connect, before the first command.
    const ad = await server.waitFor((o) => o.op === 'advertise' && o.topic === '/sim/target_joint_state');
    expect(ad.type).toBe('sensor_msgs/JointState');
    expect(server.received.indexOf(ad)).toBeLessThan(before);
    const pub = await server.waitFor(
      (o) => o.op === 'publish' && o.topic === '/sim/target_joint_state',
      before,
    );
    const msg = pub.msg as {
      header: { stamp: { sec: number; nanosec: number } };
      name: string[];
      position: number[];
    };
    expect(msg.name).toEqual(GENIE1.dims.map((d) => GENIE1_JOINT_NAMES[d.name]));
    expect(msg.position.length).toBe(16);
    expect(msg.position[0]).toBeCloseTo(cmd.positions[0], 12);
    expect(msg.position[15]).toBeCloseTo(10 * cmd.positions[15], 12); // width → simulator 0..1
    expect(Number.isInteger(msg.header.stamp.sec) && Number.isInteger(msg.header.stamp.nanosec)).toBe(true);
    expect(() => driver.command({ ...cmd } as typeof cmd)).toThrow(/not created by a SafetyLayer/);

    // 5. The server goes away: the driver reports it, the state goes stale, the safety layer holds.
    await server.stop();
    await waitUntil(() => driver.connection.state === 'waiting', 'driver noticed the drop');
    expect(driver.status().connected).toBe(false);
    expect(driver.status().stale).toBe(true);
    await clock.advance(150);
    const stale = driver.observe()!;
    safety.observe(stale.state, stale.timestampMs);
    const held = safety.step(target, clock.now());
    expect(held.reason).toBe('stale-observation');
    expect(held.positions).toEqual(cmd.positions);
    driver.command(held);
    expect(driver.stats.commandsDropped).toBe(1);

    // Retries back off exponentially while it is down: 200, 400, 800, 1600, 1600 ms (fake clock).
    for (let k = 2; k <= 5; k++) {
      const delays = driver.connection.stats.delays;
      await clock.advance(delays[delays.length - 1]);
      await waitUntil(() => driver.connection.stats.delays.length === k, `failed attempt ${k}`);
    }
    expect(driver.connection.stats.delays).toEqual([200, 400, 800, 1600, 1600]);

    // 6. It comes back: the next retry connects, resubscribes, and motion resumes from fresh state.
    await server.restart();
    const mark = server.received.length;
    await clock.advance(1600);
    await waitUntil(() => driver.connection.connected, 'reconnected');
    const resub = await server.waitFor((o) => o.op === 'subscribe' && o.topic === '/joint_states', mark);
    expect(resub.type).toBe('sensor_msgs/JointState');
    await waitUntil(() => server!.subscriptions().size === 4, 'all four topics resubscribed');
    // The command topic is advertised again on the new connection.
    await server.waitFor((o) => o.op === 'advertise' && o.topic === '/sim/target_joint_state', mark);
    server.publish('/joint_states', jointState(arm, [0.8, 0.2]));
    await waitUntil(() => driver.stats.stateMessages === 2, 'new state');
    // The cameras last sent long ago: they hold the observation back and keep the driver stale...
    expect(driver.status().stale).toBe(true);
    expect(driver.observe()!.timestampMs).toBe(10_000);
    // ...until each delivers a new frame.
    server.publish('/sim/head_img', { header: {}, format: 'png', data: b64(png) });
    server.publish('/sim/left_wrist_img', { header: {}, format: 'jpeg', data: b64(jpg) });
    server.publish('/sim/right_wrist_img', { header: {}, format: 'png', data: b64(png) });
    await waitUntil(() => driver.observe()!.timestampMs === clock.now(), 'fresh state');
    expect(driver.status().stale).toBe(false);
    const fresh = driver.observe()!;
    safety.observe(fresh.state, fresh.timestampMs);
    const resumed = safety.step(target, clock.now());
    expect(resumed.held).toBe(false);
    const mark2 = server.received.length;
    driver.command(resumed);
    const again = await server.waitFor(
      (o) => o.op === 'publish' && o.topic === '/sim/target_joint_state',
      mark2,
    );
    expect((again.msg as { position: number[] }).position[0]).toBeCloseTo(resumed.positions[0], 12);
    expect(driver.connection.stats.connects).toBe(2);
    expect(driver.connection.stats.disconnects).toBe(1);
  });

  it('every topic can be renamed', async () => {
    server = await RosbridgeTestServer.start();
    const driver = createGenie1Driver({
      url: server.url,
      topics: {
        jointStates: '/g1/js',
        command: '/g1/cmd',
        head: '/g1/head',
        hand_left: '/g1/l',
        hand_right: '/g1/r',
      },
    });
    close = () => driver.close();
    driver.connect();
    await waitUntil(() => server!.subscriptions().size === 4, 'subscriptions');
    expect([...server.subscriptions().keys()].sort()).toEqual(['/g1/head', '/g1/js', '/g1/l', '/g1/r']);
  });

  it('hostile JointState (issue 9, item 4): missing, repeated or non-finite joints, mismatched arrays and absurd values are refused with named errors; the driver goes stale', async () => {
    server = await RosbridgeTestServer.start();
    const clock = new FakeClock(0);
    const driver = createGenie1Driver({ url: server.url, clock });
    close = () => driver.close();
    driver.connect();
    await waitUntil(() => server!.subscriptions().size === 4, 'subscribed');
    const arm = GENIE1.dims.slice(0, 14).map((d, i) => d.lower + (d.upper - d.lower) * ((i + 1) / 16));
    let sent = 0;
    const publish = async (msg: object) => {
      server!.publish('/joint_states', msg);
      sent++;
      await waitUntil(() => driver.stats.stateMessages + driver.stats.rejectedMessages === sent, 'state');
    };
    await publish({ ...jointState(arm, [0.4, 0.4]), header: {} });
    expect(driver.status().stale).toBe(false);
    const good = jointState(arm, [0.4, 0.4]);
    const l1 = GENIE1_JOINT_NAMES.left_joint1;
    const at = good.name.indexOf(l1);
    const withPosition = (v: unknown) => good.position.map((q, i) => (i === at ? v : q));
    const hostile: [object, RegExp][] = [
      [{ position: withPosition(1e308) }, /left_joint1 = 1e\+308 is outside \[-3\.14, 3\.14\]/],
      [{ position: withPosition(null) }, /position of "idx21_arm_l_joint1" = null is not a finite number/],
      [{ position: withPosition('0.1') }, /position of "idx21_arm_l_joint1" = "0\.1" is not a finite number/],
      [{ position: good.position.slice(1) }, /position has 17 values for 18 names/],
      [{ name: good.name.map((n) => (n === l1 ? 'other' : n)) }, /joint "idx21_arm_l_joint1" is missing/],
      [
        { name: good.name.map((n) => (n === 'idx11_head_joint1' ? l1 : n)) },
        /joint "idx21_arm_l_joint1" appears more than once/,
      ],
      [{ name: { ...good.name, length: good.name.length } }, /name is \{.*, not an array/],
      [{ position: undefined }, /position is undefined, not an array/],
    ];
    for (const [i, [patch, why]] of hostile.entries()) {
      await publish({ ...good, header: {}, ...patch });
      expect(driver.stats.rejectedMessages).toBe(i + 1);
      expect(driver.stats.lastRejection).toMatch(/^Genie-1 driver: \/joint_states: /);
      expect(driver.stats.lastRejection).toMatch(why);
      expect(driver.observe()).toBeUndefined();
      expect(driver.status().stale).toBe(true);
      await publish({ ...good, header: {} });
      expect(driver.status().stale).toBe(false);
    }
  });
});
