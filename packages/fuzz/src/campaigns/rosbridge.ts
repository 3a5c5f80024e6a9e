// Campaign 3: rosbridge drivers (@vla/robots-arx, @vla/robots-genie over @vla/robot-core). Each case
// connects a fresh driver to a real WebSocket server on 127.0.0.1, brings it to a fresh state, runs
// one hostile session while a SafetyLayer drives it at 30 Hz, then drops the connection and checks
// that a clean session makes the driver fresh again. Checks: no crash, no hang (event loop stays
// responsive, the driver never wedges), bounded memory, state never taken from a refused message,
// freshness not kept alive by replayed stamps or frozen cameras, and every published command finite.
import { SafetyLayer, type RosbridgeRobot } from '@vla/robot-core';
import {
  errorLine,
  judgeByClass,
  type Campaign,
  type CaseContext,
  type FuzzCase,
  type Outcome,
  type Verdict,
} from '../outcome.js';
import type { Rng } from '../rng.js';
import { ROSBRIDGE_KINDS } from './names.js';
import { encodePng, jpegBomb, picture, pngBomb } from '../rosbridge/images.js';
import { robotSpecs, type RobotSpec } from '../rosbridge/robots.js';
import { HostileServer, type ServerConn } from '../rosbridge/server.js';

/** Driver options of every case: quick reconnects and short freshness limits keep cases short. */
const DRIVER_OPTIONS = {
  backoff: { initialMs: 20, maxMs: 200 },
  staleAfterMs: 150,
  cameraStaleAfterMs: 400,
  connectTimeoutMs: 2000,
};

/** Heap growth (after GC, driver alive) a hostile session may leave behind. */
export const HEAP_BOUND_BYTES = 16 * 2 ** 20;

