import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
  fromPolicyActions,
  toAbsoluteChunk,
  toPolicyState,
  type ActionSource,
  type ChunkRequest,
  type CommittedActions,
  type Embodiment,
  type Observation,
} from '@vla/robot-core';
import { OpenpiError } from './openpiError.js';
import { ndarray } from './ndarray.js';
import { packOpenpi, unpackOpenpi } from './msgpackNumpy.js';
import { parseObservationDict } from './observationDict.js';

/** What the server runs for one connection: its own action source and episode state. */
export interface ServerEpisode {
  /** Answers this connection's requests. */
  readonly source: ActionSource;
  /** Called with each request's observation before the source is asked. */
  observe?(observation: Observation): void;
  /** Timing of the last answered request; reported as `policy_timing.infer_ms`. */
  readonly lastTiming?: { readonly inferMs: number };
  /** Called once when the connection ends. */
  close(): void;
}

/** Configuration of {@link PolicyServer.listen}. */
export interface PolicyServerOptions {
  /** Interface to bind. Default `127.0.0.1`. */
  readonly host?: string;
  /** TCP port; 0 (the default) picks a free one. */
  readonly port?: number;
  /** Sent (msgpack) to every client on connect. */
  readonly metadata: Record<string, unknown>;
  /** The robot whose observation dicts the server reads: state names and units, camera names. */
  readonly embodiment: Embodiment;
  /** Opens the episode of a new connection; closed when the connection ends. */
  readonly openEpisode: () => ServerEpisode;
  /** Message limits. Without `maxMessageBytes` there is no size limit (the openpi protocol has none). */
  readonly limits?: { readonly maxMessageBytes?: number; readonly maxImagePixels?: number };
  /**
   * The source's chunks are deltas on the embodiment's delta dims unless marked absolute, as the
   * ChunkExecutor's `actionsAreDelta`. Default true.
   */
  readonly actionsAreDelta?: boolean;
}

/** Counters of a {@link PolicyServer}. */
export interface PolicyServerStats {
  /** Connections open now. */
  readonly connections: number;
  /** Connections accepted since listen. */
  readonly totalConnections: number;
  /** Requests answered. */
  readonly requests: number;
  /** Connections ended with an error (1011). */
  readonly errors: number;
}

const CLOSE_INTERNAL_ERROR = 1011;
const CLOSE_GOING_AWAY = 1001;

/**
 * An openpi-protocol policy server: WebSocket + msgpack-numpy on one port, `GET /healthz` → 200 "OK".
 * On connect it sends the metadata and opens an episode; each binary message is an observation dict
 * (see the package README) answered, one at a time per connection, with
 * `{actions: float32 [H, n] robot units, policy_timing: {infer_ms}, server_timing: {infer_ms, prev_total_ms}}`.
 * Any error is sent as a text frame and the connection closed with 1011; other connections go on.
 */
