// A rosbridge server on 127.0.0.1 that can say anything: well-formed publishes, raw text and binary
// frames, abrupt closes. It records what each client sends (subscriptions, advertised and published
// commands) so the campaign can check the client's side of the protocol.
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/** One client connection as the server sees it. */
export class ServerConn {
  /** Topic → type of the client's live subscriptions. */
  readonly subs = new Map<string, string>();
  private waiters: (() => void)[] = [];

  /** `record` receives every `publish` op the client sends. */
  constructor(
    readonly ws: WebSocket,
    record: (op: Record<string, unknown>) => void,
  ) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let op: Record<string, unknown>;
      try {
        op = JSON.parse(String(data)) as Record<string, unknown>;
      } catch {
        return;
      }
      if (op.op === 'publish') record(op);
      if (op.op === 'subscribe') this.subs.set(String(op.topic), String(op.type));
      if (op.op === 'unsubscribe') this.subs.delete(String(op.topic));
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('close', () => {
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** True while the socket is open. */
  get open(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  /** Resolves once the client subscribed to every topic; false after `timeoutMs` or a close. */
  async subscribed(topics: readonly string[], timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (!topics.every((t) => this.subs.has(t))) {
      if (!this.open || Date.now() > end) return false;
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(1, end - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return true;
  }

  /** Sends a text or binary frame if the socket is open. */
  send(data: string | Uint8Array): void {
    if (this.open) this.ws.send(data, { binary: typeof data !== 'string' });
  }

  /** Sends a rosbridge `publish` op. */
  publish(topic: string, msg: unknown): void {
    this.send(JSON.stringify({ op: 'publish', topic, msg }));
  }

  /** Resolves when everything queued has been handed to the OS. */
  async flushed(timeoutMs = 5000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (this.open && this.ws.bufferedAmount > 0 && Date.now() < end)
      await new Promise((r) => setTimeout(r, 2));
  }
}

/**
 * The server; connections are handed out in arrival order. Closed connections are forgotten at
 * once (what they buffered must not count against the driver's memory).
 */
export class HostileServer {
  private wss: WebSocketServer | undefined;
  /** Connections not handed out yet. */
  private readonly pending: ServerConn[] = [];
  /** Every open connection. */
  private readonly live = new Set<ServerConn>();
  private waiters: (() => void)[] = [];
  /** `publish` ops clients sent since the last {@link HostileServer.reset}. */
  published: Record<string, unknown>[] = [];
  url = '';

  /** Listens on 127.0.0.1 (random port). */
  async start(): Promise<void> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 64 * 2 ** 20 });
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    this.url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    wss.on('connection', (ws) => {
      const c = new ServerConn(ws, (op) => this.published.push(op));
      this.live.add(c);
      this.pending.push(c);
      ws.on('close', () => {
        this.live.delete(c);
        const i = this.pending.indexOf(c);
        if (i >= 0) this.pending.splice(i, 1);
      });
      for (const w of this.waiters.splice(0)) w();
    });
    this.wss = wss;
  }

  /** Closes every connection and forgets what clients sent: the next case starts clean. */
  reset(): void {
    for (const c of this.live) c.ws.terminate();
    this.live.clear();
    this.pending.length = 0;
    this.published = [];
  }

  /** The next connection not handed out yet, or null after `timeoutMs`. */
  async next(timeoutMs: number): Promise<ServerConn | null> {
    const end = Date.now() + timeoutMs;
    while (!this.pending.length) {
      if (Date.now() > end) return null;
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(1, end - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.pending.shift()!;
  }

  /** The newest open connection not handed out yet (older ones are skipped), waiting up to `timeoutMs`. */
  async latestOpen(timeoutMs: number): Promise<ServerConn | null> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const open = this.pending.filter((c) => c.open);
      this.pending.length = 0;
      if (open.length) return open[open.length - 1];
      const c = await this.next(Math.max(1, end - Date.now()));
      if (c?.open) return c;
      if (Date.now() > end) return null;
    }
  }

  /** Stops listening. */
  async stop(): Promise<void> {
    this.reset();
    const wss = this.wss;
    this.wss = undefined;
    if (wss) await new Promise<void>((r) => wss.close(() => r()));
  }
}
