// The dashboard server without a browser: its image conversions against plain-TS references, its
// wire format, and a real ws client on 127.0.0.1 (controls, validation, throttling, foresight pairing,
// refused origins and hosts).
import { request } from 'node:http';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SafetyLayer, defineEmbodiment, type CameraFrame, type Embodiment } from '@vla/robot-core';
import { encodeJpeg, foresightToRgb } from '../src/dashboard/dashboardImages';
import {
  MAX_INSTRUCTION_LENGTH,
  packFrame,
  parseControlMessage,
  unpackFrame,
  type ConfigMessage,
  type FrameHeader,
  type TicksMessage,
} from '../src/dashboard/dashboardMessages';
import { DashboardServer, type DashboardControls } from '../src/dashboard/dashboardServer';
import { mulberry32 } from '@vla/robot-core/testing';

const rng = mulberry32;

const SEED = 0x5eed12;

const EMBODIMENT: Embodiment = defineEmbodiment({
  robotType: 'dash-test',
  controlHz: 20,
  cameras: [
    { name: 'top', width: 7, height: 5, fps: 20 },
    { name: 'wrist', width: 7, height: 5, fps: 20 },
  ],
  dims: [
    { name: 'j1', kind: 'joint', unit: 'rad', lower: -1.5, upper: 2, maxVelocity: 1, delta: true },
    { name: 'j2', kind: 'joint', unit: 'rad', lower: -0.25, upper: 0.75, maxVelocity: 2, delta: true },
    { name: 'grip', kind: 'gripper', unit: 'm', lower: 0, upper: 0.08, maxVelocity: 0.2, delta: false },
  ],
  home: [0, 0, 0.04],
});

/** Reference: view v of [V,3,S,S] in [-1,1] to RGB8 HWC, written the obvious way in float64. */
function foresightReference(x: Float32Array, views: number, size: number, v: number): number[] {
  const out: number[] = [];
  for (let y = 0; y < size; y++)
    for (let xx = 0; xx < size; xx++)
      for (let c = 0; c < 3; c++) {
        const val = x[((v * 3 + c) * size + y) * size + xx];
        out.push(Number.isNaN(val) ? 0 : Math.min(255, Math.max(0, Math.round((val + 1) * 127.5))));
      }
  return out;
}

/** A smooth RGB image (JPEG keeps it within a few levels) with a seeded phase. */
function smoothFrame(width: number, height: number, seed: number, timestampMs = 0): CameraFrame {
  const r = rng(seed);
  const p = [r() * 6, r() * 6, r() * 6];
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < 3; c++)
        data[(y * width + x) * 3 + c] = Math.round(127.5 + 100 * Math.sin(p[c] + (x + 2 * y) / 9));
  return { width, height, data, timestampMs };
}

function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

function decodeRgb(bytes: Uint8Array): { width: number; height: number; rgb: Uint8Array } {
  const d = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false });
  return { width: d.width, height: d.height, rgb: d.data };
}

describe('dashboard images', () => {
  it('converts every view of a foresight tensor like the reference, out-of-range and NaN values included', () => {
    const r = rng(SEED);
    const views = 3;
    const size = 5;
    const x = Float32Array.from({ length: views * 3 * size * size }, () => r() * 2.6 - 1.3);
    x[7] = Number.NaN;
    for (let v = 0; v < views; v++) {
      const img = foresightToRgb(x, views, size, v);
      expect(img.width).toBe(size);
      expect(img.height).toBe(size);
      expect(Array.from(img.data)).toEqual(foresightReference(x, views, size, v));
    }
    expect(() => foresightToRgb(x.subarray(1), views, size, 0)).toThrow(
      /224 values, expected views 3 × 3 × 5 × 5 = 225/,
    );
    expect(() => foresightToRgb(x, views, size, 3)).toThrow(/view 3 is not in \[0, 3\)/);
  });

  it('JPEG-encodes RGB frames that decode back close to the input', () => {
    const f = smoothFrame(13, 9, SEED + 1);
    const back = decodeRgb(encodeJpeg(f, 95));
    expect([back.width, back.height]).toEqual([13, 9]);
    expect(meanAbsDiff(back.rgb, f.data)).toBeLessThan(4);
    // Swapping channels must show: the encoder really reads RGB order.
    const swapped = f.data.slice();
    for (let i = 0; i < swapped.length; i += 3) [swapped[i], swapped[i + 2]] = [swapped[i + 2], swapped[i]];
    expect(meanAbsDiff(back.rgb, swapped)).toBeGreaterThan(20);
    expect(() => encodeJpeg({ width: 13, height: 9, data: f.data.subarray(3) })).toThrow(
      /348 bytes for 13×9 RGB \(expected 351\)/,
    );
  });
});

