import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { FakeClock, SafetyLayer, decodeCompressedImage, type Embodiment } from '@vla/robot-core';
import { RosbridgeTestServer, mulberry32, waitUntil, type RosbridgeOp } from '@vla/robot-core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { ACONE, LIFT2, createAcOneDriver, createLift2Driver } from '../src/index.js';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const PERIOD = 1000 / 30;

function picture(w: number, h: number, seed: number): Uint8Array {
  const rnd = mulberry32(seed);
  return Uint8Array.from({ length: w * h * 3 }, (_, i) => Math.round(((i * 13) % 220) + rnd() * 20));
}

function rgbaOf(rgb: Uint8Array): Uint8Array {
  const out = new Uint8Array((rgb.length / 3) * 4).fill(255);
  for (let p = 0; p < rgb.length / 3; p++) out.set(rgb.subarray(3 * p, 3 * p + 3), 4 * p);
  return out;
}

/** Seven arm values inside the embodiment's limits for arm `side` (0 left, 1 right). */
function armValues(e: Embodiment, side: 0 | 1, t: number): number[] {
  return e.dims.slice(7 * side, 7 * side + 7).map((d) => d.lower + (d.upper - d.lower) * t);
}

let server: RosbridgeTestServer | undefined;
let cleanup: (() => void) | undefined;
afterEach(async () => {
  cleanup?.();
  await server?.stop();
});

const ops = (op: string, topic: string) => (o: RosbridgeOp) => o.op === op && o.topic === topic;

