import { systemClock, type Clock } from '../clock.js';
import { backoffDelayMs, type BackoffOptions } from './backoff.js';
import { FragmentAssembler, type FragmentLimits } from './fragmentAssembler.js';
import { defaultWebSocketFactory, type WebSocketFactory, type WebSocketLike } from './webSocket.js';

/** Where a {@link RosbridgeConnection} stands. */
export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'waiting' | 'closed';

/** Options of a {@link RosbridgeConnection}. */
export interface RosbridgeConnectionOptions {
  /** rosbridge WebSocket URL, e.g. `ws://robot:9090`. */
  readonly url: string;
  /** Clock for the backoff, connect and fragment-expiry timers. Default {@link systemClock}. */
  readonly clock?: Clock;
  /** Reconnect backoff. */
  readonly backoff?: BackoffOptions;
  /**
   * Largest incoming frame in bytes. In Node (`ws`) a larger frame is refused before it is buffered and
   * the socket is closed (code 1009, then a normal reconnect); elsewhere it is dropped unparsed.
   * Default 16 MiB.
   */
  readonly maxFrameBytes?: number;
  /** Caps on `fragment` reassembly. */
  readonly fragments?: FragmentLimits;
  /** An attempt whose handshake has not completed after this long (ms) is abandoned and retried. Default 5000. */
  readonly connectTimeoutMs?: number;
  /** How sockets are opened. Default {@link defaultWebSocketFactory}. */
  readonly createSocket?: WebSocketFactory;
}

/** Options of one subscription. */
export interface SubscribeOptions {
  /** rosbridge `queue_length`; 1 keeps only the newest message when the client lags. Default 1. */
  readonly queueLength?: number;
  /** rosbridge `throttle_rate` in ms. Default 0. */
  readonly throttleMs?: number;
}

/** A topic this connection publishes on. */
export interface RosPublisher<T> {
  /** Topic name. */
  readonly topic: string;
  /** Publish now; returns false (and sends nothing) while disconnected, so stale commands never queue up. */
  publish(msg: T): boolean;
  /** Stop publishing: unadvertise now and after reconnects. */
  unadvertise(): void;
}

/** Counters of a {@link RosbridgeConnection}. */
export interface ConnectionStats {
  /** Connection attempts started (the first one included). */
  attempts: number;
  /** Successful connections. */
  connects: number;
  /** Drops of an established connection. */
  disconnects: number;
  /** Every backoff delay scheduled, in order (ms). */
  delays: number[];
  /** `publish` ops handed to at least one subscription. */
  messages: number;
  /** `publish` ops for a topic nobody here subscribes to. */
  unroutedMessages: number;
  /** Frames that were not JSON objects with a string `op`, ops with malformed fields, and binary frames. */
  malformedFrames: number;
  /** Ops this client does not handle (`service_response`, `png`, anything invented). */
  unknownOps: number;
  /** `status` ops received. */
  statusMessages: number;
  /** Frames over `maxFrameBytes` (dropped, or refused by the socket which then closed). */
  oversizedFrames: number;
  /** Messages reassembled from fragments. */
  fragmentedMessages: number;
  /** Incomplete fragmented messages dropped (expired, evicted, oversized, inconsistent or malformed). */
  droppedFragmentMessages: number;
  /** Incomplete fragmented messages held right now. */
  pendingFragmentMessages: number;
  /** Characters held by them right now. */
  pendingFragmentBytes: number;
  /** Subscription callbacks that threw (caught; never reach the event loop). */
  callbackErrors: number;
  /** The last `status` op as `level: msg` (truncated). */
  lastStatus?: string;
  /** Why the last frame was dropped or the last attempt failed (truncated). */
  lastError?: string;
}

interface Sub {
  readonly id: string;
  readonly topic: string;
  readonly messageType: string;
  readonly cb: (msg: unknown) => void;
  readonly opts: SubscribeOptions;
}

interface Pub {
  readonly id: string;
  readonly topic: string;
  readonly messageType: string;
}

type Op = Readonly<Record<string, unknown>>;

const isRecord = (x: unknown): x is Op => typeof x === 'object' && x !== null && !Array.isArray(x);
const clip = (s: string) => (s.length > 200 ? `${s.slice(0, 200)}…` : s);

