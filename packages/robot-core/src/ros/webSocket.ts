/** A handler slot of {@link WebSocketLike}; bivariant in the event, so DOM and `ws` sockets both fit. */
export type SocketHandler<E> = { handle(event: E): void }['handle'] | null;

/**
 * The part of a WHATWG `WebSocket` a {@link RosbridgeConnection} uses. The browser's `WebSocket` and
 * the `ws` package's `WebSocket` both fit.
 */
export interface WebSocketLike {
  /** `arraybuffer` is requested so binary frames never allocate Blobs; optional for minimal sockets. */
  binaryType?: string;
  /** Send one text frame. */
  send(data: string): void;
  /** Start the closing handshake. */
  close(code?: number, reason?: string): void;
  /** The handshake completed. */
  onopen: SocketHandler<unknown>;
  /** One whole frame; `data` is a string for text frames. */
  onmessage: SocketHandler<{ readonly data: unknown }>;
  /** The socket is gone (`code` 1009: a frame exceeded the size cap). */
  onclose: SocketHandler<{ readonly code?: number }>;
  /** A transport error; a close event follows. */
  onerror: SocketHandler<unknown>;
}

/**
 * Opens a socket to `url`. `maxFrameBytes` is the incoming frame cap the socket should enforce before
 * buffering a frame, where it can (the `ws` package can, browsers cannot).
 */
export type WebSocketFactory = (
  url: string,
  options: { readonly maxFrameBytes: number },
) => WebSocketLike | Promise<WebSocketLike>;

interface WsModule {
  readonly WebSocket: new (url: string, options: { maxPayload: number }) => WebSocketLike;
}

// A variable specifier keeps bundlers from pulling `ws` (Node only) into browser builds.
const WS_MODULE = 'ws';
let wsModule: Promise<WsModule> | undefined;

const isNode = (): boolean =>
  typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';

/**
 * The default {@link WebSocketFactory}: the `ws` package in Node, where it enforces `maxFrameBytes`
 * as `maxPayload` before a frame is buffered (and is loaded on first use, never bundled); the global
 * `WebSocket` elsewhere (browsers, Deno, workers).
 */
export const defaultWebSocketFactory: WebSocketFactory = async (url, { maxFrameBytes }) => {
  if (isNode()) {
    wsModule ??= import(/* @vite-ignore */ /* webpackIgnore: true */ WS_MODULE) as Promise<WsModule>;
    const { WebSocket } = await wsModule;
    return new WebSocket(url, { maxPayload: maxFrameBytes });
  }
  const Global = (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket;
  if (!Global) throw new Error(`rosbridge ${url}: no WebSocket implementation in this environment`);
  return new Global(url);
};
