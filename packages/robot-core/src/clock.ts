/**
 * Time and timers, injectable so control loops run on a fake clock in tests. `now` is in milliseconds
 * on a monotonic scale; drivers, the safety layer and the executor must share one clock.
 */
export interface Clock {
  /** Current time in ms. */
  now(): number;
  /** Run `fn` after `ms` milliseconds; returns a handle for {@link Clock.clearTimeout}. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancel a timer; unknown handles are ignored. */
  clearTimeout(handle: unknown): void;
}

/** The real clock: `performance.now()` and the host's timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof globalThis.setTimeout>),
};

interface FakeTimer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/**
 * A manual clock. Time moves only through {@link FakeClock.advance}, which fires due timers in time
 * order (ties in creation order) and lets pending promise callbacks run after each, so async code driven
 * by timers behaves as it would in real time, deterministically.
 */
export class FakeClock implements Clock {
  private t: number;
  private nextId = 1;
  private timers: FakeTimer[] = [];

  /** Starts at `startMs` (default 0). */
  constructor(startMs = 0) {
    this.t = startMs;
  }

  /** Current fake time in ms. */
  now(): number {
    return this.t;
  }

  /** Schedule `fn` at now + max(0, ms). */
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ id, at: this.t + Math.max(0, Number.isFinite(ms) ? ms : 0), fn });
    return id;
  }

  /** Cancel a timer created by this clock. */
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== handle);
  }

  /** Number of timers not yet fired. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /**
   * Move time forward by `ms`, firing every timer that falls due on the way (including timers those
   * timers create), then set time to the end point. Resolves after the promise callbacks triggered by
   * the last timer have run.
   */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new Error(`FakeClock.advance: ms must be >= 0, got ${ms}`);
    const end = this.t + ms;
    await flushMicrotasks();
    for (;;) {
      let next: FakeTimer | undefined;
      for (const x of this.timers)
        if (x.at <= end && (!next || x.at < next.at || (x.at === next.at && x.id < next.id))) next = x;
      if (!next) break;
      const fire = next;
      this.timers = this.timers.filter((x) => x !== fire);
      this.t = Math.max(this.t, fire.at);
      fire.fn();
      await flushMicrotasks();
    }
    this.t = end;
    await flushMicrotasks();
  }
}

// A macrotask boundary: every promise callback queued so far has run once it resolves.
function flushMicrotasks(): Promise<void> {
  const g = globalThis as { setImmediate?: (fn: () => void) => unknown };
  if (typeof g.setImmediate === 'function') return new Promise((r) => g.setImmediate!(r));
  return new Promise((r) => globalThis.setTimeout(r, 0));
}