/**
 * A rosbridge v2 client over a plain WebSocket that never gives up: after a drop (or a failed attempt)
 * it retries with exponential backoff on the injected clock until {@link RosbridgeConnection.close}.
 *
 * Every (re)connect sends `subscribe` for every live subscription and `advertise` for every publisher.
 * Incoming `publish` ops are routed to subscriptions by topic through a map, never through event
 * names, so nothing a peer sends can pose as a connection event. `fragment` ops are reassembled within
 * {@link FragmentLimits}; `status` ops are counted; unknown ops, binary frames and malformed JSON are
 * counted and ignored, and a throwing callback is caught. Publishing while disconnected is refused
 * rather than queued, so no backlog of old commands is flushed on reconnect.
 */
export class RosbridgeConnection {
  /** Connection URL. */
  readonly url: string;
  private readonly clock: Clock;
  private readonly backoff: BackoffOptions;
  private readonly maxFrameBytes: number;
  private readonly connectTimeoutMs: number;
  private readonly createSocket: WebSocketFactory;
  private readonly fragments: FragmentAssembler;
  private current: ConnectionState = 'idle';
  private attempt = 0;
  private session = 0;
  private socket: WebSocketLike | undefined;
  private retryTimer: unknown;
  private connectTimer: unknown;
  private nextId = 0;
  private readonly subs = new Map<string, Sub[]>();
  private readonly pubs = new Set<Pub>();
  private readonly listeners = new Set<(s: ConnectionState) => void>();
  private readonly counters: Omit<ConnectionStats, 'pendingFragmentMessages' | 'pendingFragmentBytes'> = {
    attempts: 0,
    connects: 0,
    disconnects: 0,
    delays: [],
    messages: 0,
    unroutedMessages: 0,
    malformedFrames: 0,
    unknownOps: 0,
    statusMessages: 0,
    oversizedFrames: 0,
    fragmentedMessages: 0,
    droppedFragmentMessages: 0,
    callbackErrors: 0,
  };

  /** Creates the connection; nothing happens until {@link RosbridgeConnection.open}. */
  constructor(options: RosbridgeConnectionOptions) {
    this.url = options.url;
    this.clock = options.clock ?? systemClock;
    this.backoff = options.backoff ?? {};
    backoffDelayMs(0, this.backoff); // validate early
    this.maxFrameBytes = options.maxFrameBytes ?? 16 * 1024 * 1024;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    if (!(this.maxFrameBytes > 0 && this.connectTimeoutMs > 0))
      throw new Error(
        `rosbridge ${this.url}: maxFrameBytes and connectTimeoutMs must be positive, got ${this.maxFrameBytes}, ${this.connectTimeoutMs}`,
      );
    this.createSocket = options.createSocket ?? defaultWebSocketFactory;
    this.fragments = new FragmentAssembler(
      { maxMessageBytes: this.maxFrameBytes, ...options.fragments },
      this.clock,
    );
  }

  /** Current state. */
  get state(): ConnectionState {
    return this.current;
  }

  /** True while the socket is open. */
  get connected(): boolean {
    return this.current === 'connected';
  }

  /** A copy of the counters. */
  get stats(): ConnectionStats {
    return {
      ...this.counters,
      delays: [...this.counters.delays],
      fragmentedMessages: this.fragments.completed,
      droppedFragmentMessages: this.fragments.dropped,
      pendingFragmentMessages: this.fragments.pending,
      pendingFragmentBytes: this.fragments.pendingBytes,
    };
  }

