// Issue 9, items 4 and 7 (driver side): frames are checked against per-camera caps from their headers on
// arrival; a refused frame is named and counted, and the camera goes stale. Real WebSocket server on
// 127.0.0.1; time moves only on a FakeClock.
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock, type RosbridgeRobot } from '../src/index.js';
import { RosbridgeTestServer, mulberry32, waitUntil } from '../src/testing.js';
import { craftPng, relabelJpeg } from './imageCraft.js';
import { camToyRobot } from './rosToy.js';

let server: RosbridgeTestServer | undefined;
let robot: RosbridgeRobot | undefined;
afterEach(async () => {
  robot?.close();
  robot = undefined;
  await server?.stop();
  server = undefined;
});

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

async function started(options: Omit<Parameters<typeof camToyRobot>[0], 'url' | 'clock'>, clock: FakeClock) {
  server = await RosbridgeTestServer.start();
  const r = (robot = camToyRobot({ url: server.url, clock, ...options }));
  r.connect();
  await waitUntil(() => server!.subscriptions().size === 2, 'subscribed');
  return r;
}

async function send(r: RosbridgeRobot, topic: string, msg: object): Promise<void> {
  const total = () => r.stats.stateMessages + r.stats.cameraMessages;
  const before = total();
  server!.publish(topic, msg);
  await waitUntil(() => total() > before, `message on ${topic}`);
}

function picture(w: number, h: number, rnd: () => number): Uint8Array {
  return Uint8Array.from({ length: w * h * 3 }, () => Math.floor(rnd() * 256));
}

describe('RosbridgeRobot camera caps (the embodiment says head is 64x48; the default margin makes 128x96)', () => {
  it('compressed frames above the cap are refused on arrival from their header, named and counted; the camera goes stale and holds the observation until a good frame', async () => {
    const clock = new FakeClock(0);
    const r = await started({}, clock);
    const rnd = mulberry32(21);
    const good = picture(128, 96, rnd);
    await send(r, '/toy/state', { data: [0, 0, 0] });
    await send(r, '/toy/cam', {
      format: 'png',
      data: b64(encodePng({ width: 128, height: 96, data: good, channels: 3, depth: 8 })),
    });
    expect(r.status().stale).toBe(false);

    const jpg = jpeg.encode({ width: 16, height: 8, data: new Uint8Array(16 * 8 * 4).fill(90) }, 80).data;
    const refused: [Uint8Array, RegExp][] = [
      [craftPng(20_000, 20_000, new Uint8Array(1000)), /PNG: 20000x20000 exceeds the cap 128x96$/],
      [craftPng(129, 10, new Uint8Array(10 * (1 + 129 * 3))), /PNG: 129x10 exceeds the cap 128x96$/],
      [relabelJpeg(jpg, 20_000, 20_000), /JPEG: 20000x20000 exceeds the cap 128x96$/],
      [
        Uint8Array.from([0x47, 0x49, 0x46, 0x38, 0x39, 0x61]),
        /neither JPEG nor PNG \(first bytes 47 49 46 38\)$/,
      ],
    ];
    for (const [i, [bytes, why]] of refused.entries()) {
      await clock.advance(10);
      await send(r, '/toy/cam', { format: 'png', data: b64(bytes) });
      await send(r, '/toy/state', { data: [0, 0, 0] });
      expect(r.stats.rejectedFrames).toBe(i + 1);
      expect(r.stats.lastRejection).toMatch(
        /^camera "head" \(\/toy\/cam\): CompressedImage \(format "png"\)/,
      );
      expect(r.stats.lastRejection).toMatch(why);
      expect(r.status().stale).toBe(true);
      const obs = r.observe()!;
      expect(obs.timestampMs).toBe(0); // held at the camera's last good frame
      expect(Buffer.from(obs.images.head.data).equals(Buffer.from(good))).toBe(true); // the refused frame was never decoded
    }

    // A PNG that passes its header but inflates far past it is refused while decoding, named, and the
    // camera goes stale the same way.
    await send(r, '/toy/cam', { format: 'png', data: b64(craftPng(64, 48, new Uint8Array(1_000_000))) });
    expect(r.status().stale).toBe(false);
    const bomb = r.observe()!.images.head;
    expect(() => bomb.data).toThrow(
      /^camera "head" \(\/toy\/cam\): PNG: image data inflates past 86016 bytes$/,
    );
    expect(() => bomb.width).toThrow(/inflates past/);
    expect(r.stats.rejectedFrames).toBe(refused.length + 1);
    expect(r.status().stale).toBe(true);

    const next = picture(64, 48, rnd);
    await send(r, '/toy/cam', {
      format: 'png',
      data: b64(encodePng({ width: 64, height: 48, data: next, channels: 3, depth: 8 })),
    });
    expect(r.status().stale).toBe(false);
    expect(r.observe()!.timestampMs).toBe(clock.now());
    expect(Buffer.from(r.observe()!.images.head.data).equals(Buffer.from(next))).toBe(true);
  });

  it('caps are configurable per camera', async () => {
    const clock = new FakeClock(0);
    const r = await started({ cameraLimits: { head: { maxWidth: 32 } } }, clock);
    const png = encodePng({
      width: 64,
      height: 48,
      data: new Uint8Array(64 * 48 * 3),
      channels: 3,
      depth: 8,
    });
    await send(r, '/toy/cam', { format: 'png', data: b64(png) });
    expect(r.stats.lastRejection).toMatch(/64x48 exceeds the cap 32x96/);
  });

  it('raw Image frames without step or encoding, with a short row or short data, or claiming 20000x20000 are refused on arrival; the camera goes stale', async () => {
    const clock = new FakeClock(0);
    const r = await started({ raw: true }, clock);
    const rnd = mulberry32(8);
    const frame = (patch: object = {}) => ({
      header: {},
      height: 48,
      width: 64,
      encoding: 'rgb8',
      is_bigendian: 0,
      step: 192,
      data: b64(picture(64, 48, rnd)),
      ...patch,
    });
    await send(r, '/toy/state', { data: [0, 0, 0] });
    await send(r, '/toy/cam', frame());
    expect(r.status().stale).toBe(false);
    const cases: [object, RegExp][] = [
      [{ step: undefined }, /Image \(rgb8\): step undefined is not an integer$/],
      [{ encoding: undefined }, /Image: encoding undefined is not supported/],
      [{ step: 100 }, /step 100 < 64 × 3 bytes$/],
      [{ data: b64(new Uint8Array(192 * 47)) }, /9024 bytes < step 192 × 48$/],
      [{ width: 20_000, height: 20_000, step: 60_000, data: '' }, /20000x20000 exceeds the cap 128x96$/],
    ];
    for (const [i, [patch, why]] of cases.entries()) {
      await send(r, '/toy/cam', frame(patch));
      expect(r.stats.rejectedFrames).toBe(i + 1);
      expect(r.stats.lastRejection).toMatch(/^camera "head" \(\/toy\/cam\): Image/);
      expect(r.stats.lastRejection).toMatch(why);
      expect(r.status().stale).toBe(true);
      await send(r, '/toy/cam', frame());
      expect(r.status().stale).toBe(false);
    }
  });
});
