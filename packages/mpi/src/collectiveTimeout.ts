import { MpiError } from './mpiError';

/** Default limit on one collective: long enough for a slow first step, short enough to free a stuck job. */
export const DEFAULT_TIMEOUT_MS = 10 * 60 * 1000;

// setTimeout fires at once for delays above 2^31 − 1 ms.
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

function checked(value: number, from: string): number {
  if (!Number.isFinite(value) || value <= 0 || value > MAX_TIMEOUT_MS)
    throw new MpiError(
      `Mpi.init: ${from} must be a number of milliseconds in (0, ${MAX_TIMEOUT_MS}], got ${value}`,
    );
  return value;
}

/**
 * The per-collective timeout: `options.timeoutMs`, else the `VLA_MPI_TIMEOUT_MS` environment
 * variable, else {@link DEFAULT_TIMEOUT_MS}. Invalid values throw an {@link MpiError} naming the source.
 */
export function resolveTimeoutMs(
  timeoutMs: number | undefined,
  env: Readonly<Record<string, string | undefined>>,
): number {
  if (timeoutMs !== undefined) return checked(timeoutMs, 'timeoutMs');
  const fromEnv = env.VLA_MPI_TIMEOUT_MS;
  if (fromEnv === undefined || fromEnv === '') return DEFAULT_TIMEOUT_MS;
  if (!/^[0-9]+(\.[0-9]+)?$/.test(fromEnv.trim()))
    throw new MpiError(
      `Mpi.init: VLA_MPI_TIMEOUT_MS=${JSON.stringify(fromEnv)} is not a number of milliseconds`,
    );
  return checked(Number(fromEnv), 'VLA_MPI_TIMEOUT_MS');
}
