// The dashboard's wire format, shared by the server (Node) and the page (browser): keep it free of
// Node imports. JSON text messages carry ticks, status and chunk timings; binary messages carry
// JPEG frames behind a small JSON header.

/** One dim of the robot as the page plots it (from the embodiment). */
export interface DashboardDim {
  readonly name: string;
  readonly kind: 'joint' | 'gripper';
  readonly unit: string;
  readonly lower: number;
  readonly upper: number;
}

/** Sent once per connection, first. */
export interface ConfigMessage {
  readonly type: 'config';
  readonly title: string;
  readonly robotType: string;
  readonly controlHz: number;
  readonly cameras: readonly string[];
  readonly dims: readonly DashboardDim[];
}

/** Control ticks batched since the last message (column per tick, row per dim in `state`/`command`). */
export interface TicksMessage {
  readonly type: 'ticks';
  readonly timestampMs: number[];
  /** Measured state per tick (robot units). */
  readonly state: number[][];
  /** Commanded target per tick (the SafeCommand's positions). */
  readonly command: number[][];
  /** The last tick's command reason (`ok`, or why the safety layer held). */
  readonly reason: string;
}

/** The controller's status (sent when it changes, and to every new page). */
export interface StatusMessage {
  readonly type: 'status';
  readonly running: boolean;
  readonly estopped: boolean;
  readonly instruction: string;
  readonly holdReason?: string;
  readonly message?: string;
}

/** A chunk arrived after `latencyMs`. */
export interface ChunkMessage {
  readonly type: 'chunk';
  readonly latencyMs: number;
  readonly timestampMs: number;
}

/** A control the page sent failed in the controller. */
export interface ErrorMessage {
  readonly type: 'error';
  readonly message: string;
}

/** Every JSON message the server sends. */
export type ServerMessage = ConfigMessage | TicksMessage | StatusMessage | ChunkMessage | ErrorMessage;

/**
 * What a binary message's image is: a live camera frame, the predicted frame for `targetTimestampMs`,
 * or the real frame that arrived at or after that target (`actual`).
 */
export type FrameKind = 'camera' | 'predicted' | 'actual';

/** The JSON header in front of a binary message's JPEG bytes. */
export interface FrameHeader {
  readonly kind: FrameKind;
  readonly camera: string;
  /** When the shown image was taken (for `predicted`: the observation it was predicted from). */
  readonly timestampMs: number;
  /** For `predicted` and `actual`: the time the prediction is for. */
  readonly targetTimestampMs?: number;
}

/** A control from the page. */
export type ControlMessage =
  | { readonly type: 'start' | 'stop' | 'estop' | 'reset-estop' }
  | { readonly type: 'instruction'; readonly text: string };

/** Longest instruction the page may send (characters). */
export const MAX_INSTRUCTION_LENGTH = 1000;

const SIMPLE_CONTROLS = new Set(['start', 'stop', 'estop', 'reset-estop']);

/**
 * Validates a text message from the page: returns the control, or undefined for anything else
 * (not JSON, not an object, an unknown type, an instruction that is not a string or is too long).
 */
export function parseControlMessage(text: string): ControlMessage | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const type = (v as { type?: unknown }).type;
  if (typeof type !== 'string') return undefined;
  if (SIMPLE_CONTROLS.has(type)) return { type: type as 'start' | 'stop' | 'estop' | 'reset-estop' };
  if (type === 'instruction') {
    const t = (v as { text?: unknown }).text;
    if (typeof t !== 'string' || t.length > MAX_INSTRUCTION_LENGTH) return undefined;
    return { type, text: t };
  }
  return undefined;
}

/** Binary message: u32 little-endian header length, the UTF-8 JSON header, then the JPEG bytes. */
export function packFrame(header: FrameHeader, jpeg: Uint8Array): Uint8Array {
  const h = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(4 + h.length + jpeg.length);
  new DataView(out.buffer).setUint32(0, h.length, true);
  out.set(h, 4);
  out.set(jpeg, 4 + h.length);
  return out;
}

/** Inverse of {@link packFrame}; throws on a truncated message. */
export function unpackFrame(bytes: Uint8Array): { header: FrameHeader; jpeg: Uint8Array } {
  if (bytes.length < 4)
    throw new Error(`dashboard frame: ${bytes.length} bytes, shorter than its length field`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  if (4 + n > bytes.length) throw new Error(`dashboard frame: header of ${n} bytes overruns ${bytes.length}`);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + n))) as FrameHeader;
  return { header, jpeg: bytes.subarray(4 + n) };
}
