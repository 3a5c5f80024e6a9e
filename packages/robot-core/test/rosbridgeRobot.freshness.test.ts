// Issue 9, item 6: staleness follows message time and content, not arrival alone. Real WebSocket server
// on 127.0.0.1; time moves only on a FakeClock.
import { encode as encodePng } from 'fast-png';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock, SafetyLayer, type RosbridgeRobot } from '../src/index.js';
import { RosbridgeTestServer, mulberry32, waitUntil } from '../src/testing.js';
import { camToy, camToyRobot, stampAt } from './rosToy.js';

let server: RosbridgeTestServer | undefined;
let robot: RosbridgeRobot | undefined;
afterEach(async () => {
  robot?.close();
  robot = undefined;
  await server?.stop();
  server = undefined;
});

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const TICK = 1000 / 30;

async function started(options: Omit<Parameters<typeof camToyRobot>[0], 'url' | 'clock'>, clock: FakeClock) {
  server = await RosbridgeTestServer.start();
  const r = (robot = camToyRobot({ url: server.url, clock, ...options }));
  r.connect();
  const topics = (options.split ? 2 : 1) + (options.noCamera ? 0 : 1);
  await waitUntil(() => server!.subscriptions().size === topics, 'subscribed');
  return r;
}

/** Publish on `topic` and wait until the driver has counted it somewhere. */
async function send(r: RosbridgeRobot, topic: string, msg: object): Promise<void> {
  const total = () => {
    const s = r.stats;
    return s.stateMessages + s.rejectedMessages + (s.staleMessages ?? 0) + s.cameraMessages;
  };
  const before = total();
  server!.publish(topic, msg);
  await waitUntil(() => total() > before, `message on ${topic}`);
}