const EVENT_TOPICS = [
  'close',
  'error',
  'connection',
  'open',
  'message',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'then',
  'subscribe',
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const yieldToLoop = () => new Promise((r) => setImmediate(r));

// Padding strings of huge frames, built once per process (outside the cases' event-loop measurement).
const paddings = new Map<number, string>();
function padding(mib: number): string {
  let p = paddings.get(mib);
  // A flat string now (repeat() would build a rope that flattens, allocating, inside a case).
  if (!p) paddings.set(mib, (p = Buffer.alloc(mib * 2 ** 20, 'A').toString('latin1')));
  return p;
}
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

/** Heap plus ArrayBuffer bytes after full collections (backing stores are freed in the background). */
async function heapBytes(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await sleep(10);
  }
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Numbers anywhere in a JSON value that are not finite or absurd for a joint command. */
function badNumber(v: unknown, path = 'msg'): string | null {
  if (typeof v === 'number') return Number.isFinite(v) && Math.abs(v) < 1e3 ? null : `${path} = ${v}`;
  if (v === null || typeof v !== 'object') return null;
  for (const [k, x] of Object.entries(v)) {
    if (k === 'header') continue; // stamps are wall-clock seconds
    const b = badNumber(x, `${path}.${k}`);
    if (b) return b;
  }
  return null;
}

/** A value no joint-state reader may accept: non-numeric, non-finite or absurdly large. */
function junk(rng: Rng, depth = 0): unknown {
  const leaves: unknown[] = [null, true, 'x', '', '1.0', 1e308, -1e308, 1e5, -4e4, {}, []];
  if (depth < 2 && rng.chance(0.4)) {
    if (rng.chance(0.5))
      return Array.from({ length: rng.pick([0, 1, 3, 6, 8, 20]) }, () => junk(rng, depth + 1));
    const o: Record<string, unknown> = {};
    for (const k of [
      'joint_pos',
      'position',
      'name',
      'data',
      'format',
      'header',
      rng.pick(['x', '__proto__', 'constructor']),
    ])
      if (rng.chance(0.4)) o[k] = junk(rng, depth + 1);
    return o;
  }
  return rng.pick(leaves);
}

/** One case in progress. */
class Session {
  readonly failures: { outcome: Outcome; detail: string }[] = [];
  readonly crashes: string[] = [];
  expected: number[];
  conn!: ServerConn;
  driver!: RosbridgeRobot;
  private lastStamp = 0;
  /** Stamp of the newest state message sent. */
  lastStateStamp = 0;
  /** Largest single frame sent in this session (bytes), for the memory bound. */
  largestFrame = 0;
  private frame = 0;

  constructor(
    readonly spec: RobotSpec,
    readonly rng: Rng,
    readonly server: HostileServer,
  ) {
    this.expected = this.randomState();
  }

  fail(outcome: Outcome, detail: string): void {
    this.failures.push({ outcome, detail });
  }

  get topics(): string[] {
    return [...this.spec.feeds.map((f) => f.topic), ...this.spec.cameras.map((c) => c.topic)];
  }

  /** A state inside every dim's limits. */
  randomState(): number[] {
    return this.spec.embodiment.dims.map(
      (d) => d.lower + (d.upper - d.lower) * (0.2 + 0.6 * this.rng.next()),
    );
  }

  /** Strictly increasing wall-clock stamps. */
  stamp(): number {
    this.lastStamp = Math.max(Date.now(), this.lastStamp + 1);
    return this.lastStamp;
  }

  sendState(c: ServerConn, state: readonly number[], stampMs = this.stamp()): void {
    this.lastStateStamp = Math.max(this.lastStateStamp, stampMs);
    for (const f of this.spec.feeds) c.publish(f.topic, f.message(state, stampMs));
  }

  /** A distinct, valid frame on every camera. */
  sendFrames(c: ServerConn): void {
    const seed = ++this.frame;
    const [w, h] = [8, 6];
    const rgb = picture(w, h, seed);
    const ms = this.stamp();
    const header = this.spec.stamped
      ? { header: { stamp: { sec: Math.floor(ms / 1000), nanosec: (ms % 1000) * 1e6 }, frame_id: '' } }
      : {};
    for (const cam of this.spec.cameras) {
      if (cam.kind === 'raw')
        c.publish(cam.topic, {
          ...header,
          height: h,
          width: w,
          encoding: 'rgb8',
          is_bigendian: 0,
          step: w * 3,
          data: b64(rgb),
        });
      else c.publish(cam.topic, { ...header, format: 'png', data: b64(encodePng(w, h, rgb)) });
    }
  }

  /**
   * Waits until the driver has handled everything sent so far: a WebSocket ping is answered by the
   * client's socket only after every earlier frame was delivered to the driver. False when no pong
   * came (wedged socket), 'closed' when the connection is gone.
   */
  async barrier(timeoutMs = 3000): Promise<boolean | 'closed'> {
    const c = this.conn;
    if (!c.open) {
      c.ws.terminate(); // the peer hung up: drop the socket and whatever it still buffers
      return 'closed';
    }
    const pong = new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      c.ws.once('pong', () => {
        clearTimeout(t);
        resolve(true);
      });
      c.ws.once('close', () => {
        clearTimeout(t);
        resolve(false);
      });
    });
    c.ws.ping();
    const ok = await pong;
    await new Promise((r) => setImmediate(r));
    await sleep(5);
    if (!c.open) {
      c.ws.terminate();
      return 'closed';
    }
    return ok;
  }

  /**
   * After everything sent so far was handled, the state must still be the expected one (nothing sent
   * since the last good state may change it), and the driver must still take a valid state.
   */
  async syncAndCheck(what: string): Promise<void> {
    const b = await this.barrier();
    if (b === false) {
      this.fail('hang', `the driver's socket stopped answering pings after ${what} (wedged)`);
      return;
    }
    // A driver may withhold the observation after refused input (state unknown until a good message).
    const obs = this.driver.observe();
    const i = obs ? this.expected.findIndex((v, k) => Math.abs(obs.state[k] - v) > 1e-9) : -1;
    if (obs && i >= 0) {
      this.fail(
        'silent-change',
        `state[${i}] became ${obs.state[i]} (last good value ${this.expected[i]}) after ${what}, refused input`,
      );
      return;
    }
    if (b === 'closed') return; // the driver hung up on the hostile peer: allowed, recovery follows
    // Liveness: a new valid state must be taken.
    this.expected = this.randomState();
    this.sendState(this.conn, this.expected);
    const end = Date.now() + 3000;
    for (;;) {
      const o = this.driver.observe();
      if (o && this.expected.every((v, k) => Math.abs(o.state[k] - v) <= 1e-9)) return;
      if (!this.conn.open) return;
      if (Date.now() > end) {
        this.fail('hang', `the driver no longer takes valid state after ${what} (wedged)`);
        return;
      }
      await sleep(3);
    }
  }
}