describe('dashboard messages', () => {
  it('packs and unpacks binary frames', () => {
    const header: FrameHeader = {
      kind: 'predicted',
      camera: 'hånd "left"',
      timestampMs: 12.5,
      targetTimestampMs: 512.5,
    };
    const body = Uint8Array.from({ length: 37 }, (_, i) => (i * 29) & 255);
    const packed = packFrame(header, body);
    const back = unpackFrame(packed);
    expect(back.header).toEqual(header);
    expect(Array.from(back.jpeg)).toEqual(Array.from(body));
    expect(() => unpackFrame(packed.subarray(0, 10))).toThrow(/overruns 10/);
    expect(() => unpackFrame(packed.subarray(0, 3))).toThrow(/3 bytes/);
  });

  it('accepts exactly the five controls and rejects everything else', () => {
    for (const type of ['start', 'stop', 'estop', 'reset-estop'])
      expect(parseControlMessage(JSON.stringify({ type, extra: 1 }))).toEqual({ type });
    expect(parseControlMessage('{"type":"instruction","text":"pick the red cube"}')).toEqual({
      type: 'instruction',
      text: 'pick the red cube',
    });
    const bad = [
      '',
      'start',
      'null',
      '[{"type":"start"}]',
      '{"type":"START"}',
      '{"type":"launch"}',
      '{"type":7}',
      '{"kind":"start"}',
      '{"type":"instruction"}',
      '{"type":"instruction","text":5}',
      JSON.stringify({ type: 'instruction', text: 'x'.repeat(MAX_INSTRUCTION_LENGTH + 1) }),
      '{"type":"start"',
    ];
    for (const text of bad) expect(parseControlMessage(text), text).toBeUndefined();
  });
});