describe('RosbridgeRobot freshness follows message time and content', () => {
  it('a replayed or frozen header.stamp refreshes nothing: the observation ages, status goes stale and the safety layer holds; an advancing stamp brings it back', async () => {
    const clock = new FakeClock(0);
    const r = await started({ noCamera: true, staleAfterMs: 100 }, clock);
    const rnd = mulberry32(6);
    await send(r, '/toy/state', { header: stampAt(50_000), data: [0.1, 0.2, 0.3] });
    await clock.advance(TICK);
    await send(r, '/toy/state', { header: stampAt(50_033), data: [0.4, 0.5, 0.6] });
    expect(r.observe()!.timestampMs).toBe(TICK);
    const safety = new SafetyLayer(camToy, { observationTimeoutMs: 100 });
    safety.observe(r.observe()!.state, r.observe()!.timestampMs);
    safety.start(r.observe()!.state, clock.now());

    // Twelve ticks of replays: an old stamp or the newest one again, with new-looking values.
    const sent = [50_000, 50_033];
    for (let i = 0; i < 12; i++) {
      await clock.advance(TICK);
      const stamp = sent[Math.floor(rnd() * sent.length)] - (rnd() < 0.3 ? Math.floor(1000 * rnd()) : 0);
      await send(r, '/toy/state', { header: stampAt(stamp), data: [rnd(), rnd(), rnd()] });
      const obs = r.observe()!;
      expect(obs.timestampMs).toBe(TICK);
      expect(Array.from(obs.state)).toEqual([0.4, 0.5, 0.6]);
      expect(r.status().stale).toBe(clock.now() - TICK > 100);
      safety.observe(obs.state, obs.timestampMs);
    }
    expect(r.stats.staleMessages).toBe(12);
    expect(r.stats.lastRejection).toMatch(
      /^\/toy\/state: header\.stamp \d+ ms does not advance past 50033 ms$/,
    );
    expect(r.status().stale).toBe(true);
    expect(safety.step([0.5, 0.5, 0.5], clock.now()).reason).toBe('stale-observation');

    await send(r, '/toy/state', { header: stampAt(50_500), data: [0.7, 0.8, 0.9] });
    expect(r.observe()!.timestampMs).toBe(clock.now());
    expect(Array.from(r.observe()!.state)).toEqual([0.7, 0.8, 0.9]);
    expect(r.status().stale).toBe(false);
  });

  it('a feed lagging the newest stamp of another counts as that much older, and is dropped beyond maxStampLagMs', async () => {
    const clock = new FakeClock(0);
    const r = await started({ split: true, noCamera: true, staleAfterMs: 200, maxStampLagMs: 300 }, clock);
    const at = async (t: number, arm: number, grip: number) => {
      await clock.advance(t - clock.now());
      await send(r, '/toy/arm', { header: stampAt(arm), data: [t / 1000, 0] });
      await send(r, '/toy/grip', { header: stampAt(grip), data: [0.5] });
    };
    await at(0, 5000, 4900);
    expect(r.observe()!.timestampMs).toBe(-100);
    await at(100, 5100, 4950);
    expect(r.observe()!.timestampMs).toBe(100 - 150);
    await at(200, 5200, 4960);
    expect(r.observe()!.timestampMs).toBe(200 - 240);
    expect(r.status().stale).toBe(true); // 240 ms old by message time
    await at(300, 5300, 4990); // 310 ms behind: dropped
    expect(r.stats.staleMessages).toBe(1);
    expect(r.stats.lastRejection).toMatch(
      /\/toy\/grip: header\.stamp 4990 ms lags the newest 5300 ms by more than 300 ms/,
    );
    expect(r.observe()!.timestampMs).toBe(-40);
    await at(400, 5400, 5390);
    expect(r.observe()!.timestampMs).toBe(390);
    expect(r.status().stale).toBe(false);
  });

  it('messages without a header keep arrival time; followStamps: false ignores stamps; a stamped feed cannot drop its header', async () => {
    const clock = new FakeClock(0);
    let r = await started({ noCamera: true }, clock);
    for (let t = 0; t < 3; t++) {
      await clock.advance(TICK);
      await send(r, '/toy/state', { data: [0, 0, 0] });
      expect(r.observe()!.timestampMs).toBe(clock.now());
    }
    await send(r, '/toy/state', { header: stampAt(9000), data: [0, 0, 0] });
    await send(r, '/toy/state', { data: [1, 1, 1] });
    expect(r.observe()).toBeUndefined();
    expect(r.stateError?.message).toMatch(/\/toy\/state: .*header\.stamp missing on a feed that sent stamps/);
    await send(r, '/toy/state', { header: { stamp: { sec: 'x', nanosec: 0 } }, data: [1, 1, 1] });
    expect(r.stats.lastRejection).toMatch(/header\.stamp \{"sec":"x","nanosec":0\} is not a time/);
    r.close();
    await server!.stop();

    r = await started({ noCamera: true, followStamps: false }, clock);
    await send(r, '/toy/state', { header: stampAt(9000), data: [0, 0, 0] });
    await clock.advance(TICK);
    await send(r, '/toy/state', { header: stampAt(9000), data: [0.5, 0, 0] });
    expect(r.observe()!.timestampMs).toBe(clock.now());
    expect(r.observe()!.state[0]).toBe(0.5);
  });

  it('a reconnect starts a new timeline (a restarted simulator may count from zero again)', async () => {
    const clock = new FakeClock(0);
    const r = await started({ noCamera: true, backoff: { initialMs: 10 } }, clock);
    await send(r, '/toy/state', { header: stampAt(90_000), data: [0, 0, 0] });
    server!.dropClients();
    await waitUntil(() => r.connection.state === 'waiting', 'drop');
    await clock.advance(10);
    await waitUntil(() => server!.subscriptions().size === 1, 'resubscribed');
    await send(r, '/toy/state', { header: stampAt(1_000), data: [0.25, 0, 0] });
    expect(r.observe()!.state[0]).toBe(0.25);
    expect(r.observe()!.timestampMs).toBe(clock.now());
  });

  it('a camera repeating the same bytes (or a replayed stamp) goes stale after cameraStaleAfterMs: status is stale, the observation stops advancing and the safety layer holds; new bytes bring it back', async () => {
    const clock = new FakeClock(0);
    const r = await started({ staleAfterMs: 100, cameraStaleAfterMs: 300 }, clock);
    const rnd = mulberry32(11);
    const frame = () => {
      const rgb = Uint8Array.from({ length: 64 * 48 * 3 }, () => Math.floor(rnd() * 256));
      return { rgb, png: encodePng({ width: 64, height: 48, data: rgb, channels: 3, depth: 8 }) };
    };
    const f1 = frame();
    await send(r, '/toy/state', { data: [0, 0, 0] });
    await send(r, '/toy/cam', { header: stampAt(1000), format: 'png', data: b64(f1.png) });
    const safety = new SafetyLayer(camToy, { observationTimeoutMs: 100 });
    safety.observe(r.observe()!.state, r.observe()!.timestampMs);
    safety.start(r.observe()!.state, 0);

    // The same bytes every tick, with advancing stamps: the camera goes stale after 300 ms.
    for (let i = 1; i <= 15; i++) {
      await clock.advance(TICK);
      await send(r, '/toy/state', { data: [0, 0, 0] });
      await send(r, '/toy/cam', { header: stampAt(1000 + i * TICK), format: 'png', data: b64(f1.png) });
      const obs = r.observe()!;
      const frozen = clock.now() > 300;
      expect(r.status().stale).toBe(frozen);
      expect(obs.timestampMs).toBe(frozen ? 0 : clock.now());
      expect(obs.images.head.timestampMs).toBe(0);
      safety.observe(obs.state, obs.timestampMs);
    }
    expect(r.stats.repeatedFrames).toBe(15);
    expect(safety.step([0, 0, 0.5], clock.now()).reason).toBe('stale-observation');

    // New bytes under a replayed stamp change nothing either.
    const f2 = frame();
    await send(r, '/toy/cam', { header: stampAt(1000), format: 'png', data: b64(f2.png) });
    expect(r.stats.repeatedFrames).toBe(16);
    expect(r.stats.lastRejection).toMatch(
      /^camera "head" \(\/toy\/cam\): header\.stamp 1000 ms does not advance/,
    );
    expect(Buffer.from(r.observe()!.images.head.data).equals(Buffer.from(f1.rgb))).toBe(true);

    // New bytes, new stamp: fresh again, and the new picture.
    await send(r, '/toy/cam', { header: stampAt(2000), format: 'png', data: b64(f2.png) });
    expect(r.status().stale).toBe(false);
    expect(r.observe()!.timestampMs).toBe(clock.now());
    expect(Buffer.from(r.observe()!.images.head.data).equals(Buffer.from(f2.rgb))).toBe(true);

    // A camera that falls silent goes stale the same way.
    const quiet = clock.now();
    await clock.advance(301);
    await send(r, '/toy/state', { data: [0, 0, 0] });
    expect(r.status().stale).toBe(true);
    expect(r.observe()!.timestampMs).toBe(quiet);
  });
});
