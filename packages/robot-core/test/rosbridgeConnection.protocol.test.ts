// Issue 9, items 5 and 7 (transport): a hostile rosbridge peer cannot wedge the connection or make it
// hold memory. Real WebSocket servers on 127.0.0.1; time moves only on a FakeClock.
import { createServer, type Server, type Socket } from 'node:net';
import { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FakeClock,
  RosbridgeConnection,
  SafetyLayer,
  type RosbridgeRobot,
  type WebSocketFactory,
} from '../src/index.js';
import { RosbridgeTestServer, mulberry32, waitUntil, type RosbridgeOp } from '../src/testing.js';
import { camToy, camToyRobot } from './rosToy.js';

let server: RosbridgeTestServer | undefined;
let robot: RosbridgeRobot | undefined;
afterEach(async () => {
  robot?.close();
  robot = undefined;
  await server?.stop();
  server = undefined;
});

const ops = (op: string, topic: string) => (o: RosbridgeOp) => o.op === op && o.topic === topic;
const sameState = (r: RosbridgeRobot, v: number[]) => {
  const o = r.observe();
  return o !== undefined && v.every((x, i) => o.state[i] === x);
};

// Names a peer might hope the client turns into events: roslib's own event names, ops, prototype keys.
const NAMES = [
  'close',
  'connection',
  'error',
  'open',
  'message',
  'status',
  'subscribe',
  'advertise',
  'unsubscribe',
  'call_service',
  'service_response',
  'set_level',
  'png',
  '__proto__',
  'constructor',
  'toString',
  '/toy/cmd',
  '',
];

interface Expected {
  malformed: number;
  unknown: number;
  unrouted: number;
  status: number;
}

/** One hostile frame chosen by `rnd`, and which counter it must land in (the independent reference). */
function hostileFrame(rnd: () => number, e: Expected): string | Uint8Array {
  const name = NAMES[Math.floor(rnd() * NAMES.length)];
  const foreign = name === 'status' ? 'close' : name; // an op that is neither publish, fragment nor status
  switch (Math.floor(rnd() * 8)) {
    case 0:
      e.malformed++;
      return JSON.stringify({ op: 'publish', topic: name }); // the spoof: no msg
    case 1:
      e.unrouted++;
      return JSON.stringify({ op: 'publish', topic: name, msg: {} });
    case 2:
      e.unknown++;
      return JSON.stringify({ op: foreign });
    case 3:
      e.unknown++; // not a publish, so never state, whatever it carries
      return JSON.stringify({ op: foreign, topic: '/toy/state', msg: { data: [9, 9, 9] } });
    case 4: {
      e.malformed++;
      const s = JSON.stringify({ op: 'publish', topic: '/toy/state', msg: { data: [9, 9, 9] } });
      return s.slice(0, 1 + Math.floor(rnd() * (s.length - 2))); // truncated JSON
    }
    case 5:
      e.malformed++;
      return ['[]', 'null', '42', '"close"', '{"op":7}', '{"topic":"close"}'][Math.floor(rnd() * 6)];
    case 6:
      e.malformed++;
      return Uint8Array.from({ length: 1 + Math.floor(rnd() * 40) }, () => Math.floor(rnd() * 256));
    default:
      e.status++;
      return JSON.stringify({ op: 'status', level: 'error', msg: name });
  }
}

