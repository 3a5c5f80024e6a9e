import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { CameraFrame, Embodiment, SafeCommand } from '@vla/robot-core';
import { WebSocketServer, type WebSocket } from 'ws';
import { encodeJpeg, foresightToRgb, type RgbImage } from './dashboardImages.js';
import {
  packFrame,
  parseControlMessage,
  type ConfigMessage,
  type FrameHeader,
  type ServerMessage,
  type StatusMessage,
} from './dashboardMessages.js';
import { dashboardPageHtml } from './dashboardPage.js';

/** What the page's buttons and instruction box do; the controller wires them to its loop. */
export interface DashboardControls {
  /** The page's Start button. */
  start(): void;
  /** The page's Stop button. */
  stop(): void;
  /** The page's E-STOP button: latch the safety layer's e-stop. */
  emergencyStop(): void;
  /** The page's Reset e-stop button. */
  resetEmergencyStop(): void;
  /** The instruction box (at most 1000 characters). */
  setInstruction(text: string): void;
}

/** Options of {@link DashboardServer.listen}. */
export interface DashboardOptions {
  /** Interface to bind (default `127.0.0.1`: the page can start the robot, keep it local). */
  host?: string;
  /** Port (default 0: any free one). */
  port?: number;
  /** The robot: its dims' names and limits are plotted. */
  embodiment: Embodiment;
  /** Cameras shown (in this order). */
  cameras: readonly string[];
  /** Called for the page's controls. */
  controls: DashboardControls;
  /** Page title (default `vla-control: <robotType>`). */
  title?: string;
}

/** The foresight {@link DashboardServer.foresight} takes (a policy's decoded t+15 prediction). */
export interface DashboardForesight {
  /** `[views, 3, size, size]` in [-1, 1]. */
  images: Float32Array;
  /** Number of views (cameras) in `images`. */
  views: number;
  /** Side of each square view in pixels. */
  size: number;
  /** Camera of each view. */
  cameras: readonly string[];
  /** When the observation the prediction was made from was taken. */
  observationTimestampMs: number;
  /** The time the prediction is for (observation + 15 ticks). */
  targetTimestampMs: number;
}

/** Counters of a {@link DashboardServer}. */
export interface DashboardStats {
  /** Pages connected now. */
  clients: number;
  /** Binary frame messages sent (all clients). */
  framesSent: number;
  /** Frames not sent: throttled, superseded before encoding, or the client's socket was backed up. */
  framesDropped: number;
  /** Page messages ignored: not JSON, unknown type, malformed fields. */
  rejectedMessages: number;
  /** Controls that threw in the controller (the page is told). */
  controlErrors: number;
  /** Publications ignored because they were malformed (wrong image size, …). */
  invalidInputs: number;
  /** What was wrong with the last ignored publication. */
  lastProblem?: string;
  /** HTTP requests and upgrades refused (unknown Host or Origin). */
  refusedRequests: number;
}

/** Camera frames per camera per second at most (the page needs no more; encoding costs CPU). */
const MAX_FPS = 10;
/** Tick batches: 5 a second (the plots need no more; each redraw costs the page). */
const TICK_FLUSH_MS = 200;
/** Ticks buffered at most between flushes (older ones are dropped). */
const MAX_BUFFERED_TICKS = 600;
/** A client whose socket holds more than this gets no frames until it drains. */
const MAX_BUFFERED_BYTES = 1 << 20;

interface PendingImage {
  readonly header: FrameHeader;
  readonly image: () => RgbImage;
}

const isLoopbackOrIp = (hostname: string): boolean =>
  hostname === 'localhost' || /^[\d.]+$/.test(hostname) || hostname.startsWith('[');

