import { Ros, Topic } from 'roslib';
import { systemClock, type Clock } from '../clock.js';
import { backoffDelayMs, type BackoffOptions } from './backoff.js';

/** Where a {@link RosbridgeConnection} stands. */
export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'waiting' | 'closed';

/** Options of a {@link RosbridgeConnection}. */
export interface RosbridgeConnectionOptions {
  /** rosbridge WebSocket URL, e.g. `ws://robot:9090`. */
  readonly url: string;
  /** Clock for the backoff timers. Default {@link systemClock}. */
  readonly clock?: Clock;
  /** Reconnect backoff. */
  readonly backoff?: BackoffOptions;
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
}

interface Sub {
  readonly topic: string;
  readonly messageType: string;
  readonly cb: (msg: unknown) => void;
  readonly opts: SubscribeOptions;
  handle?: Topic<unknown>;
}

/**
 * A rosbridge v2 connection over roslib that never gives up: after a drop (or a failed attempt) it
 * retries with exponential backoff on the injected clock until {@link RosbridgeConnection.close}.
 * Subscriptions are sent on the first successful connection and resent by roslib after every
 * reconnect; publishers are advertised on first publish and re-advertised after reconnects. Publishing
 * while disconnected is refused rather than queued (roslib would otherwise flush a backlog of old
 * commands on reconnect).
 */
export class RosbridgeConnection {
  /** The roslib handle, for anything not wrapped here (services, params). */
  readonly ros: Ros;
  /** Connection URL. */
  readonly url: string;
  private readonly clock: Clock;
  private readonly backoff: BackoffOptions;
  private current: ConnectionState = 'idle';
  private attempt = 0;
  private timer: unknown;
  private everConnected = false;
  private readonly subs: Sub[] = [];
  private readonly topics = new Map<string, Topic<unknown>>();
  private readonly listeners = new Set<(s: ConnectionState) => void>();
  private readonly counters: ConnectionStats = { attempts: 0, connects: 0, disconnects: 0, delays: [] };

  /** Creates the connection; nothing happens until {@link RosbridgeConnection.open}. */
  constructor(options: RosbridgeConnectionOptions) {
    this.url = options.url;
    this.clock = options.clock ?? systemClock;
    this.backoff = options.backoff ?? {};
    backoffDelayMs(0, this.backoff); // validate early
    this.ros = new Ros({});
    this.ros.on('connection', () => this.onConnection());
    this.ros.on('close', () => this.onClose());
    this.ros.on('error', () => {
      // 'close' follows every transport error; retries are scheduled there.
    });
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
    return { ...this.counters, delays: [...this.counters.delays] };
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
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.connected) {
      for (const s of this.subs) s.handle?.unsubscribe();
      for (const t of this.topics.values()) t.unadvertise();
    }
    this.setState('closed');
    this.ros.close();
  }

  /** Subscribe to a topic; `cb` gets each message object. Returns a function that unsubscribes. */
  subscribe<T>(
    topic: string,
    messageType: string,
    cb: (msg: T) => void,
    opts: SubscribeOptions = {},
  ): () => void {
    const sub: Sub = { topic, messageType, cb: cb as (m: unknown) => void, opts };
    this.subs.push(sub);
    if (this.everConnected) this.attach(sub);
    return () => {
      const i = this.subs.indexOf(sub);
      if (i >= 0) this.subs.splice(i, 1);
      if (sub.handle) {
        if (this.connected) sub.handle.unsubscribe();
        else sub.handle.removeAllListeners();
      }
    };
  }

  /** A publisher for `topic` of `messageType`. */
  advertise<T>(topic: string, messageType: string): RosPublisher<T> {
    return {
      topic,
      publish: (msg: T) => {
        if (!this.connected) return false;
        let t = this.topics.get(topic);
        if (!t) {
          t = new Topic<unknown>({ ros: this.ros, name: topic, messageType, queue_size: 1 });
          this.topics.set(topic, t);
        }
        t.publish(msg);
        return true;
      },
    };
  }

  private attach(sub: Sub): void {
    // Created only once connected: roslib queues subscribes made earlier once per failed attempt,
    // which would send duplicates. After this roslib itself resubscribes on every reconnect.
    const t = new Topic<unknown>({
      ros: this.ros,
      name: sub.topic,
      messageType: sub.messageType,
      queue_length: sub.opts.queueLength ?? 1,
      throttle_rate: sub.opts.throttleMs ?? 0,
    });
    sub.handle = t;
    t.subscribe(sub.cb);
  }

  private tryConnect(): void {
    this.timer = undefined;
    if (this.current === 'closed') return;
    this.setState('connecting');
    this.counters.attempts++;
    this.ros.connect(this.url).catch(() => this.onClose());
  }

  private onConnection(): void {
    if (this.current === 'closed') return;
    this.attempt = 0;
    this.counters.connects++;
    this.setState('connected');
    if (!this.everConnected) {
      this.everConnected = true;
      for (const s of this.subs) this.attach(s);
    }
  }

  private onClose(): void {
    if (this.current === 'closed' || this.current === 'waiting') return;
    if (this.current === 'connected') this.counters.disconnects++;
    const delay = backoffDelayMs(this.attempt++, this.backoff);
    this.counters.delays.push(delay);
    this.setState('waiting');
    this.timer = this.clock.setTimeout(() => this.tryConnect(), delay);
  }

  private setState(s: ConnectionState): void {
    if (s === this.current) return;
    this.current = s;
    for (const l of this.listeners) l(s);
  }
}
