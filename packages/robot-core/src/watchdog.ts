/** Timeouts of a {@link Watchdog}, in ms. */
export interface WatchdogConfig {
  /** An observation older than this is stale. */
  readonly observationTimeoutMs: number;
  /** An action computed from an observation older than this is stale. */
  readonly actionTimeoutMs: number;
}

/**
 * Freshness bookkeeping for the safety layer. An observation is fresh while `now - last` is within the
 * timeout; timestamps from the future (beyond the timeout) or not finite count as stale, so a broken
 * clock never reads as fresh.
 */
export class Watchdog {
  private lastObservationMs = Number.NaN;

  /** Validates the timeouts (positive, finite). */
  constructor(readonly config: WatchdogConfig) {
    for (const [k, v] of Object.entries(config)) {
      if (!(v > 0) || !Number.isFinite(v))
        throw new Error(`Watchdog: ${k} must be a positive number, got ${v}`);
    }
  }

  /** Record an observation taken at `timestampMs`. Older timestamps than the newest are ignored. */
  noteObservation(timestampMs: number): void {
    if (!Number.isFinite(timestampMs)) return;
    if (Number.isNaN(this.lastObservationMs) || timestampMs > this.lastObservationMs)
      this.lastObservationMs = timestampMs;
  }

  /** Forget every observation (e.g. after the transport dropped). */
  clear(): void {
    this.lastObservationMs = Number.NaN;
  }

  /** Age of the newest observation at `nowMs` (Infinity before the first). */
  observationAgeMs(nowMs: number): number {
    return Number.isNaN(this.lastObservationMs) ? Infinity : nowMs - this.lastObservationMs;
  }

  /** True while the newest observation is within the timeout. */
  observationFresh(nowMs: number): boolean {
    return fresh(nowMs - this.lastObservationMs, this.config.observationTimeoutMs);
  }

  /** True when an action computed from an observation at `actionTimeMs` is still usable at `nowMs`. */
  actionFresh(actionTimeMs: number, nowMs: number): boolean {
    return fresh(nowMs - actionTimeMs, this.config.actionTimeoutMs);
  }
}

function fresh(age: number, timeout: number): boolean {
  return Number.isFinite(age) && age <= timeout && age >= -timeout;
}
