/**
 * Test helpers for drivers (Node only; import from `@vla/robot-core/testing`). Not part of the
 * browser-safe main entry.
 * @packageDocumentation
 */
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/** A rosbridge v2 operation as received from a client. */
export interface RosbridgeOp {
  /** `advertise`, `subscribe`, `publish`, `unsubscribe`, `unadvertise`, ... */
  readonly op: string;
  readonly [field: string]: unknown;
}

interface Waiter {
  readonly pred: (op: RosbridgeOp) => boolean;
  readonly since: number;
  readonly resolve: (op: RosbridgeOp) => void;
}

/**
 * An in-process rosbridge v2 server on 127.0.0.1 for protocol tests: it records every operation clients
 * send, tracks per-client subscriptions and advertisements the way rosbridge does (forgotten when the
 * client's socket closes), publishes messages to subscribed clients, and can drop every client or go
 * away and come back on the same port to exercise reconnects.
 */
export class RosbridgeTestServer {
  /** Every operation received, in order, across all clients. */
  readonly received: RosbridgeOp[] = [];
  private wss: WebSocketServer | undefined;
  private readonly clients = new Map<WebSocket, { subs: Map<string, string>; ads: Map<string, string> }>();
  private waiters: Waiter[] = [];

  private constructor(private port: number) {}

  /** Listen on 127.0.0.1 at `port` (0 = a random free port). */
  static async start(port = 0): Promise<RosbridgeTestServer> {
    const s = new RosbridgeTestServer(port);
    await s.listen();
    return s;
  }

  /** `ws://127.0.0.1:<port>`. */
  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** Connected clients. */
  get clientCount(): number {
    return this.clients.size;
  }

  /** Topic → message type subscribed by any connected client. */
  subscriptions(): Map<string, string> {
    const out = new Map<string, string>();
    for (const c of this.clients.values()) for (const [t, ty] of c.subs) out.set(t, ty);
    return out;
  }

  /** Topic → message type advertised by any connected client. */
  advertisements(): Map<string, string> {
    const out = new Map<string, string>();
    for (const c of this.clients.values()) for (const [t, ty] of c.ads) out.set(t, ty);
    return out;
  }

  /** Send `msg` on `topic` to every client subscribed to it; returns how many got it. */
  publish(topic: string, msg: unknown): number {
    let n = 0;
    for (const [ws, c] of this.clients) {
      if (c.subs.has(topic)) {
        ws.send(JSON.stringify({ op: 'publish', topic, msg }));
        n++;
      }
    }
    return n;
  }

  /**
   * Send `data` as it is, one text frame (a string) or one binary frame (bytes), to every connected
   * client, subscribed or not, for hostile-server tests (forged ops, malformed JSON, fragments). Returns
   * how many clients got it.
   */
  sendRaw(data: string | Uint8Array): number {
    for (const ws of this.clients.keys()) ws.send(data, { binary: typeof data !== 'string' });
    return this.clients.size;
  }

  /**
   * The first operation at index ≥ `since` in {@link RosbridgeTestServer.received} matching `pred`;
   * waits for it up to `timeoutMs` (a guard against hanging tests, not a timing assertion).
   */
  waitFor(pred: (op: RosbridgeOp) => boolean, since = 0, timeoutMs = 5000): Promise<RosbridgeOp> {
    const hit = this.received.slice(since).find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const w: Waiter = { pred, since, resolve: (op) => (clearTimeout(timer), resolve(op)) };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`RosbridgeTestServer: no matching operation within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Close every client socket (the server keeps listening). */
  dropClients(): void {
    for (const ws of this.clients.keys()) ws.terminate();
    this.clients.clear();
  }

  /** Stop listening and drop every client. */
  async stop(): Promise<void> {
    this.dropClients();
    const wss = this.wss;
    this.wss = undefined;
    if (wss) await new Promise<void>((r) => wss.close(() => r()));
  }

  /** Listen again on the same port after {@link RosbridgeTestServer.stop}. */
  async restart(): Promise<void> {
    if (this.wss) return;
    await this.listen();
  }

  private async listen(): Promise<void> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: this.port });
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    this.port = (wss.address() as AddressInfo).port;
    this.wss = wss;
    wss.on('connection', (ws) => {
      const state = { subs: new Map<string, string>(), ads: new Map<string, string>() };
      this.clients.set(ws, state);
      ws.on('close', () => this.clients.delete(ws));
      ws.on('message', (data) => {
        let op: RosbridgeOp;
        try {
          op = JSON.parse(String(data)) as RosbridgeOp;
        } catch {
          return;
        }
        if (op.op === 'subscribe') state.subs.set(String(op.topic), String(op.type));
        if (op.op === 'unsubscribe') state.subs.delete(String(op.topic));
        if (op.op === 'advertise') state.ads.set(String(op.topic), String(op.type));
        if (op.op === 'unadvertise') state.ads.delete(String(op.topic));
        this.received.push(op);
        const index = this.received.length - 1;
        for (const w of [...this.waiters]) {
          if (index >= w.since && w.pred(op)) {
            this.waiters = this.waiters.filter((x) => x !== w);
            w.resolve(op);
          }
        }
      });
    });
  }
}

export {
  fuzzSafetyLayer,
  mulberry32,
  type SafetyFuzzOptions,
  type SafetyFuzzRates,
  type SafetyFuzzResult,
} from './safetyFuzz.js';
export {
  inspectMjcf,
  simulateMjcf,
  type MjDataLike,
  type MjModelLike,
  type MjcfDimFacts,
  type MjcfFacts,
  type MjcfRollout,
  type MujocoLike,
} from './mjcfInspection.js';

/**
 * Poll `cond` every few milliseconds of real time until it holds; rejects after `timeoutMs` (a guard
 * against hanging tests, not a timing assertion). For waiting on real sockets in protocol tests.
 */
export async function waitUntil(cond: () => boolean, what = 'condition', timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs)
      throw new Error(`waitUntil: ${what} not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 3));
  }
}