describe('protocol test: in-process rosbridge server', () => {
  it('ARX Lift-2 (ROS 1): JointInformation in, JointControl out, compressed cameras, drop and reconnect with backoff', async () => {
    server = await RosbridgeTestServer.start();
    const clock = new FakeClock(0);
    const driver = createLift2Driver({
      url: server.url,
      clock,
      backoff: { initialMs: 300, maxMs: 1200 },
      staleAfterMs: 100,
      mode: 5,
    });
    cleanup = () => driver.close();
    driver.connect();

    for (const t of ['/joint_information', '/joint_information2']) {
      expect((await server.waitFor(ops('subscribe', t))).type).toBe('arm_control/JointInformation');
    }
    for (const c of ['h', 'l', 'r']) {
      expect((await server.waitFor(ops('subscribe', `/camera_${c}/color/image_raw/compressed`))).type).toBe(
        'sensor_msgs/CompressedImage',
      );
    }

    // Both arms must report before there is an observation.
    const left = armValues(LIFT2, 0, 0.3);
    const right = armValues(LIFT2, 1, 0.6);
    const info = (p: number[]) => ({
      joint_pos: p,
      joint_vel: [0, 0, 0, 0, 0, 0, 0],
      joint_cur: [0, 0, 0, 0, 0, 0, 0],
      mode: 0,
    });
    server.publish('/joint_information', info(left));
    await waitUntil(() => driver.stats.stateMessages === 1, 'left arm');
    expect(driver.observe()).toBeUndefined();
    server.publish('/joint_information2', { ...info(right), joint_pos: [1, 2, 3] }); // short: rejected
    server.publish('/joint_information2', info(right));
    await waitUntil(() => driver.observe() !== undefined, 'both arms');
    expect(driver.stats.rejectedMessages).toBe(1);
    const obs = driver.observe()!;
    [...left, ...right].forEach((v, i) => expect(obs.state[i]).toBeCloseTo(v, 6));

    // A JPEG on camera_h, a PNG on camera_l.
    const [w, h] = [24, 16];
    const headRgb = picture(w, h, 1);
    const leftRgb = picture(w, h, 2);
    const jpg = jpeg.encode({ width: w, height: h, data: rgbaOf(headRgb) }, 95).data;
    const jpg2 = jpeg.encode({ width: w, height: h, data: rgbaOf(leftRgb) }, 95).data;
    server.publish('/camera_h/color/image_raw/compressed', { format: 'jpeg', data: b64(jpg) });
    server.publish('/camera_l/color/image_raw/compressed', {
      format: 'png',
      data: b64(encodePng({ width: w, height: h, data: leftRgb, channels: 3, depth: 8 })),
    });
    await waitUntil(() => Object.keys(driver.observe()!.images).length === 2, 'two cameras');
    expect(driver.observe()!.images.hand_left.data).toEqual(leftRgb);
    expect(driver.observe()!.images.head.data).toEqual(
      decodeCompressedImage({ format: 'jpeg', data: jpg }).data,
    );

    // A safe command becomes one JointControl per arm: joint_pos[7], zero vel/cur, the configured mode.
    const safety = new SafetyLayer(LIFT2, { observationTimeoutMs: 100 });
    safety.observe(obs.state, obs.timestampMs);
    safety.start(obs.state, 0);
    await clock.advance(PERIOD);
    safety.observe(obs.state, obs.timestampMs);
    const target = Array.from(obs.state).map((v, i) => v + (LIFT2.dims[i].kind === 'joint' ? 0.05 : -0.01));
    const cmd = safety.step(target, clock.now());
    const mark = server.received.length;
    driver.command(cmd);
    for (const [topic, offset] of [
      ['/joint_control', 0],
      ['/joint_control2', 7],
    ] as const) {
      // Advertised on connect (before the first command), so ROS subscribers are matched in time.
      expect((await server.waitFor(ops('advertise', topic))).type).toBe('arm_control/JointControl');
      const msg = (await server.waitFor(ops('publish', topic), mark)).msg as Record<string, unknown>;
      expect(Object.keys(msg).sort()).toEqual(['joint_cur', 'joint_pos', 'joint_vel', 'mode']);
      expect(msg.joint_pos).toEqual(cmd.positions.slice(offset, offset + 7));
      expect(msg.joint_vel).toEqual([0, 0, 0, 0, 0, 0, 0]);
      expect(msg.joint_cur).toEqual([0, 0, 0, 0, 0, 0, 0]);
      expect(msg.mode).toBe(5);
    }

    // Server gone: stale, held, commands dropped; backoff 300, 600, 1200, 1200 while it is down.
    await server.stop();
    await waitUntil(() => driver.connection.state === 'waiting', 'drop noticed');
    await clock.advance(150);
    expect(driver.status()).toMatchObject({ connected: false, stale: true });
    const old = driver.observe()!;
    safety.observe(old.state, old.timestampMs);
    const held = safety.step(target, clock.now());
    expect(held.reason).toBe('stale-observation');
    expect(held.positions).toEqual(cmd.positions);
    driver.command(held);
    expect(driver.stats.commandsDropped).toBe(1);
    for (let k = 2; k <= 4; k++) {
      const d = driver.connection.stats.delays;
      await clock.advance(d[d.length - 1]);
      await waitUntil(() => driver.connection.stats.delays.length === k, `attempt ${k} failed`);
    }
    expect(driver.connection.stats.delays).toEqual([300, 600, 1200, 1200]);

    // Back: reconnect on the next retry, resubscribe to all five topics, re-advertise, state fresh again.
    await server.restart();
    const mark2 = server.received.length;
    await clock.advance(1200);
    await waitUntil(() => server!.subscriptions().size === 5, 'resubscribed');
    expect(server.subscriptions().get('/joint_information')).toBe('arm_control/JointInformation');
    await server.waitFor(ops('advertise', '/joint_control2'), mark2);
    server.publish('/joint_information', info(left));
    server.publish('/joint_information2', info(right));
    await waitUntil(() => driver.stats.stateMessages === 4, 'new state');
    // The cameras last sent long ago: they hold the observation back and keep the driver stale...
    expect(driver.status().stale).toBe(true);
    expect(driver.observe()!.timestampMs).toBe(0);
    // ...until each delivers a new frame.
    server.publish('/camera_h/color/image_raw/compressed', { format: 'jpeg', data: b64(jpg2) });
    server.publish('/camera_l/color/image_raw/compressed', { format: 'jpeg', data: b64(jpg2) });
    await waitUntil(() => driver.observe()!.timestampMs === clock.now(), 'fresh state');
    expect(driver.status().stale).toBe(false);
  });

  it('ARX Lift-2 with raw sensor_msgs/Image cameras (rgb8, bgr8, mono8)', async () => {
    server = await RosbridgeTestServer.start();
    const driver = createLift2Driver({ url: server.url, cameraKind: 'raw' });
    cleanup = () => driver.close();
    driver.connect();
    for (const c of ['h', 'l', 'r']) {
      expect((await server.waitFor(ops('subscribe', `/camera_${c}/color/image_raw`))).type).toBe(
        'sensor_msgs/Image',
      );
    }
    server.publish('/joint_information', { joint_pos: armValues(LIFT2, 0, 0.5) });
    server.publish('/joint_information2', { joint_pos: armValues(LIFT2, 1, 0.5) });
    const [w, h] = [6, 4];
    const rgb = picture(w, h, 9);
    const bgr = rgb.slice();
    for (let i = 0; i < bgr.length; i += 3) [bgr[i], bgr[i + 2]] = [rgb[i + 2], rgb[i]];
    const mono = Uint8Array.from({ length: w * h }, (_, i) => i * 9);
    const raw = (encoding: string, step: number, data: Uint8Array) => ({
      header: {},
      height: h,
      width: w,
      encoding,
      is_bigendian: 0,
      step,
      data: b64(data),
    });
    server.publish('/camera_h/color/image_raw', raw('rgb8', 3 * w, rgb));
    server.publish('/camera_l/color/image_raw', raw('bgr8', 3 * w, bgr));
    server.publish('/camera_r/color/image_raw', raw('mono8', w, mono));
    await waitUntil(
      () => driver.observe() !== undefined && Object.keys(driver.observe()!.images).length === 3,
      'cameras',
    );
    const imgs = driver.observe()!.images;
    expect(imgs.head.data).toEqual(rgb);
    expect(imgs.hand_left.data).toEqual(rgb);
    expect(Array.from(imgs.hand_right.data.subarray(0, 6))).toEqual([0, 0, 0, 9, 9, 9]);
  });

  it('ARX AC One (ROS 2): RobotStatus in and out, drop and reconnect', async () => {
    server = await RosbridgeTestServer.start();
    const clock = new FakeClock(0);
    const driver = createAcOneDriver({
      url: server.url,
      clock,
      backoff: { initialMs: 250 },
      staleAfterMs: 100,
    });
    cleanup = () => driver.close();
    driver.connect();
    for (const t of ['/arm_slave_l_status', '/arm_slave_r_status']) {
      expect((await server.waitFor(ops('subscribe', t))).type).toBe('arx5_arm_msg/RobotStatus');
    }
    for (const c of ['h', 'l', 'r']) {
      expect(
        (await server.waitFor(ops('subscribe', `/camera/camera_${c}/color/image_rect_raw/compressed`))).type,
      ).toBe('sensor_msgs/CompressedImage');
    }
    const status = (p: number[]) => ({
      header: { stamp: { sec: 5, nanosec: 6 }, frame_id: 'POSITION_CONTROL' },
      end_pos: [0.1, 0.2, 0.3, 0, 0, 0],
      joint_pos: p,
      joint_vel: [0, 0, 0, 0, 0, 0, 0],
      joint_cur: [0, 0, 0, 0, 0, 0, 0],
    });
    const left = armValues(ACONE, 0, 0.25);
    const right = armValues(ACONE, 1, 0.75);
    server.publish('/arm_slave_l_status', status(left));
    server.publish('/arm_slave_r_status', status(right));
    await waitUntil(() => driver.observe() !== undefined, 'state');
    const obs = driver.observe()!;
    [...left, ...right].forEach((v, i) => expect(obs.state[i]).toBeCloseTo(v, 9));

    const safety = new SafetyLayer(ACONE, { observationTimeoutMs: 100 });
    safety.observe(obs.state, obs.timestampMs);
    safety.start(obs.state, 0);
    await clock.advance(PERIOD);
    safety.observe(obs.state, obs.timestampMs);
    const cmd = safety.step(
      obs.state.map((v) => v + 0.01),
      clock.now(),
    );
    const mark = server.received.length;
    driver.command(cmd);
    for (const [topic, offset] of [
      ['/arm_master_l_status', 0],
      ['/arm_master_r_status', 7],
    ] as const) {
      expect((await server.waitFor(ops('advertise', topic))).type).toBe('arx5_arm_msg/RobotStatus');
      const msg = (await server.waitFor(ops('publish', topic), mark)).msg as Record<string, unknown>;
      expect(Object.keys(msg).sort()).toEqual(['end_pos', 'header', 'joint_cur', 'joint_pos', 'joint_vel']);
      expect((msg.end_pos as number[]).length).toBe(6);
      expect(msg.joint_pos).toEqual(cmd.positions.slice(offset, offset + 7));
      expect(Object.keys((msg.header as { stamp: object }).stamp).sort()).toEqual(['nanosec', 'sec']);
    }

    // The bridge drops the socket (server stays up): stale and held, then back after one backoff.
    server.dropClients();
    await waitUntil(() => driver.connection.state === 'waiting', 'drop noticed');
    await clock.advance(120);
    expect(driver.status().stale).toBe(true);
    const old = driver.observe()!;
    safety.observe(old.state, old.timestampMs);
    expect(safety.step(obs.state, clock.now()).reason).toBe('stale-observation');
    const mark2 = server.received.length;
    await clock.advance(250);
    await waitUntil(() => driver.connection.connected, 'reconnected');
    await server.waitFor(ops('subscribe', '/arm_slave_r_status'), mark2);
    await waitUntil(() => server!.subscriptions().size === 5, 'resubscribed');
    expect(driver.connection.stats.delays).toEqual([250]);
    server.publish('/arm_slave_l_status', status(left));
    server.publish('/arm_slave_r_status', status(right));
    await waitUntil(() => driver.observe()!.timestampMs === clock.now(), 'fresh state');
    const fresh = driver.observe()!;
    safety.observe(fresh.state, fresh.timestampMs);
    expect(
      safety.step(
        obs.state.map((v) => v + 0.02),
        clock.now(),
      ).held,
    ).toBe(false);
  });

  it('hostile feedback (issue 9, item 4): 1e308, joint_pos as an object, wrong lengths and strings are refused with named errors and the driver goes stale; a raw frame without step is refused and its camera goes stale', async () => {
    server = await RosbridgeTestServer.start();
    const clock = new FakeClock(0);
    const driver = createLift2Driver({ url: server.url, clock, cameraKind: 'raw' });
    cleanup = () => driver.close();
    driver.connect();
    await waitUntil(() => server!.subscriptions().size === 5, 'subscribed');
    const left = armValues(LIFT2, 0, 0.4);
    const right = armValues(LIFT2, 1, 0.4);
    let sent = 0;
    const publish = async (topic: string, msg: object) => {
      server!.publish(topic, msg);
      sent++;
      await waitUntil(
        () =>
          driver.stats.stateMessages + driver.stats.rejectedMessages + driver.stats.cameraMessages === sent,
        topic,
      );
    };
    await publish('/joint_information', { joint_pos: left });
    await publish('/joint_information2', { joint_pos: right });
    expect(driver.status().stale).toBe(false);

    const j1 = LIFT2.dims[0];
    const beyond = j1.upper + 1.01 * (j1.upper - j1.lower);
    const hostile: [unknown, RegExp][] = [
      [[1e308, ...left.slice(1)], /left_joint1 = 1e\+308 is outside \[-2\.094, 3\.1416\]/],
      [[beyond, ...left.slice(1)], /left_joint1 = [\d.]+ is outside/],
      [{ ...left, length: 7 }, /joint_pos is an object, not an array of 7 numbers/],
      [[...left, 0], /joint_pos has 8 values, expected 7/],
      [
        [left[0], left[1], String(left[2]), ...left.slice(3)],
        /joint_pos\[2\] = "[\d.]+" is not a finite number/,
      ],
      [[null, ...left.slice(1)], /joint_pos\[0\] = null is not a finite number/],
    ];
    for (const [i, [jointPos, why]] of hostile.entries()) {
      await publish('/joint_information', { joint_pos: jointPos });
      expect(driver.stats.rejectedMessages).toBe(i + 1);
      expect(driver.stats.lastRejection).toMatch(/^ARX Lift-2 driver: \/joint_information: /);
      expect(driver.stats.lastRejection).toMatch(why);
      expect(driver.observe()).toBeUndefined();
      expect(driver.status().stale).toBe(true);
      await publish('/joint_information', { joint_pos: left });
      expect(driver.status().stale).toBe(false);
      expect(Array.from(driver.observe()!.state.subarray(0, 7))).toEqual(left);
    }

    // A raw frame without step used to decode to an all-black image.
    const [w, h] = [8, 6];
    const rgb = picture(w, h, 3);
    const raw = {
      header: {},
      height: h,
      width: w,
      encoding: 'rgb8',
      is_bigendian: 0,
      step: 3 * w,
      data: b64(rgb),
    };
    await publish('/camera_h/color/image_raw', raw);
    expect(driver.observe()!.images.head.data).toEqual(rgb);
    await publish('/camera_h/color/image_raw', { ...raw, step: undefined, data: b64(picture(w, h, 4)) });
    expect(driver.stats.rejectedFrames).toBe(1);
    expect(driver.stats.lastRejection).toBe(
      'camera "head" (/camera_h/color/image_raw): Image (rgb8): step undefined is not an integer',
    );
    expect(driver.status().stale).toBe(true);
    expect(driver.observe()!.images.head.data).toEqual(rgb);
  });

  it('the range tolerance for measured values is configurable', async () => {
    server = await RosbridgeTestServer.start();
    const driver = createAcOneDriver({ url: server.url, stateRangeTolerance: 0.1 });
    cleanup = () => driver.close();
    driver.connect();
    await waitUntil(() => server!.subscriptions().size === 5, 'subscribed');
    const g = ACONE.dims[6];
    const left = armValues(ACONE, 0, 0.5);
    left[6] = g.upper + 0.2 * (g.upper - g.lower); // a default driver would take this
    server.publish('/arm_slave_l_status', { joint_pos: left });
    await waitUntil(() => driver.stats.rejectedMessages === 1, 'refused');
    expect(driver.stats.lastRejection).toMatch(
      /left_gripper = [\d.]+ is outside \[0, 1\] by more than 10% of the range/,
    );
  });
});