describe('RosbridgeConnection against a hostile peer', () => {
  it('forged ops, topics named like events, garbage and binary frames are counted; the connection never leaves "connected", state and commands keep flowing, and every real reconnect resubscribes and re-advertises', async () => {
    server = await RosbridgeTestServer.start();
    const clock = new FakeClock(0);
    const r = (robot = camToyRobot({ url: server.url, clock, backoff: { initialMs: 50 }, noCamera: true }));
    const states: string[] = [];
    r.connection.onStateChange((s) => states.push(s));
    r.connect();
    await waitUntil(() => server!.subscriptions().size === 1, 'subscribed');

    const rnd = mulberry32(0x5eed);
    const expected: Expected = { malformed: 0, unknown: 0, unrouted: 0, status: 0 };
    let genuine = 0;
    let last = [0, 0, 0];
    for (let i = 0; i < 240; i++) {
      if (i % 12 === 0) {
        last = [rnd() * 2 - 1, rnd() * 2 - 1, rnd()];
        server.publish('/toy/state', { data: last });
        genuine++;
      }
      server.sendRaw(hostileFrame(rnd, expected));
    }
    server.sendRaw(JSON.stringify({ op: 'publish', topic: 'close' })); // the message, verbatim
    expected.malformed++;
    last = [0.5, -0.25, 0.125];
    server.publish('/toy/state', { data: last });
    genuine++;
    await waitUntil(() => sameState(r, last), 'the last genuine state');

    expect(states).toEqual(['connecting', 'connected']);
    expect(r.connection.state).toBe('connected');
    expect(r.stats.stateMessages).toBe(genuine);
    expect(r.stats.rejectedMessages).toBe(0);
    const c = r.connection.stats;
    expect([c.malformedFrames, c.unknownOps, c.unroutedMessages, c.statusMessages]).toEqual([
      expected.malformed,
      expected.unknown,
      expected.unrouted,
      expected.status,
    ]);
    expect(c.lastStatus).toMatch(/^error: /);
    expect(c.messages).toBe(genuine);

    // Commands still go out.
    const safety = new SafetyLayer(camToy);
    safety.observe(r.observe()!.state, clock.now());
    safety.start(r.observe()!.state, clock.now());
    r.command(safety.step(last, clock.now()));
    expect(r.stats.commandsSent).toBe(1);
    const pub = await server.waitFor(ops('publish', '/toy/cmd'));
    expect(pub.msg).toEqual({ data: last });

    // Two real drops (one right after another forged "close"): each reconnect sends subscribe and advertise.
    for (let k = 1; k <= 2; k++) {
      server.sendRaw(JSON.stringify({ op: 'publish', topic: 'close' }));
      const mark = server.received.length;
      server.dropClients();
      await waitUntil(() => r.connection.state === 'waiting', 'drop noticed');
      await clock.advance(50);
      await server.waitFor(ops('subscribe', '/toy/state'), mark);
      const ad = await server.waitFor(ops('advertise', '/toy/cmd'), mark);
      expect(ad.type).toBe('toy/Cmd');
      expect(r.connection.stats.connects).toBe(k + 1);
    }
    expect(states).toEqual([
      'connecting',
      'connected',
      'waiting',
      'connecting',
      'connected',
      'waiting',
      'connecting',
      'connected',
    ]);
    server.publish('/toy/state', { data: [0.1, 0.2, 0.3] });
    await waitUntil(() => sameState(r, [0.1, 0.2, 0.3]), 'state after reconnects');
  });

  it('fragments reassemble in any order; 300 never-completed ones stay within the caps and expire on the clock', async () => {
    server = await RosbridgeTestServer.start();
    const clock = new FakeClock(0);
    const r = (robot = camToyRobot({
      url: server.url,
      clock,
      noCamera: true,
      fragments: { maxMessageBytes: 64 * 1024, maxIncomplete: 4, expireMs: 1000 },
    }));
    r.connect();
    await waitUntil(() => server!.subscriptions().size === 1, 'subscribed');
    const rnd = mulberry32(77);
    const frag = (id: string, num: number, total: number, data: string) =>
      server!.sendRaw(JSON.stringify({ op: 'fragment', id, num, total, data }));

    // One publish in 7 uneven pieces, sent shuffled, with another id's pieces in between.
    const whole = JSON.stringify({ op: 'publish', topic: '/toy/state', msg: { data: [0.25, -0.5, 0.75] } });
    const cuts = [
      0,
      ...Array.from({ length: 6 }, () => Math.floor(rnd() * whole.length)).sort((a, b) => a - b),
      whole.length,
    ];
    const order = [0, 1, 2, 3, 4, 5, 6].sort(() => rnd() - 0.5);
    for (const k of order) {
      frag('m1', k, 7, whole.slice(cuts[k], cuts[k + 1]));
      frag('other', k, 9, 'x'); // 7 of 9: never completes
    }
    await waitUntil(() => sameState(r, [0.25, -0.5, 0.75]), 'reassembled state');
    expect(r.connection.stats.fragmentedMessages).toBe(1);

    // 300 messages that never complete, 20 000 characters each (6 MB in all).
    const chunk = 'x'.repeat(20_000);
    for (let i = 0; i < 300; i++) frag(`junk${i}`, 0, 2, chunk);
    server.publish('/toy/state', { data: [1, 1, 1] }); // arrives after all of them
    await waitUntil(() => sameState(r, [1, 1, 1]), 'marker state');
    let s = r.connection.stats;
    expect(s.pendingFragmentMessages).toBe(4);
    expect(s.pendingFragmentBytes).toBeLessThanOrEqual(4 * (20_000 + 64));
    expect(s.droppedFragmentMessages).toBe(1 + 296); // "other" (evicted) and the oldest junk
    await clock.advance(1000);
    s = r.connection.stats;
    expect([s.pendingFragmentMessages, s.pendingFragmentBytes, s.droppedFragmentMessages]).toEqual([
      0, 0, 301,
    ]);

    // Growing past maxMessageBytes drops the message at once; so does a changed total, or a fragment
    // whose reassembled text is itself a fragment.
    for (let k = 0; k < 4; k++) frag('big', k, 10, chunk);
    frag('t', 0, 3, 'a');
    frag('t', 1, 4, 'b');
    frag('n', 0, 1, JSON.stringify({ op: 'fragment', id: 'x', num: 0, total: 1, data: '{}' }));
    server.publish('/toy/state', { data: [2, 2, 0] });
    await waitUntil(() => sameState(r, [2, 2, 0]), 'second marker');
    s = r.connection.stats;
    expect(s.pendingFragmentMessages).toBe(0);
    expect(s.droppedFragmentMessages).toBe(303);
    expect(s.malformedFrames).toBe(1);
    expect(r.connection.state).toBe('connected');
  });

  it('a frame over maxFrameBytes is refused before buffering (ws refuses it and closes) and the client reconnects', async () => {
    server = await RosbridgeTestServer.start();
    const clock = new FakeClock(0);
    const r = (robot = camToyRobot({
      url: server.url,
      clock,
      noCamera: true,
      maxFrameBytes: 50_000,
      backoff: { initialMs: 40 },
    }));
    r.connect();
    await waitUntil(() => server!.subscriptions().size === 1, 'subscribed');
    server.publish('/toy/state', { data: [0, 0, 0], pad: 'p'.repeat(40_000) });
    await waitUntil(() => r.observe() !== undefined, 'a 40 kB frame is fine');
    server.sendRaw(
      JSON.stringify({
        op: 'publish',
        topic: '/toy/state',
        msg: { data: [1, 1, 1], pad: 'p'.repeat(60_000) },
      }),
    );
    await waitUntil(() => r.connection.state === 'waiting', 'closed by the cap');
    expect(r.connection.stats.oversizedFrames).toBe(1);
    expect(sameState(r, [0, 0, 0])).toBe(true);
    const mark = server.received.length;
    await clock.advance(40);
    await server.waitFor(ops('subscribe', '/toy/state'), mark);
    expect(r.connection.connected).toBe(true);
  });

  it('over a WHATWG-style socket (the browser path): same protocol, an oversized frame is dropped unparsed', async () => {
    server = await RosbridgeTestServer.start();
    const clock = new FakeClock(0);
    const made: string[] = [];
    const r = (robot = camToyRobot({
      url: server.url,
      clock,
      noCamera: true,
      maxFrameBytes: 10_000,
      createSocket: (url) => {
        made.push(url);
        return new WebSocket(url); // no maxPayload: what a browser gives
      },
    }));
    // The DOM's own WebSocket type fits the factory too (a compile-time check).
    const browser: WebSocketFactory = (url) => new globalThis.WebSocket(url);
    expect(typeof browser).toBe('function');
    let calls = 0;
    r.connection.subscribe('/toy/thrower', 'x/Y', () => {
      calls++;
      throw new Error('callback bug');
    });
    r.connect();
    await waitUntil(() => server!.subscriptions().size === 2, 'subscribed');
    expect(made).toEqual([server.url]);
    server.publish('/toy/state', { data: [0.5, 0.5, 0.5] });
    server.publish('/toy/thrower', {});
    server.sendRaw(
      JSON.stringify({
        op: 'publish',
        topic: '/toy/state',
        msg: { data: [1, 1, 1], pad: 'p'.repeat(20_000) },
      }),
    );
    server.publish('/toy/state', { data: [0.25, 0.5, 0.5] });
    await waitUntil(() => sameState(r, [0.25, 0.5, 0.5]), 'state');
    const s = r.connection.stats;
    expect([s.oversizedFrames, s.callbackErrors, calls]).toEqual([1, 1, 1]);
    expect(r.stats.stateMessages).toBe(2);
    expect(r.connection.connected).toBe(true);
  });

  it('a server that accepts TCP but never answers the handshake is abandoned after connectTimeoutMs and retried', async () => {
    const sockets: Socket[] = [];
    const mute: Server = createServer((sock) => sockets.push(sock));
    await new Promise<void>((res) => mute.listen(0, '127.0.0.1', res));
    const port = (mute.address() as { port: number }).port;
    const clock = new FakeClock(0);
    const conn = new RosbridgeConnection({
      url: `ws://127.0.0.1:${port}`,
      clock,
      connectTimeoutMs: 1000,
      backoff: { initialMs: 100 },
    });
    try {
      conn.open();
      await waitUntil(() => sockets.length === 1, 'TCP accepted');
      await clock.advance(999);
      expect(conn.state).toBe('connecting');
      await clock.advance(1);
      expect(conn.state).toBe('waiting');
      expect(conn.stats.lastError).toMatch(/connect timed out after 1000 ms/);
      await clock.advance(100);
      await waitUntil(() => sockets.length === 2, 'second attempt');
      expect(conn.stats.attempts).toBe(2);
    } finally {
      conn.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((res) => mute.close(() => res()));
    }
  });
});