/** A page stand-in: a ws client that collects JSON and binary messages. */
async function connect(
  url: string,
  origin?: string,
): Promise<{ ws: WebSocket; json: unknown[]; frames: { header: FrameHeader; jpeg: Uint8Array }[] }> {
  const wsUrl = url.replace('http://', 'ws://') + 'ws';
  const ws = new WebSocket(wsUrl, origin === undefined ? {} : { origin });
  const json: unknown[] = [];
  const frames: { header: FrameHeader; jpeg: Uint8Array }[] = [];
  ws.on('message', (data: Buffer, isBinary) => {
    if (isBinary) frames.push(unpackFrame(new Uint8Array(data)));
    else json.push(JSON.parse(data.toString()));
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, json, frames };
}

async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function get(url: string, host?: string): Promise<{ status: number; body: string; csp?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: host ? { host } : {} }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body,
          csp: res.headers['content-security-policy'] as string | undefined,
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

function recordingControls(): { calls: string[]; controls: DashboardControls } {
  const calls: string[] = [];
  return {
    calls,
    controls: {
      start: () => calls.push('start'),
      stop: () => calls.push('stop'),
      emergencyStop: () => calls.push('estop'),
      resetEmergencyStop: () => {
        throw new Error('the robot is not where the e-stop left it');
      },
      setInstruction: (text) => calls.push(`instruction:${text}`),
    },
  };
}

describe('DashboardServer', () => {
  it('serves one self-contained page and refuses foreign hosts and origins', async () => {
    const { controls } = recordingControls();
    const server = await DashboardServer.listen({
      embodiment: EMBODIMENT,
      cameras: ['top'],
      controls,
      title: 'T <b>',
    });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const page = await get(server.url);
      expect(page.status).toBe(200);
      expect(page.csp).toContain("default-src 'none'");
      expect(page.body).toContain('<title>T &#60;b&#62;</title>');
      expect(page.body).toContain('uplot'); // uPlot's CSS and code are inline
      expect(page.body).not.toMatch(/<script[^>]+src=|<link[^>]+href="(?!data:)/i);
      expect((await get(server.url + 'other')).status).toBe(404);
      // DNS rebinding: a name that is not localhost or the bound host is refused.
      expect((await get(server.url, 'evil.example:80')).status).toBe(403);
      await expect(connect(server.url, 'http://evil.example')).rejects.toThrow(/403/);
      expect(server.stats.refusedRequests).toBe(2);
      const page2 = await connect(server.url, server.url.slice(0, -1));
      page2.ws.close();
    } finally {
      await server.close();
    }
  });

  it('forwards valid controls, ignores and counts malformed ones, and reports a failing control', async () => {
    const { calls, controls } = recordingControls();
    const server = await DashboardServer.listen({ embodiment: EMBODIMENT, cameras: ['top'], controls });
    try {
      const page = await connect(server.url);
      await until('config', () => page.json.length >= 1);
      const config = page.json[0] as ConfigMessage;
      expect(config.type).toBe('config');
      expect(config.cameras).toEqual(['top']);
      expect(config.dims).toEqual(
        EMBODIMENT.dims.map((d) => ({
          name: d.name,
          kind: d.kind,
          unit: d.unit,
          lower: d.lower,
          upper: d.upper,
        })),
      );
      const send = (x: string | Buffer) => page.ws.send(x);
      send('{"type":"start"}');
      send('not json');
      send('{"type":"estop","why":1}');
      send(Buffer.from([1, 2, 3]));
      send('{"type":"instruction","text":"put the cube in the bin"}');
      send('{"type":"instruction","text":["x"]}');
      send('{"type":"shutdown"}');
      send('{"type":"stop"}');
      send('{"type":"reset-estop"}');
      await until('controls', () => server.stats.controlErrors === 1);
      expect(calls).toEqual(['start', 'estop', 'instruction:put the cube in the bin', 'stop']);
      expect(server.stats.rejectedMessages).toBe(4);
      await until('error reply', () => page.json.some((m) => (m as { type: string }).type === 'error'));
      expect(page.json.find((m) => (m as { type: string }).type === 'error')).toEqual({
        type: 'error',
        message: 'reset-estop: the robot is not where the e-stop left it',
      });
      page.ws.close();
    } finally {
      await server.close();
    }
  });

  it('streams throttled JPEG frames, ticks, status and the predicted/actual t+15 pair', async () => {
    const { controls } = recordingControls();
    const server = await DashboardServer.listen({
      embodiment: EMBODIMENT,
      cameras: ['top', 'wrist'],
      controls,
    });
    try {
      const page = await connect(server.url);
      await until('config', () => page.json.length >= 1);
      // Five frames in one burst: each camera is sent once (10 fps cap), the rest are counted dropped.
      const burst = [0, 1, 2, 3, 4].map((k) => ({
        top: smoothFrame(11, 7, SEED + 10 + k, k),
        wrist: smoothFrame(11, 7, SEED + 20 + k, k),
      }));
      burst.forEach((images, k) => server.frames(images, 1000 + k));
      await until('two frames', () => page.frames.length >= 2);
      await new Promise((r) => setTimeout(r, 50));
      expect(page.frames.map((f) => f.header)).toEqual([
        { kind: 'camera', camera: 'top', timestampMs: 1000 },
        { kind: 'camera', camera: 'wrist', timestampMs: 1000 },
      ]);
      expect(meanAbsDiff(decodeRgb(page.frames[0].jpeg).rgb, burst[0].top.data)).toBeLessThan(6);
      expect(meanAbsDiff(decodeRgb(page.frames[1].jpeg).rgb, burst[0].wrist.data)).toBeLessThan(6);
      expect(server.stats.framesDropped).toBe(8);

      // A prediction for t = 1500 of the wrist view; frames before 1500 do not answer it, the first at or after does.
      const r = rng(SEED + 3);
      const size = 6;
      const fimg = Float32Array.from({ length: 2 * 3 * size * size }, () => r() * 2 - 1);
      server.foresight({
        images: fimg,
        views: 2,
        size,
        cameras: ['top', 'wrist'],
        observationTimestampMs: 1004,
        targetTimestampMs: 1500,
      });
      await until('predictions', () => page.frames.length >= 4);
      const predicted = page.frames.slice(2, 4);
      expect(predicted.map((f) => f.header)).toEqual([
        { kind: 'predicted', camera: 'top', timestampMs: 1004, targetTimestampMs: 1500 },
        { kind: 'predicted', camera: 'wrist', timestampMs: 1004, targetTimestampMs: 1500 },
      ]);
      expect(
        meanAbsDiff(decodeRgb(predicted[1].jpeg).rgb, foresightReference(fimg, 2, size, 1)),
      ).toBeLessThan(25);
      const early = { top: smoothFrame(11, 7, SEED + 30), wrist: smoothFrame(11, 7, SEED + 31) };
      server.frames(early, 1499.5);
      const onTime = { top: smoothFrame(11, 7, SEED + 40), wrist: smoothFrame(11, 7, SEED + 41) };
      server.frames(onTime, 1500);
      server.frames({ top: smoothFrame(11, 7, SEED + 50), wrist: smoothFrame(11, 7, SEED + 51) }, 1501);
      await until('actual frames', () => page.frames.filter((f) => f.header.kind === 'actual').length >= 2);
      await new Promise((r2) => setTimeout(r2, 50));
      const actual = page.frames.filter((f) => f.header.kind === 'actual');
      expect(actual.map((f) => f.header)).toEqual([
        { kind: 'actual', camera: 'top', timestampMs: 1500, targetTimestampMs: 1500 },
        { kind: 'actual', camera: 'wrist', timestampMs: 1500, targetTimestampMs: 1500 },
      ]);
      expect(meanAbsDiff(decodeRgb(actual[1].jpeg).rgb, onTime.wrist.data)).toBeLessThan(6);

      // Ticks arrive batched, in order, with the SafeCommand's positions; status only when it changes.
      const safety = new SafetyLayer(EMBODIMENT);
      safety.start([0.1, 0.2, 0.03], 0);
      const states: number[][] = [];
      const commands: number[][] = [];
      for (let k = 1; k <= 7; k++) {
        const state = [0.1 + 0.01 * k, 0.2 - 0.01 * k, 0.03];
        safety.observe(state, k * 50);
        const command = safety.step([0.5, -0.2, 0.05], k * 50);
        states.push(state);
        commands.push([...command.positions]);
        server.tick({ timestampMs: k * 50, state: Float64Array.from(state), command });
      }
      const ticks = () => page.json.filter((m) => (m as { type: string }).type === 'ticks') as TicksMessage[];
      await until('ticks', () => ticks().reduce((n, t) => n + t.timestampMs.length, 0) >= 7);
      expect(ticks().flatMap((t) => t.timestampMs)).toEqual([50, 100, 150, 200, 250, 300, 350]);
      expect(ticks().flatMap((t) => t.state)).toEqual(states);
      expect(ticks().flatMap((t) => t.command)).toEqual(commands);
      const st = { running: true, estopped: false, instruction: 'go' };
      server.status(st);
      server.status({ ...st });
      server.status({ ...st, estopped: true, holdReason: 'estop' });
      server.chunk({ latencyMs: 123.5, timestampMs: 400 });
      await until('chunk', () => page.json.some((m) => (m as { type: string }).type === 'chunk'));
      const statuses = page.json.filter((m) => (m as { type: string }).type === 'status');
      expect(statuses).toEqual([
        { type: 'status', ...st },
        { type: 'status', ...st, estopped: true, holdReason: 'estop' },
      ]);
      // A malformed publication is ignored and counted, never thrown into the control loop.
      server.foresight({
        images: fimg.subarray(1),
        views: 2,
        size,
        cameras: ['top', 'wrist'],
        observationTimestampMs: 0,
        targetTimestampMs: 1,
      });
      server.frames({ top: { width: 11, height: 7, data: new Uint8Array(5), timestampMs: 0 } }, 99999);
      expect(server.stats.invalidInputs).toBe(2);
      expect(server.stats.lastProblem).toMatch(/camera "top": 5 bytes for 11×7 RGB/);
      // A page that connects later gets the config and the current status first.
      const late = await connect(server.url);
      await until('late page', () => late.json.length >= 2);
      expect((late.json[0] as { type: string }).type).toBe('config');
      expect(late.json[1]).toEqual({ type: 'status', ...st, estopped: true, holdReason: 'estop' });
      late.ws.close();
      page.ws.close();
    } finally {
      await server.close();
    }
  });
});
