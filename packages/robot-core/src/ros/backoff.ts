/** Exponential backoff settings; every field has a default. */
export interface BackoffOptions {
  /** Delay before the first retry (ms). Default 250. */
  readonly initialMs?: number;
  /** Upper bound on any delay (ms). Default 5000. */
  readonly maxMs?: number;
  /** Growth per failed attempt. Default 2. */
  readonly factor?: number;
  /** Fraction in [0, 1) of each delay removed at random, to spread reconnect storms. Default 0. */
  readonly jitter?: number;
}

/**
 * Delay before retry number `attempt` (0 for the first retry after a drop):
 * `min(maxMs, initialMs · factor^attempt) · (1 - jitter · random())`.
 */
export function backoffDelayMs(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const initial = options.initialMs ?? 250;
  const max = options.maxMs ?? 5000;
  const factor = options.factor ?? 2;
  const jitter = options.jitter ?? 0;
  if (!(initial > 0 && max >= initial && factor >= 1 && jitter >= 0 && jitter < 1)) {
    throw new Error(
      `backoff: need 0 < initialMs <= maxMs, factor >= 1, 0 <= jitter < 1; got ${JSON.stringify(options)}`,
    );
  }
  const base = Math.min(max, initial * Math.pow(factor, Math.max(0, attempt)));
  return base * (1 - jitter * random());
}
