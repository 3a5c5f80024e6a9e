/**
 * Message-time bookkeeping for a group of feeds (the state feeds of one driver, or its cameras), so
 * freshness follows `header.stamp` and not arrival alone. Per feed, a stamped message must advance
 * past the feed's last accepted stamp; across the group, it must not lag the newest accepted stamp by
 * more than `maxLagMs`. Once a feed has delivered a stamp in a session, a message without one is
 * refused (dropping the header must not bypass the check). Unstamped feeds keep arrival time.
 */
export class StampGate {
  private readonly last: number[];
  private readonly stamped: boolean[];
  private newest = -Infinity;

  /** `feeds` feeds; `maxLagMs` Infinity compares each feed only with itself. */
  constructor(
    feeds: number,
    private readonly maxLagMs: number,
  ) {
    if (!(maxLagMs > 0)) throw new Error(`StampGate: maxLagMs must be positive, got ${maxLagMs}`);
    this.last = new Array<number>(feeds).fill(-Infinity);
    this.stamped = new Array<boolean>(feeds).fill(false);
  }

  /**
   * Why feed `k`'s message stamped `stampMs` (undefined: none) is not new, or undefined when it is.
   * Throws an Error when a stamp is missing on a feed that had stamps.
   */
  check(k: number, stampMs: number | undefined): string | undefined {
    if (stampMs === undefined) {
      if (this.stamped[k]) throw new Error('header.stamp missing on a feed that sent stamps');
      return undefined;
    }
    if (stampMs <= this.last[k]) return `header.stamp ${stampMs} ms does not advance past ${this.last[k]} ms`;
    if (this.newest - stampMs > this.maxLagMs)
      return `header.stamp ${stampMs} ms lags the newest ${this.newest} ms by more than ${this.maxLagMs} ms`;
    return undefined;
  }

  /**
   * Record an accepted message of feed `k` that arrived at `nowMs`; returns the time its data counts
   * as taken: arrival, moved back by how far its stamp lags the newest stamp of the group.
   */
  accept(k: number, stampMs: number | undefined, nowMs: number): number {
    if (stampMs === undefined) return nowMs;
    this.last[k] = stampMs;
    this.stamped[k] = true;
    this.newest = Math.max(this.newest, stampMs);
    return nowMs - (this.newest - stampMs);
  }

  /** Forget every stamp: a new session (reconnect, simulator restart) starts its own timeline. */
  reset(): void {
    this.last.fill(-Infinity);
    this.stamped.fill(false);
    this.newest = -Infinity;
  }
}