/**
 * The controller's live dashboard: one local web page (served by node:http, everything inline) and a
 * WebSocket on the same port. The control loop publishes with {@link DashboardServer.frames},
 * {@link DashboardServer.foresight}, {@link DashboardServer.tick}, {@link DashboardServer.chunk} and
 * {@link DashboardServer.status}; these only copy and queue (encoding and sending run later on the event
 * loop, throttled to 10 fps per camera, skipped for sockets that are backed up), so the loop never
 * waits on a page. The page's controls come back as JSON and are validated; anything malformed is
 * ignored and counted.
 *
 * The page can start the robot, so requests are refused unless their Host is an IP address, `localhost`
 * or the bound host (no DNS rebinding), and WebSocket upgrades unless their Origin is the page's own
 * (no other web site can drive the controller through the browser).
 */
export class DashboardServer {
  /** The page's address, e.g. `http://127.0.0.1:8765/`. */
  readonly url: string;
  readonly #http: Server;
  readonly #wss: WebSocketServer;
  readonly #options: DashboardOptions;
  readonly #config: string;
  readonly #clients = new Set<WebSocket>();
  readonly #lastQueuedMs = new Map<string, number>();
  readonly #lastFrame = new Map<string, CameraFrame>();
  readonly #pending = new Map<string, PendingImage>();
  /** Per camera: the target time of the prediction still waiting for its real frame. */
  readonly #awaitingActual = new Map<string, number>();
  #ticks: { ts: number[]; state: number[][]; command: number[][]; reason: string } = {
    ts: [],
    state: [],
    command: [],
    reason: 'ok',
  };
  #status: string | undefined;
  #drainScheduled = false;
  #flushTimer: ReturnType<typeof setInterval>;
  #closed = false;
  readonly #stats: DashboardStats = {
    clients: 0,
    framesSent: 0,
    framesDropped: 0,
    rejectedMessages: 0,
    controlErrors: 0,
    invalidInputs: 0,
    refusedRequests: 0,
  };

  private constructor(http: Server, options: DashboardOptions, page: string, host: string, port: number) {
    this.#http = http;
    this.#options = options;
    this.url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
    const e = options.embodiment;
    const config: ConfigMessage = {
      type: 'config',
      title: options.title ?? `vla-control: ${e.robotType}`,
      robotType: e.robotType,
      controlHz: e.controlHz,
      cameras: [...options.cameras],
      dims: e.dims.map((d) => ({ name: d.name, kind: d.kind, unit: d.unit, lower: d.lower, upper: d.upper })),
    };
    this.#config = JSON.stringify(config);
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
    http.on('request', (req, res) => {
      if (!this.#allowed(req)) {
        this.#stats.refusedRequests++;
        res.writeHead(403).end();
        return;
      }
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (req.method !== 'GET' || path !== '/') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy':
          "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src blob: data:; connect-src 'self'",
      });
      res.end(page);
    });
    http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const origin = req.headers.origin;
      if (
        path !== '/ws' ||
        !this.#allowed(req) ||
        (origin !== undefined && origin !== `http://${req.headers.host}`)
      ) {
        this.#stats.refusedRequests++;
        socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
        return;
      }
      this.#wss.handleUpgrade(req, socket, head, (ws) => this.#connect(ws));
    });
    this.#flushTimer = setInterval(() => this.#flushTicks(), TICK_FLUSH_MS);
    this.#flushTimer.unref();
  }

  /** Starts serving the page (the port's listener is up when this resolves). */
  static async listen(options: DashboardOptions): Promise<DashboardServer> {
    const host = options.host ?? '127.0.0.1';
    const page = await dashboardPageHtml(options.title ?? `vla-control: ${options.embodiment.robotType}`);
    const http = createServer();
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(options.port ?? 0, host, () => {
        http.off('error', reject);
        resolve();
      });
    });
    const addr = http.address();
    if (!addr || typeof addr === 'string') {
      http.close();
      throw new Error(`dashboard: no TCP address after listening on ${host}`);
    }
    return new DashboardServer(http, options, page, host, addr.port);
  }

  /** A copy of the counters. */
  get stats(): DashboardStats {
    return { ...this.#stats, clients: this.#clients.size };
  }

  /**
   * The newest camera frames (RGB8 HWC) and when they were taken. Frames are copied now and encoded
   * later; a camera is sent at most 10 times a second and only while a page is open. A real frame at or
   * after a prediction's target time is also sent as that prediction's `actual t+15`.
   */
  frames(images: Readonly<Record<string, CameraFrame>>, timestampMs: number): void {
    if (this.#closed) return;
    for (const [camera, target] of this.#awaitingActual) {
      const f = images[camera];
      if (timestampMs >= target && f && this.#validFrame(camera, f)) {
        this.#awaitingActual.delete(camera);
        this.#queue({ kind: 'actual', camera, timestampMs, targetTimestampMs: target }, copyFrame(f));
      }
    }
    if (this.#clients.size === 0) return;
    const now = performance.now();
    for (const camera of this.#options.cameras) {
      const f = images[camera];
      if (!f) continue;
      // A driver that delivers slower than the loop ticks repeats its frame: send each one once.
      if (this.#lastFrame.get(camera) === f) continue;
      const last = this.#lastQueuedMs.get(camera);
      if (last !== undefined && now - last < 1000 / MAX_FPS) {
        this.#stats.framesDropped++;
        continue;
      }
      if (!this.#validFrame(camera, f)) continue;
      this.#lastQueuedMs.set(camera, now);
      this.#lastFrame.set(camera, f);
      this.#queue({ kind: 'camera', camera, timestampMs }, copyFrame(f));
    }
  }

  /** A decoded t+15 prediction: shown as `predicted t+15` until the real frame for its target arrives. */
  foresight(f: DashboardForesight): void {
    if (this.#closed) return;
    const { images, views, size, cameras } = f;
    if (
      !(Number.isInteger(views) && views > 0 && Number.isInteger(size) && size > 0) ||
      cameras.length !== views
    ) {
      this.#invalid(`foresight: ${views} views of size ${size} with ${cameras.length} camera names`);
      return;
    }
    if (images.length !== views * 3 * size * size) {
      this.#invalid(
        `foresight: images has ${images.length} values, expected [${views}, 3, ${size}, ${size}]`,
      );
      return;
    }
    const copy = images.slice();
    cameras.forEach((camera, view) => {
      this.#awaitingActual.set(camera, f.targetTimestampMs);
      this.#queue(
        {
          kind: 'predicted',
          camera,
          timestampMs: f.observationTimestampMs,
          targetTimestampMs: f.targetTimestampMs,
        },
        () => foresightToRgb(copy, views, size, view),
      );
    });
  }

  /** One control tick: the measured state and the command sent (batched to the page 5 times a second). */
  tick(t: { timestampMs: number; state: ArrayLike<number>; command: SafeCommand }): void {
    if (this.#closed || this.#clients.size === 0) return;
    const b = this.#ticks;
    b.ts.push(t.timestampMs);
    b.state.push(Array.from(t.state));
    b.command.push([...t.command.positions]);
    b.reason = t.command.reason;
    if (b.ts.length > MAX_BUFFERED_TICKS) {
      b.ts.shift();
      b.state.shift();
      b.command.shift();
    }
  }

  /** A chunk arrived `latencyMs` after it was requested. */
  chunk(t: { latencyMs: number; timestampMs: number }): void {
    if (this.#closed) return;
    this.#broadcast({ type: 'chunk', latencyMs: t.latencyMs, timestampMs: t.timestampMs });
  }

  /** The controller's status; sent when it changed (call it as often as convenient). */
  status(s: {
    running: boolean;
    estopped: boolean;
    instruction: string;
    holdReason?: string;
    message?: string;
  }): void {
    if (this.#closed) return;
    const m: StatusMessage = {
      type: 'status',
      running: s.running,
      estopped: s.estopped,
      instruction: s.instruction,
      ...(s.holdReason !== undefined ? { holdReason: s.holdReason } : {}),
      ...(s.message !== undefined ? { message: s.message } : {}),
    };
    const text = JSON.stringify(m);
    if (text === this.#status) return;
    this.#status = text;
    for (const ws of this.#clients) ws.send(text);
  }

  /** Disconnects every page and stops listening. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#flushTimer);
    for (const ws of this.#clients) ws.terminate();
    this.#clients.clear();
    this.#pending.clear();
    await new Promise<void>((r) => this.#wss.close(() => r()));
    this.#http.closeAllConnections();
    await new Promise<void>((r) => this.#http.close(() => r()));
  }

  #allowed(req: IncomingMessage): boolean {
    const host = req.headers.host;
    let ok = false;
    if (host !== undefined) {
      try {
        const name = new URL(`http://${host}`).hostname;
        ok = isLoopbackOrIp(name) || name === this.#options.host;
      } catch {
        ok = false;
      }
    }
    return ok;
  }

  #connect(ws: WebSocket): void {
    if (this.#closed) {
      ws.terminate();
      return;
    }
    this.#clients.add(ws);
    ws.send(this.#config);
    if (this.#status !== undefined) ws.send(this.#status);
    ws.on('message', (data, isBinary) => this.#onMessage(ws, isBinary ? undefined : data.toString()));
    ws.on('close', () => this.#clients.delete(ws));
    ws.on('error', () => this.#clients.delete(ws));
  }

  #onMessage(ws: WebSocket, text: string | undefined): void {
    const m = text === undefined ? undefined : parseControlMessage(text);
    if (!m) {
      this.#stats.rejectedMessages++;
      return;
    }
    const c = this.#options.controls;
    try {
      if (m.type === 'start') c.start();
      else if (m.type === 'stop') c.stop();
      else if (m.type === 'estop') c.emergencyStop();
      else if (m.type === 'reset-estop') c.resetEmergencyStop();
      else if (m.type === 'instruction') c.setInstruction(m.text);
    } catch (e) {
      this.#stats.controlErrors++;
      const message: ServerMessage = { type: 'error', message: `${m.type}: ${(e as Error).message}` };
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
    }
  }

  #validFrame(camera: string, f: CameraFrame): boolean {
    if (f.width > 0 && f.height > 0 && f.data.length === f.width * f.height * 3) return true;
    this.#invalid(`frame of camera "${camera}": ${f.data.length} bytes for ${f.width}×${f.height} RGB`);
    return false;
  }

  #invalid(problem: string): void {
    this.#stats.invalidInputs++;
    this.#stats.lastProblem = problem;
  }

  // Latest wins: a frame not yet encoded is replaced by a newer one of the same camera and kind.
  #queue(header: FrameHeader, image: () => RgbImage): void {
    const key = `${header.kind}:${header.camera}`;
    if (this.#pending.has(key)) this.#stats.framesDropped++;
    this.#pending.set(key, { header, image });
    if (!this.#drainScheduled) {
      this.#drainScheduled = true;
      setImmediate(() => this.#drain());
    }
  }

  #drain(): void {
    this.#drainScheduled = false;
    const items = [...this.#pending.values()];
    this.#pending.clear();
    if (this.#closed) return;
    for (const { header, image } of items) {
      const ready = [...this.#clients].filter((ws) => ws.bufferedAmount <= MAX_BUFFERED_BYTES);
      this.#stats.framesDropped += this.#clients.size - ready.length;
      if (ready.length === 0) continue;
      let bytes: Uint8Array;
      try {
        bytes = packFrame(header, encodeJpeg(image()));
      } catch (e) {
        this.#invalid((e as Error).message);
        continue;
      }
      for (const ws of ready) ws.send(bytes);
      this.#stats.framesSent += ready.length;
    }
  }

  #flushTicks(): void {
    const b = this.#ticks;
    if (b.ts.length === 0) return;
    this.#ticks = { ts: [], state: [], command: [], reason: b.reason };
    this.#broadcast({
      type: 'ticks',
      timestampMs: b.ts,
      state: b.state,
      command: b.command,
      reason: b.reason,
    });
  }

  #broadcast(m: ServerMessage): void {
    if (this.#clients.size === 0) return;
    const text = JSON.stringify(m);
    for (const ws of this.#clients) ws.send(text);
  }
}

// The driver may reuse its buffer for the next frame: the encoder must see this one.
function copyFrame(f: CameraFrame): () => RgbImage {
  const img = { width: f.width, height: f.height, data: f.data.slice() };
  return () => img;
}