/** Builds message text where `NaN` / `Infinity` literals replace marker strings (JSON cannot say them). */
function withLiterals(msg: unknown): string {
  return JSON.stringify(msg).replace(/"@@(NaN|Infinity|-Infinity|1e309)@@"/g, '$1');
}

// ---- hostile sessions ------------------------------------------------------------------------------

type Script = (s: Session) => Promise<string>;

const scripts: Record<(typeof ROSBRIDGE_KINDS)[number], Script> = {
  async 'random-ops'(s) {
    const n = s.rng.int(20, 60);
    const ops = [
      'publish',
      'subscribe',
      'advertise',
      'unadvertise',
      'call_service',
      'service_response',
      'status',
      'set_level',
      'fragment',
      'png',
      'auth',
      'xyz',
    ];
    const topics: unknown[] = [...s.topics, ...EVENT_TOPICS, '/x', '', 5, null];
    for (let i = 0; i < n; i++) {
      const frame: Record<string, unknown> = {
        op: s.rng.pick(ops),
        topic: s.rng.pick(topics),
        msg: junk(s.rng),
      };
      if (s.rng.chance(0.3)) frame.id = junk(s.rng);
      if (s.rng.chance(0.3)) frame.type = junk(s.rng);
      if (s.rng.chance(0.2)) frame.values = junk(s.rng);
      s.conn.send(JSON.stringify(frame));
    }
    await s.syncAndCheck('random ops');
    return `${n} random ops (publish/subscribe/status/fragment/… with junk fields)`;
  },

  async 'event-topics'(s) {
    const sent: string[] = [];
    s.conn.send('{"op":"publish","topic":"close"}');
    sent.push('close (no msg)');
    for (let i = s.rng.int(3, 10); i > 0; i--) {
      const topic = s.rng.pick(EVENT_TOPICS);
      s.conn.publish(topic, s.rng.chance(0.3) ? undefined : junk(s.rng));
      sent.push(topic);
    }
    await s.syncAndCheck('publishes on event-named topics');
    return `publish on topics ${sent.join(', ')}`;
  },

  async 'malformed-json'(s) {
    const st = s.spec.feeds[0].topic;
    const frames: (string | Uint8Array)[] = [
      'not json',
      '{"op":',
      '[1,2',
      'null',
      '42',
      '"str"',
      '[]',
      '{}',
      '{"op":5}',
      '{"op":"publish"}',
      `{"op":"publish","topic":5,"msg":{}}`,
      `{"op":"publish","topic":${JSON.stringify(st)},"msg":"str"}`,
      `{"op":"publish","topic":${JSON.stringify(st)},"msg":[1,2]}`,
      `\ufeff{"op":"publish","topic":${JSON.stringify(st)},"msg":{}}`,
      `{"op":"publish","topic":${JSON.stringify(st)},"msg":{"joint_pos":[NaN,NaN,NaN,NaN,NaN,NaN,NaN],"position":[NaN]}}`,
      '['.repeat(s.rng.pick([1000, 100000])),
      s.rng.bytes(s.rng.int(1, 2000)),
    ];
    const picked = Array.from({ length: s.rng.int(5, 15) }, () => s.rng.pick(frames));
    for (const f of picked) s.conn.send(f);
    await s.syncAndCheck('malformed frames');
    return `${picked.length} malformed frames: ${picked.map((f) => (typeof f === 'string' ? JSON.stringify(f.slice(0, 16)) : `binary(${f.length})`)).join(' ')}`;
  },

  async 'huge-frame'(s) {
    const mib = s.rng.pick([2, 8, 17]);
    const onCamera = s.rng.chance(0.5);
    const pad = padding(mib);
    s.largestFrame = pad.length;
    if (onCamera) s.conn.publish(s.spec.cameras[0].topic, { format: 'png', data: pad });
    else s.conn.publish(s.spec.feeds[0].topic, { joint_pos: [1e308], name: [], position: [1e308], pad });
    await s.conn.flushed();
    await s.syncAndCheck(`a ${mib} MiB frame`);
    return `one ${mib} MiB publish on ${onCamera ? 'a camera topic (data = base64 of nothing valid)' : 'a state topic (padding field)'}`;
  },

  async fragments(s) {
    const count = s.rng.int(300, 400);
    const size = 64 * 1024;
    const piece = 'x'.repeat(size);
    s.largestFrame = size;
    for (let i = 0; i < count; i++) {
      const total = s.rng.pick([2, 10, 1e6]);
      s.conn.send(JSON.stringify({ op: 'fragment', id: `frag-${i}`, data: piece, num: 0, total }));
      if (i % 20 === 19) await yieldToLoop(); // the stall measured is the driver's, not the sender's
    }
    const odd: unknown[] = [
      { op: 'fragment', id: 'bad-1', data: 'x', num: 5, total: 2 },
      { op: 'fragment', id: 'bad-2', data: 'x', num: -1, total: 2 },
      { op: 'fragment', id: 'bad-3', data: 'x', num: 0, total: 0 },
      { op: 'fragment', id: 'bad-4', data: 'x', num: 0, total: 1e12 },
      { op: 'fragment', id: 'bad-5', data: 5, num: 0, total: 2 },
      { op: 'fragment', id: { x: 1 }, data: 'x', num: 0, total: 2 },
      { op: 'fragment', id: 'bad-7', data: 'x', num: 0.5, total: 2 },
      { op: 'fragment', id: 'bad-8', data: '{"op":"publish","topic":"close"}', num: 0, total: 1 },
    ];
    for (const o of odd) s.conn.send(JSON.stringify(o));
    await s.conn.flushed();
    await s.syncAndCheck('never-completed fragments');
    return `${count} never-completed fragments of ${size / 1024} KiB, plus ${odd.length} malformed fragments`;
  },

  async 'bad-joint-state'(s) {
    const done: string[] = [];
    for (let k = s.rng.int(3, 8); k > 0; k--) {
      const feed = s.rng.pick(s.spec.feeds);
      const msg = feed.message(s.expected, s.stamp()) as Record<string, unknown>;
      const key = 'joint_pos' in msg ? 'joint_pos' : 'position';
      const arr = [...(msg[key] as number[])];
      const at = s.rng.int(key === 'position' ? 1 : 0, arr.length - 1);
      const edit = s.rng.pick([
        'NaN',
        'Infinity',
        '1e309',
        '1e308',
        '-1e308',
        '1e5',
        'beyond',
        'string',
        'null',
        'object',
        'short',
        'long',
        'nested',
        'missing',
        'names',
      ] as const);
      let text: string | undefined;
      switch (edit) {
        case 'NaN':
        case 'Infinity':
        case '1e309':
          arr[at] = `@@${edit}@@` as unknown as number;
          msg[key] = arr;
          text = withLiterals(msg);
          break;
        case '1e308':
        case '-1e308':
        case '1e5':
          arr[at] = Number(edit);
          msg[key] = arr;
          break;
        case 'beyond': {
          // A value three ranges outside its limits: garbage for any tolerance of one range.
          const dim =
            'joint_pos' in msg
              ? s.spec.embodiment.dims[s.spec.feeds.indexOf(feed) * 7 + at]
              : s.spec.embodiment.dims[arr.length - 1 - at];
          arr[at] = dim.upper + 3 * (dim.upper - dim.lower);
          msg[key] = arr;
          break;
        }
        case 'string':
          msg[key] = arr.map((x, i) => (i === at ? String(x) : x));
          break;
        case 'null':
          msg[key] = arr.map((x, i) => (i === at ? null : x));
          break;
        case 'object':
          msg[key] = Object.fromEntries(arr.map((x, i) => [i, x]));
          break;
        case 'short':
          msg[key] = arr.slice(0, key === 'position' ? arr.length - 3 : 6).map((x) => x + 0.001);
          break;
        case 'long':
          msg[key] = [...arr.map((x) => x + 0.001), 0.1];
          if (key === 'position') msg[key] = (msg[key] as number[]).slice(0, -1).concat([0.1, 0.2]);
          break;
        case 'nested':
          msg[key] = arr.map((x) => [x]);
          break;
        case 'missing':
          delete msg[key];
          break;
        case 'names':
          if (key === 'position') {
            const names = [...(msg.name as string[])];
            names[at] = names[(at % (names.length - 1)) + 1];
            msg.name = names;
            msg.position = arr.map((x, i) => (i === at ? x + 0.3 : x));
          } else msg.joint_pos = { length: 7, 0: 1 };
          break;
      }
      s.conn.send(text ?? JSON.stringify({ op: 'publish', topic: feed.topic, msg }));
      if (text)
        s.conn.send(
          JSON.stringify({
            op: 'publish',
            topic: feed.topic,
            msg: JSON.parse(text.replace(/NaN|-?Infinity|1e309/g, '"junk"')),
          }),
        );
      done.push(`${feed.topic} ${key}[${at}] ${edit}`);
      await s.syncAndCheck(`${feed.topic} with ${key} ${edit}`);
    }
    return done.join('; ');
  },

  async 'replayed-stamps'(s) {
    if (!s.spec.stamped) return 'skipped (no header stamps on this robot)';
    const last = s.lastStateStamp;
    const other = s.randomState();
    const variants = [
      ['same stamp as the last message', last],
      ['stamp 300 ms older', last - 300],
      ['stamp 10 s older', last - 10_000],
    ] as const;
    const used: string[] = [];
    for (const [what, stamp] of variants) {
      if (s.rng.chance(0.3)) continue;
      s.sendState(s.conn, other, stamp);
      used.push(what);
    }
    await s.syncAndCheck('state messages with replayed or older stamps (new values)');
    // Then only replays of the last message: freshness must run out.
    const frozen = s.lastStateStamp;
    const t0 = Date.now();
    while (Date.now() - t0 < 400) {
      s.sendState(s.conn, s.expected, frozen);
      s.sendFrames(s.conn);
      await sleep(30);
    }
    const st = s.driver.status();
    if (!st.stale)
      s.fail(
        'silent-change',
        `state stayed fresh for 400 ms of replayed header stamps (status ${JSON.stringify(st)})`,
      );
    return `new values with ${used.join(', ') || 'no'} replayed stamps, then 400 ms of one replayed message`;
  },

  async 'frozen-camera'(s) {
    const sameStamp = s.spec.stamped && s.rng.chance(0.5);
    const [w, h] = [8, 6];
    const png = b64(encodePng(w, h, picture(w, h, 999)));
    const raw = b64(picture(w, h, 999));
    const fixed = s.stamp();
    const t0 = Date.now();
    // Longer than the drivers' default camera limit (1 s), whatever option reached them.
    while (Date.now() - t0 < 1300) {
      s.sendState(s.conn, s.expected);
      const ms = sameStamp ? fixed : s.stamp();
      const header = s.spec.stamped
        ? { header: { stamp: { sec: Math.floor(ms / 1000), nanosec: (ms % 1000) * 1e6 }, frame_id: '' } }
        : {};
      for (const cam of s.spec.cameras) {
        if (cam.kind === 'raw')
          s.conn.publish(cam.topic, {
            ...header,
            height: h,
            width: w,
            encoding: 'rgb8',
            is_bigendian: 0,
            step: w * 3,
            data: raw,
          });
        else s.conn.publish(cam.topic, { ...header, format: 'png', data: png });
      }
      await sleep(30);
    }
    const st = s.driver.status();
    if (!st.stale)
      s.fail(
        'silent-change',
        `cameras repeating one frame for 1300 ms kept the driver fresh (status ${JSON.stringify(st)})`,
      );
    return `1300 ms of fresh state with every camera repeating one frame (${sameStamp ? 'same bytes, same stamp' : 'same bytes, advancing stamps'})`;
  },

  async 'image-bombs'(s) {
    const sent: string[] = [];
    for (let k = s.rng.int(2, 5); k > 0; k--) {
      const cam = s.rng.pick(s.spec.cameras);
      let msg: Record<string, unknown>;
      let what: string;
      if (cam.kind === 'raw') {
        const bomb = s.rng.pick([
          'no-step',
          'step-0',
          'step-huge',
          'huge',
          'negative',
          'fraction',
          'encoding',
          'short',
          'array-data',
        ] as const);
        const base = {
          height: 6,
          width: 8,
          encoding: 'rgb8',
          is_bigendian: 0,
          step: 24,
          data: b64(picture(8, 6, 1)),
        };
        msg = {
          'no-step': { ...base, height: 20000, width: 20000, step: undefined },
          'step-0': { ...base, step: 0 },
          'step-huge': { ...base, step: 1e12 },
          huge: { ...base, height: 20000, width: 20000, step: 60000 },
          negative: { ...base, height: -6, step: 24 },
          fraction: { ...base, width: 7.5 },
          encoding: { ...base, encoding: 'bayer_rggb16' },
          short: { ...base, data: b64(new Uint8Array(10)) },
          'array-data': { ...base, data: [999, -1, 'x'] },
        }[bomb];
        what = `raw ${bomb}`;
      } else {
        const bomb = s.rng.pick([
          'png-20000',
          'png-wide',
          'jpeg-65000',
          'jpeg-0',
          'empty',
          'base64-junk',
          'array-data',
          'jpeg-as-png',
        ] as const);
        const data = {
          'png-20000': b64(pngBomb(20000, 20000)),
          'png-wide': b64(pngBomb(1_000_000, 1)),
          'jpeg-65000': b64(jpegBomb(65000, 65000)),
          'jpeg-0': b64(jpegBomb(0, 0)),
          empty: '',
          'base64-junk': '!!!!$$$$',
          'array-data': [999, -1, 'x'] as unknown as string,
          'jpeg-as-png': b64(jpegBomb(16, 16)),
        }[bomb];
        msg = { format: bomb.startsWith('jpeg') && bomb !== 'jpeg-as-png' ? 'jpeg' : 'png', data };
        what = `compressed ${bomb}`;
      }
      s.conn.publish(cam.topic, msg);
      sent.push(`${cam.topic} ${what}`);
    }
    await s.syncAndCheck('hostile images');
    // A policy reads the pixels: that must neither block nor throw a bare TypeError/RangeError.
    const obs = s.driver.observe();
    for (const [name, img] of Object.entries(obs?.images ?? {})) {
      const t0 = performance.now();
      try {
        void img.data.length;
        void img.width;
      } catch (e) {
        if (e instanceof TypeError || e instanceof RangeError || e instanceof SyntaxError)
          s.crashes.push(`reading camera ${name} pixels: ${errorLine(e)}`);
      }
      const ms = performance.now() - t0;
      if (ms > 1000) s.fail('hang', `reading camera ${name} pixels took ${ms.toFixed(0)} ms`);
    }
    return sent.join('; ');
  },

  async disconnects(s) {
    const mode = s.rng.pick(['terminate', 'close-code', 'half-frame', 'storm'] as const);
    if (mode === 'terminate') s.conn.ws.terminate();
    else if (mode === 'close-code') s.conn.ws.close(s.rng.pick([1000, 1001, 1008, 1011, 4000, 4999]), 'fuzz');
    else if (mode === 'half-frame') {
      const sock = (s.conn.ws as unknown as { _socket?: { write(b: Uint8Array): void; destroy(): void } })
        ._socket;
      sock?.write(Uint8Array.from([0x81, 0x7e, 0x10, 0x00, 0x7b, 0x22]));
      await sleep(20);
      sock?.destroy();
    } else {
      for (let i = 0; i < 3; i++) {
        s.conn.ws.terminate();
        const c = await s.server.latestOpen(3000);
        if (!c) break;
        s.conn = c;
      }
      s.conn.ws.terminate();
    }
    return `connection ${mode === 'storm' ? 'dropped 4 times in a row' : mode === 'close-code' ? 'closed with a code' : mode === 'half-frame' ? 'cut in the middle of a frame' : 'terminated'}`;
  },

  async flood(s) {
    const n = s.rng.int(500, 3000);
    const target = s.randomState();
    for (let i = 1; i <= n; i++) {
      const t = i / n;
      const state = s.expected.map((v, k) => v + (target[k] - v) * t);
      s.sendState(s.conn, i === n ? target : state);
      if (i % 100 === 0) s.sendFrames(s.conn);
      if (i % 50 === 0) await yieldToLoop();
    }
    s.expected = target;
    await s.conn.flushed();
    await s.syncAndCheck(`a flood of ${n} valid state messages`);
    return `${n} valid state messages back to back, ending at a new state`;
  },
};