  /** Be told of every state change; returns an unsubscribe function. */
  onStateChange(listener: (s: ConnectionState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Start connecting (idempotent). */
  open(): void {
    if (this.current !== 'idle') return;
    this.tryConnect();
  }

  /** Stop for good: unsubscribe, unadvertise, close the socket, cancel retries. */
  close(): void {
    if (this.current === 'closed') return;
    const ws = this.socket;
    if (this.connected && ws) {
      for (const list of this.subs.values())
        for (const s of list) this.send({ op: 'unsubscribe', id: s.id, topic: s.topic });
      for (const p of this.pubs) this.send({ op: 'unadvertise', id: p.id, topic: p.topic });
    }
    this.endSocket();
    if (this.retryTimer !== undefined) this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.fragments.clear();
    this.setState('closed');
  }

  /** Subscribe to a topic; `cb` gets each message object. Returns a function that unsubscribes. */
  subscribe<T>(
    topic: string,
    messageType: string,
    cb: (msg: T) => void,
    opts: SubscribeOptions = {},
  ): () => void {
    const sub: Sub = {
      id: `subscribe:${topic}:${++this.nextId}`,
      topic,
      messageType,
      cb: cb as (m: unknown) => void,
      opts,
    };
    const list = this.subs.get(topic) ?? [];
    list.push(sub);
    this.subs.set(topic, list);
    if (this.connected) this.sendSubscribe(sub);
    return () => {
      const l = this.subs.get(topic);
      const i = l ? l.indexOf(sub) : -1;
      if (i < 0) return;
      l!.splice(i, 1);
      if (l!.length === 0) this.subs.delete(topic);
      if (this.connected) this.send({ op: 'unsubscribe', id: sub.id, topic });
    };
  }

  /** A publisher for `topic` of `messageType`, advertised now if connected and on every reconnect. */
  advertise<T>(topic: string, messageType: string): RosPublisher<T> {
    const pub: Pub = { id: `advertise:${topic}:${++this.nextId}`, topic, messageType };
    this.pubs.add(pub);
    if (this.connected) this.sendAdvertise(pub);
    return {
      topic,
      publish: (msg: T) => {
        if (!this.connected || !this.pubs.has(pub)) return false;
        return this.send({ op: 'publish', id: pub.id, topic, msg });
      },
      unadvertise: () => {
        if (!this.pubs.delete(pub)) return;
        if (this.connected) this.send({ op: 'unadvertise', id: pub.id, topic });
      },
    };
  }

  private sendSubscribe(s: Sub): void {
    this.send({
      op: 'subscribe',
      id: s.id,
      topic: s.topic,
      type: s.messageType,
      queue_length: s.opts.queueLength ?? 1,
      throttle_rate: s.opts.throttleMs ?? 0,
    });
  }

  private sendAdvertise(p: Pub): void {
    this.send({ op: 'advertise', id: p.id, topic: p.topic, type: p.messageType });
  }

  private send(op: object): boolean {
    if (!this.socket) return false;
    try {
      this.socket.send(JSON.stringify(op));
      return true;
    } catch (e) {
      this.counters.lastError = clip(`send failed: ${String(e)}`);
      return false;
    }
  }

  private tryConnect(): void {
    this.retryTimer = undefined;
    if (this.current === 'closed') return;
    this.setState('connecting');
    this.counters.attempts++;
    const session = ++this.session;
    this.connectTimer = this.clock.setTimeout(() => {
      this.connectTimer = undefined;
      if (session === this.session && this.current === 'connecting') {
        this.counters.lastError = `connect timed out after ${this.connectTimeoutMs} ms`;
        this.onDrop(session);
      }
    }, this.connectTimeoutMs);
    let opening: Promise<WebSocketLike>;
    try {
      opening = Promise.resolve(this.createSocket(this.url, { maxFrameBytes: this.maxFrameBytes }));
    } catch (e) {
      opening = Promise.reject(e);
    }
    opening.then(
      (ws) => this.attach(ws, session),
      (e: unknown) => {
        this.counters.lastError = clip(`cannot open ${this.url}: ${String(e)}`);
        this.onDrop(session);
      },
    );
  }

  private attach(ws: WebSocketLike, session: number): void {
    if (session !== this.session || this.current !== 'connecting') {
      silence(ws);
      return;
    }
    this.socket = ws;
    try {
      ws.binaryType = 'arraybuffer';
    } catch {
      // read-only on some sockets; binary frames are dropped either way
    }
    // A close event follows every error; the retry is scheduled there. `ws` reports a frame over
    // maxPayload as this error (the close code is then 1006); a 1009 close says the same.
    let refused = false;
    const oversized = () => {
      if (refused) return;
      refused = true;
      this.counters.oversizedFrames++;
      this.counters.lastError = `frame over ${this.maxFrameBytes} bytes refused; socket closed`;
    };
    ws.onerror = (ev) => {
      const code = (ev as { error?: { code?: unknown } } | null)?.error?.code;
      if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') oversized();
    };
    ws.onclose = (ev) => {
      if (ev?.code === 1009) oversized();
      this.onDrop(session);
    };
    ws.onopen = () => {
      if (session !== this.session || this.current !== 'connecting') return;
      if (this.connectTimer !== undefined) this.clock.clearTimeout(this.connectTimer);
      this.connectTimer = undefined;
      this.attempt = 0;
      this.counters.connects++;
      this.fragments.clear();
      this.setState('connected');
      for (const list of this.subs.values()) for (const s of list) this.sendSubscribe(s);
      for (const p of this.pubs) this.sendAdvertise(p);
    };
    ws.onmessage = (ev) => {
      if (session === this.session && this.current === 'connected') this.onFrame(ev?.data);
    };
  }

  private onFrame(data: unknown): void {
    if (typeof data !== 'string') {
      this.counters.malformedFrames++; // binary (CBOR, PNG compression) was never requested
      return;
    }
    if (data.length > this.maxFrameBytes) {
      this.counters.oversizedFrames++;
      this.counters.lastError = `frame of ${data.length} characters over ${this.maxFrameBytes} dropped`;
      return;
    }
    let op: unknown;
    try {
      op = JSON.parse(data);
    } catch {
      this.malformed(`not JSON: ${data.slice(0, 40)}`);
      return;
    }
    this.handle(op, true);
  }

  private handle(op: unknown, outer: boolean): void {
    if (!isRecord(op) || typeof op.op !== 'string') {
      this.malformed('not an object with a string "op"');
      return;
    }
    switch (op.op) {
      case 'publish':
        this.route(op);
        return;
      case 'fragment': {
        if (!outer) {
          this.malformed('fragment inside a fragment');
          return;
        }
        const r = this.fragments.add(op);
        if (r.kind === 'dropped') this.counters.lastError = clip(r.reason);
        if (r.kind !== 'complete') return;
        let whole: unknown;
        try {
          whole = JSON.parse(r.text);
        } catch {
          this.malformed(`reassembled fragment ${String(op.id)} is not JSON`);
          return;
        }
        this.handle(whole, false);
        return;
      }
      case 'status':
        this.counters.statusMessages++;
        this.counters.lastStatus = clip(`${String(op.level)}: ${String(op.msg)}`);
        return;
      default:
        this.counters.unknownOps++;
    }
  }

  private route(op: Op): void {
    const { topic, msg } = op;
    if (typeof topic !== 'string' || !isRecord(msg)) {
      this.malformed('publish needs a string topic and an object msg');
      return;
    }
    const list = this.subs.get(topic);
    if (!list || list.length === 0) {
      this.counters.unroutedMessages++;
      return;
    }
    this.counters.messages++;
    for (const s of [...list]) {
      try {
        s.cb(msg);
      } catch (e) {
        this.counters.callbackErrors++;
        this.counters.lastError = clip(`callback for ${topic} threw: ${String(e)}`);
      }
    }
  }

  private malformed(why: string): void {
    this.counters.malformedFrames++;
    this.counters.lastError = clip(why);
  }

  private onDrop(session: number): void {
    if (session !== this.session || this.current === 'closed' || this.current === 'waiting') return;
    if (this.current === 'connected') this.counters.disconnects++;
    this.endSocket();
    this.fragments.clear();
    const delay = backoffDelayMs(this.attempt++, this.backoff);
    this.counters.delays.push(delay);
    this.setState('waiting');
    this.retryTimer = this.clock.setTimeout(() => this.tryConnect(), delay);
  }

  // Detach and close the current socket: its late events must not touch a newer session.
  private endSocket(): void {
    if (this.connectTimer !== undefined) this.clock.clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    const ws = this.socket;
    this.socket = undefined;
    this.session++;
    if (ws) silence(ws);
  }

  private setState(s: ConnectionState): void {
    if (s === this.current) return;
    this.current = s;
    for (const l of [...this.listeners]) l(s);
  }
}

function silence(ws: WebSocketLike): void {
  ws.onopen = null;
  ws.onmessage = null;
  ws.onclose = null;
  ws.onerror = () => {};
  try {
    ws.close(1000);
  } catch {
    // already closed
  }
}
