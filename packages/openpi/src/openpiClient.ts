import WebSocket from 'ws';
import { OpenpiError } from './openpiError.js';
import { isNdArray, type NdArray } from './ndarray.js';
import { describe, packOpenpi, unpackOpenpi } from './msgpackNumpy.js';

/** A server's answer to one observation. */
export interface OpenpiReply {
  /** The action chunk, `[H, n]` (float32 robot units from a {@link PolicyServer}). */
  actions: NdArray;
  /** The policy's own timing. */
  policy_timing?: { infer_ms?: number; [key: string]: unknown };
  /** The server's timing: this inference and the previous request's total round trip on the server. */
  server_timing?: { infer_ms?: number; prev_total_ms?: number; [key: string]: unknown };
  /** Anything else the server sent. */
  [key: string]: unknown;
}

/** Options of {@link OpenpiClient.connect}. */
export interface OpenpiClientOptions {
  /** Give up connecting (and waiting for the metadata) after this long. Default 10 000 ms. */
  readonly connectTimeoutMs?: number;
  /** Largest message accepted from the server; 0 (the default) = no limit, as openpi-client. */
  readonly maxMessageBytes?: number;
}

type Pending = { resolve: (v: Uint8Array) => void; reject: (e: Error) => void };

/**
 * A client of an openpi policy server (this package's {@link PolicyServer} or upstream's
 * `serve_policy.py`): connect receives the metadata, {@link OpenpiClient.infer} sends one observation dict
 * and resolves with the reply. Calls are answered in order. No reconnect: once the server closes, every
 * call rejects with the server's error message (the text frame before a 1011 close) or the close code.
 */
export class OpenpiClient {
  private pending: Pending[] = [];
  private closedError: OpenpiError | undefined;
  private errorText: string | undefined;
  private closed: Promise<void>;

  private constructor(
    private readonly ws: WebSocket,
    /** What the server sent on connect. */
    readonly metadata: Record<string, unknown>,
  ) {
    this.closed = new Promise((resolve) => ws.once('close', () => resolve()));
    ws.on('message', (data, isBinary) => {
      if (!isBinary) {
        // The protocol's error report: a text frame, then a 1011 close.
        this.errorText = Buffer.isBuffer(data) ? data.toString('utf8') : String(data);
        return;
      }
      const p = this.pending.shift();
      p?.resolve(toBytes(data));
    });
    ws.on('close', (code, reason) => {
      const why = this.errorText ?? (reason.length ? reason.toString('utf8') : 'no reason given');
      this.closedError = new OpenpiError(`openpi server closed the connection (code ${code}): ${why}`);
      for (const p of this.pending.splice(0)) p.reject(this.closedError);
    });
    ws.on('error', () => {
      // Reported through 'close'.
    });
  }

  /** Connects to `ws://host:port` and waits for the server's metadata. */
  static connect(url: string, options: OpenpiClientOptions = {}): Promise<OpenpiClient> {
    const timeout = options.connectTimeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: options.maxMessageBytes ?? 0 });
      let errorText: string | undefined;
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new OpenpiError(`openpi: no metadata from ${url} within ${timeout} ms`));
      }, timeout);
      const onError = (e: Error): void => {
        clearTimeout(timer);
        reject(new OpenpiError(`openpi: cannot connect to ${url}: ${e.message}`));
      };
      const onClose = (code: number): void => {
        clearTimeout(timer);
        reject(
          new OpenpiError(
            `openpi: ${url} closed (code ${code}) before sending metadata${errorText ? `: ${errorText}` : ''}`,
          ),
        );
      };
      ws.once('error', onError);
      ws.once('close', onClose);
      const onMessage = (data: WebSocket.RawData, isBinary: boolean): void => {
        if (!isBinary) {
          errorText = Buffer.isBuffer(data) ? data.toString('utf8') : String(data);
          return;
        }
        ws.off('message', onMessage);
        ws.off('error', onError);
        ws.off('close', onClose);
        clearTimeout(timer);
        try {
          const meta = unpackOpenpi(toBytes(data));
          if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
            throw new OpenpiError(`openpi: metadata from ${url} is ${describe(meta)}, not a map`);
          }
          resolve(new OpenpiClient(ws, meta as Record<string, unknown>));
        } catch (e) {
          ws.terminate();
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      };
      ws.on('message', onMessage);
    });
  }

  /** Sends an observation dict (packed with {@link packOpenpi}) and resolves with the decoded reply. */
  async infer(observation: Record<string, unknown>): Promise<OpenpiReply> {
    if (this.closedError) throw this.closedError;
    if (this.ws.readyState !== WebSocket.OPEN) throw new OpenpiError('openpi: the connection is closing');
    const bytes = packOpenpi(observation);
    const answer = new Promise<Uint8Array>((resolve, reject) => this.pending.push({ resolve, reject }));
    this.ws.send(bytes);
    const reply = unpackOpenpi(await answer);
    if (
      typeof reply !== 'object' ||
      reply === null ||
      !isNdArray((reply as Record<string, unknown>).actions)
    ) {
      throw new OpenpiError(`openpi: reply has no "actions" ndarray (got ${describe(reply)})`);
    }
    return reply as OpenpiReply;
  }

  /** Closes the connection (1000) and resolves once it is closed. */
  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING)
      this.ws.close(1000);
    await this.closed;
  }
}

function toBytes(data: WebSocket.RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}