export class PolicyServer {
  private readonly sockets = new Set<WebSocket>();
  private counters = { connections: 0, totalConnections: 0, requests: 0, errors: 0 };
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly options: PolicyServerOptions,
    private readonly http: Server,
    private readonly wss: WebSocketServer,
    /** The bound TCP port. */
    readonly port: number,
    /** `ws://host:port` of the server. */
    readonly url: string,
  ) {
    wss.on('connection', (ws) => this.accept(ws));
  }

  /** Binds and starts serving; resolves once listening. */
  static async listen(options: PolicyServerOptions): Promise<PolicyServer> {
    const limit = options.limits?.maxMessageBytes;
    if (limit !== undefined && !(Number.isSafeInteger(limit) && limit > 0)) {
      throw new OpenpiError(`PolicyServer: limits.maxMessageBytes must be a positive integer, got ${limit}`);
    }
    const http = createServer(healthz);
    // Messages up to 4× the limit are read and refused with a 1011 naming the limit; beyond that the
    // WebSocket layer drops them (1009) so a huge message is never buffered whole.
    const hardCap = limit === undefined || limit * 4 > 0x7fffffff ? 0 : limit * 4 + 4096;
    const wss = new WebSocketServer({ server: http, perMessageDeflate: false, maxPayload: hardCap });
    const host = options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(options.port ?? 0, host, () => {
        http.off('error', reject);
        resolve();
      });
    });
    const port = (http.address() as AddressInfo).port;
    const urlHost = host.includes(':') ? `[${host}]` : host;
    return new PolicyServer(options, http, wss, port, `ws://${urlHost}:${port}`);
  }

  /** Counters since listen. */
  get stats(): PolicyServerStats {
    return { ...this.counters };
  }

  /** Closes every connection (1001), closes their episodes and stops listening. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      for (const ws of this.sockets) ws.close(CLOSE_GOING_AWAY, 'server closing');
      this.wss.close(() => {
        this.http.close(() => resolve());
        this.http.closeAllConnections();
      });
      setTimeout(() => {
        for (const ws of this.sockets) ws.terminate();
      }, 1000).unref();
    });
    return this.closing;
  }

  private accept(ws: WebSocket): void {
    this.sockets.add(ws);
    this.counters.connections++;
    this.counters.totalConnections++;
    const o = this.options;
    let episode: ServerEpisode | undefined;
    let failed = false;
    let queue = Promise.resolve();
    let prevRows: Float64Array[] | undefined;
    let prevTotalMs: number | undefined;

    const fail = (e: unknown): void => {
      if (failed) return;
      failed = true;
      this.counters.errors++;
      const msg =
        e instanceof OpenpiError
          ? e.message
          : `${(e as Error)?.name ?? 'Error'}: ${(e as Error)?.message ?? String(e)}`;
      if (ws.readyState === ws.OPEN) {
        ws.send(msg);
        ws.close(CLOSE_INTERNAL_ERROR, 'Internal server error. Message in previous frame.');
      }
    };
    ws.on('error', () => {
      // ws closes the socket itself (e.g. 1009 over the hard cap); nothing may escape as an uncaught error.
    });
    ws.on('close', () => {
      this.sockets.delete(ws);
      this.counters.connections--;
      failed = true;
      try {
        episode?.close();
      } catch {
        // A failing episode close must not take the server down.
      }
    });

    try {
      episode = o.openEpisode();
      ws.send(packOpenpi(o.metadata));
    } catch (e) {
      fail(e);
      return;
    }
    const ep = episode;

    const handle = async (data: RawData, isBinary: boolean): Promise<void> => {
      if (failed) return;
      const start = performance.now();
      if (!isBinary) throw new OpenpiError('expected a binary msgpack message, got a text frame');
      const bytes = toBytes(data);
      const limit = o.limits?.maxMessageBytes;
      if (limit !== undefined && bytes.byteLength > limit) {
        throw new OpenpiError(
          `message of ${bytes.byteLength} bytes exceeds limits.maxMessageBytes = ${limit}`,
        );
      }
      const parsed = parseObservationDict(o.embodiment, unpackOpenpi(bytes), start, o.limits);
      const obs = parsed.observation;
      ep.observe?.(obs);
      const base: ChunkRequest = {
        robotType: o.embodiment.robotType,
        state: toPolicyState(o.embodiment, obs.state),
        images: obs.images,
        timestampMs: obs.timestampMs,
        ...(parsed.prompt !== undefined ? { prompt: parsed.prompt } : {}),
      };
      const committed = buildCommitted(o.embodiment, prevRows, parsed.actionsExecuted, parsed.inferenceDelay);
      const request: ChunkRequest = committed ? { ...base, committed } : base;
      const t0 = performance.now();
      const chunk = await ep.source(request);
      const inferMs = performance.now() - t0;
      if (failed) return;
      let rows: Float64Array[];
      try {
        rows = fromPolicyActions(o.embodiment, chunk, obs.state, {
          delta: chunk.absolute === true ? false : (o.actionsAreDelta ?? true),
        });
      } catch (e) {
        throw new OpenpiError(`action source returned a bad chunk: ${(e as Error).message}`);
      }
      const n = o.embodiment.dims.length;
      const actions = new Float32Array(rows.length * n);
      rows.forEach((r, h) => actions.set(r, h * n));
      const serverTiming: Record<string, number> = { infer_ms: inferMs };
      if (prevTotalMs !== undefined) serverTiming.prev_total_ms = prevTotalMs;
      const reply = {
        actions: ndarray(actions, [rows.length, n], '<f4'),
        policy_timing: { infer_ms: ep.lastTiming?.inferMs ?? inferMs },
        server_timing: serverTiming,
      };
      prevRows = rows;
      await new Promise<void>((resolve, reject) =>
        ws.send(packOpenpi(reply), (err) => (err ? reject(err) : resolve())),
      );
      this.counters.requests++;
      prevTotalMs = performance.now() - start;
    };

    ws.on('message', (data, isBinary) => {
      // One request at a time per connection: later messages wait for the earlier reply.
      queue = queue.then(() => handle(data, isBinary)).catch(fail);
    });
  }
}

function buildCommitted(
  e: Embodiment,
  prevRows: Float64Array[] | undefined,
  executed: number | undefined,
  delay: number | undefined,
): CommittedActions | undefined {
  // Without a previous reply on this connection there is no plan to commit to.
  if (executed === undefined || prevRows === undefined) return undefined;
  if (executed > prevRows.length) {
    throw new OpenpiError(
      `observation "actions_executed" = ${executed} exceeds the ${prevRows.length} rows of the previous reply`,
    );
  }
  const horizon = prevRows.length - executed;
  if (horizon === 0) return undefined;
  const { actions, dim } = toAbsoluteChunk(e, prevRows.slice(executed));
  // CommittedActions needs d ≤ horizon; a client's over-estimate means the whole rest is committed.
  return { actions, horizon, dim, delaySteps: Math.min(delay ?? 0, horizon) };
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}

function healthz(req: IncomingMessage, res: ServerResponse): void {
  if (req.method === 'GET' && (req.url === '/healthz' || req.url?.startsWith('/healthz?'))) {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('OK\n');
  } else {
    res
      .writeHead(426, { 'content-type': 'text/plain' })
      .end('Upgrade Required: this is an openpi WebSocket policy server\n');
  }
}
