import type { Clock } from '../clock.js';

/** Caps on rosbridge `fragment` reassembly; every field has a default. */
export interface FragmentLimits {
  /** Largest reassembled message in characters, 64 counted per fragment on top of its data. Default 16 MiB. */
  readonly maxMessageBytes?: number;
  /** Incomplete messages held at once; a new one beyond this evicts the oldest. Default 4. */
  readonly maxIncomplete?: number;
  /** An incomplete message is dropped this long (ms, on the injected clock) after its first fragment. Default 2000. */
  readonly expireMs?: number;
}

/** Why {@link FragmentAssembler.add} dropped a message, or what it returned. */
export type FragmentResult =
  | { readonly kind: 'pending' }
  | { readonly kind: 'complete'; readonly text: string }
  | { readonly kind: 'dropped'; readonly reason: string };

interface OpenMessage {
  readonly total: number;
  readonly startedMs: number;
  readonly parts: Map<number, string>;
  bytes: number;
}

// Each stored fragment costs its Map entry too, so empty fragments cannot grow memory for free.
const PER_FRAGMENT = 64;

/**
 * Reassembles rosbridge `fragment` ops (`id`, `num` in `[0, total)`, `total`, `data`) by id, within
 * caps: a message that would exceed `maxMessageBytes`, one whose fragments disagree on `total`, the
 * oldest incomplete one when more than `maxIncomplete` are open, and any left incomplete for
 * `expireMs` are dropped and counted. Expiry runs on a timer of the injected clock, so an abandoned
 * message is freed even if nothing else arrives.
 */
export class FragmentAssembler {
  /** Messages reassembled. */
  completed = 0;
  /** Incomplete messages dropped (expired, evicted, oversized or inconsistent). */
  dropped = 0;
  private readonly maxBytes: number;
  private readonly maxIncomplete: number;
  private readonly expireMs: number;
  private readonly open = new Map<string, OpenMessage>();
  private timer: unknown;

  /** Validates the limits. */
  constructor(
    limits: FragmentLimits,
    private readonly clock: Clock,
  ) {
    this.maxBytes = limits.maxMessageBytes ?? 16 * 1024 * 1024;
    this.maxIncomplete = limits.maxIncomplete ?? 4;
    this.expireMs = limits.expireMs ?? 2000;
    if (!(
      this.maxBytes > 0 &&
      Number.isInteger(this.maxIncomplete) &&
      this.maxIncomplete >= 1 &&
      this.expireMs > 0
    ))
      throw new Error(
        `fragments: need maxMessageBytes > 0, integer maxIncomplete >= 1, expireMs > 0; got ${JSON.stringify(limits)}`,
      );
  }

  /** Incomplete messages held now. */
  get pending(): number {
    return this.open.size;
  }

  /** Characters (plus per-fragment overhead) held by incomplete messages now. */
  get pendingBytes(): number {
    let n = 0;
    for (const p of this.open.values()) n += p.bytes;
    return n;
  }

  /** Add one `fragment` op; returns the whole message text once every fragment of its id is in. */
  add(op: Readonly<Record<string, unknown>>): FragmentResult {
    const { id, num, total, data } = op;
    if ((typeof id !== 'string' && typeof id !== 'number') || typeof data !== 'string')
      return this.drop(`fragment needs a string id and string data`);
    if (!(
      Number.isInteger(total) &&
      (total as number) >= 1 &&
      Number.isInteger(num) &&
      (num as number) >= 0 &&
      (num as number) < (total as number)
    ))
      return this.drop(`fragment ${String(id)}: num ${String(num)} / total ${String(total)} out of range`);
    const key = String(id);
    const cost = data.length + PER_FRAGMENT;
    if (total === 1) {
      if (cost > this.maxBytes) return this.drop(`fragment ${key}: ${data.length} characters exceed the cap`);
      this.completed++;
      return { kind: 'complete', text: data };
    }
    let p = this.open.get(key);
    if (p && p.total !== total) {
      this.open.delete(key);
      return this.drop(`fragment ${key}: total changed from ${p.total} to ${String(total)}`);
    }
    if (!p) {
      if (this.open.size >= this.maxIncomplete) {
        const oldest = this.open.keys().next().value as string;
        this.open.delete(oldest);
        this.dropped++;
      }
      p = { total: total as number, startedMs: this.clock.now(), parts: new Map(), bytes: 0 };
      this.open.set(key, p);
      this.arm();
    }
    const previous = p.parts.get(num as number);
    const bytes = p.bytes - (previous === undefined ? 0 : previous.length + PER_FRAGMENT) + cost;
    if (bytes > this.maxBytes) {
      this.open.delete(key);
      return this.drop(`fragment ${key}: message exceeds ${this.maxBytes} characters`);
    }
    p.parts.set(num as number, data);
    p.bytes = bytes;
    if (p.parts.size < p.total) return { kind: 'pending' };
    this.open.delete(key);
    const parts: string[] = [];
    for (let i = 0; i < p.total; i++) parts.push(p.parts.get(i)!);
    this.completed++;
    return { kind: 'complete', text: parts.join('') };
  }

  /** Drop every incomplete message older than `expireMs`; returns how many. */
  sweep(): number {
    const now = this.clock.now();
    let n = 0;
    for (const [key, p] of this.open) {
      if (now - p.startedMs >= this.expireMs) {
        this.open.delete(key);
        n++;
      }
    }
    this.dropped += n;
    return n;
  }

  /** Forget every incomplete message (a new connection starts clean); counted as dropped. */
  clear(): void {
    this.dropped += this.open.size;
    this.open.clear();
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private drop(reason: string): FragmentResult {
    this.dropped++;
    return { kind: 'dropped', reason };
  }

  // One timer at a time, due when the oldest incomplete message expires.
  private arm(): void {
    if (this.timer !== undefined || this.open.size === 0) return;
    let oldest = Infinity;
    for (const p of this.open.values()) oldest = Math.min(oldest, p.startedMs);
    this.timer = this.clock.setTimeout(
      () => {
        this.timer = undefined;
        this.sweep();
        this.arm();
      },
      Math.max(0, oldest + this.expireMs - this.clock.now()),
    );
  }
}