// ---- the campaign --------------------------------------------------------------------------------

function rejections(driver: RosbridgeRobot): number {
  let n = 0;
  const count = (o: unknown) => {
    for (const [k, v] of Object.entries((o ?? {}) as Record<string, unknown>))
      if (
        typeof v === 'number' &&
        /rejected|stale|repeated|malformed|unknown|oversized|dropped|callbackErrors/.test(k) &&
        !/commandsDropped/.test(k)
      )
        n += v;
  };
  count(driver.stats);
  count((driver.connection as { stats?: unknown }).stats);
  return n;
}

async function runSession(
  spec: RobotSpec,
  kind: (typeof ROSBRIDGE_KINDS)[number],
  rng: Rng,
  server: HostileServer,
  note: (what: string) => void,
): Promise<Verdict> {
  server.reset();
  const s = new Session(spec, rng, server);
  const heap0 = await heapBytes();
  s.driver = spec.create({ url: server.url, ...DRIVER_OPTIONS });
  const safety = new SafetyLayer(spec.embodiment, { observationTimeoutMs: 300 });
  let loop: NodeJS.Timeout | undefined;
  try {
    s.driver.connect();
    const c = await server.next(3000);
    if (!c) return { outcome: 'hang', detail: 'the driver never connected' };
    s.conn = c;
    if (!(await c.subscribed(s.topics, 3000)))
      return {
        outcome: 'hang',
        detail: `the driver did not subscribe to ${s.topics.filter((t) => !c.subs.has(t)).join(', ')}`,
      };
    // Baseline: a clean state and frames.
    const fresh = async (what: string): Promise<string | null> => {
      const end = Date.now() + 3000;
      for (;;) {
        s.sendState(s.conn, s.expected);
        s.sendFrames(s.conn);
        await sleep(30);
        const st = s.driver.status();
        const obs = s.driver.observe();
        const same = obs && s.expected.every((v, k) => Math.abs(obs.state[k] - v) <= 1e-9);
        if (st.connected && !st.stale && same) return null;
        if (Date.now() > end)
          return `${what}: not fresh within 3 s (status ${JSON.stringify(st)}, state ${same ? 'as sent' : obs ? 'differs from what was sent' : 'missing'})`;
      }
    };
    const base = await fresh('baseline');
    if (base) return { outcome: 'hang', detail: base };

    // A safety layer drives the robot all along, as a policy loop would.
    let started = false;
    loop = setInterval(() => {
      try {
        const obs = s.driver.observe();
        if (!obs) return;
        const now = Date.now();
        if (!started) {
          safety.start(obs.state, now);
          started = true;
        }
        safety.observe(obs.state, obs.timestampMs);
        const mid = spec.embodiment.dims.map((d) => (d.lower + d.upper) / 2);
        s.driver.command(safety.step(mid, now));
      } catch (e) {
        s.crashes.push(`control loop: ${errorLine(e)}`);
      }
    }, 33);

    const rejected0 = rejections(s.driver);
    note(await scripts[kind](s));

    // While the driver lives it may keep the newest frame per topic (up to two copies of the largest
    // frame); anything beyond that is retained input (pending fragments, queues).
    const during = (await heapBytes()) - heap0;
    const duringBound = HEAP_BOUND_BYTES + 2 * s.largestFrame;
    if (during > duringBound)
      s.fail(
        'leak',
        `heap grew by ${(during / 2 ** 20).toFixed(1)} MiB during the session (bound ${(duringBound / 2 ** 20).toFixed(1)} MiB, driver alive)`,
      );

    // A clean session: drop, reconnect, resubscribe, fresh again.
    s.conn.ws.terminate();
    const c2 = await server.latestOpen(4000);
    if (!c2) s.fail('hang', 'the driver did not reconnect after the hostile session');
    else {
      s.conn = c2;
      if (!(await c2.subscribed(s.topics, 3000)))
        s.fail(
          'hang',
          `the driver did not resubscribe after reconnecting (missing ${s.topics.filter((t) => !c2.subs.has(t)).join(', ')})`,
        );
      else {
        s.expected = s.randomState();
        const again = await fresh('clean session after the hostile one');
        if (again) s.fail('hang', again);
      }
    }
    clearInterval(loop);
    loop = undefined;
    const after = (await heapBytes()) - heap0;
    if (after > HEAP_BOUND_BYTES)
      s.fail(
        'leak',
        `heap still ${(after / 2 ** 20).toFixed(1)} MiB above its start after the clean session (bound ${HEAP_BOUND_BYTES / 2 ** 20} MiB, driver alive)`,
      );

    for (const op of server.published) {
      if (op.op !== 'publish' || !spec.commandTopics.includes(String(op.topic))) continue;
      const bad = badNumber(op.msg);
      if (bad) {
        s.fail('silent-change', `command published on ${String(op.topic)} with ${bad}`);
        break;
      }
    }
    if (s.crashes.length) return { outcome: 'crash', detail: s.crashes[0] };
    const order: Outcome[] = ['hang', 'silent-change', 'leak'];
    for (const o of order) {
      const f = s.failures.find((x) => x.outcome === o);
      if (f) return { outcome: o, detail: f.detail };
    }
    const r = rejections(s.driver) - rejected0;
    return r > 0
      ? { outcome: 'clear-error', detail: `${r} messages or frames refused and counted` }
      : { outcome: 'accepted' };
  } finally {
    if (loop) clearInterval(loop);
    s.driver.close();
    try {
      safety.stop();
    } catch {
      // a layer that never started has nothing to stop
    }
  }
}

/** Hostile rosbridge sessions against every driver. */
export function rosbridgeCampaign(): Campaign {
  const server = new HostileServer();
  const specs = robotSpecs();
  return {
    name: 'rosbridge',
    kinds: ROSBRIDGE_KINDS,
    maxEventLoopDelayMs: 2000,
    async setup() {
      await server.start();
      for (const mib of [2, 8, 17]) padding(mib);
    },
    makeCase(kind: string, ctx: CaseContext): FuzzCase {
      const stampedOnly = kind === 'replayed-stamps';
      const spec = ctx.rng.pick(specs.filter((x) => !stampedOnly || x.stamped));
      const fc: FuzzCase = {
        kind,
        description: `${spec.name} driver, ${kind}`,
        subjects: [],
        run: () =>
          runSession(spec, kind as (typeof ROSBRIDGE_KINDS)[number], ctx.rng, server, (what) => {
            fc.description = `${spec.name} driver: ${what}`;
          }),
      };
      return fc;
    },
    judgeError(error: unknown, fuzzCase: FuzzCase): Verdict {
      // Nothing may throw out of a driver session: there is no clear error here.
      return judgeByClass(error, fuzzCase, []);
    },
    async teardown() {
      await server.stop();
    },
  };
}
