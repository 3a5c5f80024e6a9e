import { MpiError } from './mpiError';

/** Rank and world size of a process that `mpirun` started. */
export interface MpiLaunch {
  /** `OMPI_COMM_WORLD_RANK`. */
  rank: number;
  /** `OMPI_COMM_WORLD_SIZE`. */
  size: number;
}

function count(env: Readonly<Record<string, string | undefined>>, name: string): number {
  const value = env[name];
  if (value === undefined)
    throw new MpiError(`mpiLaunch: ${name} is not set but the other Open MPI variable is`);
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value)))
    throw new MpiError(`mpiLaunch: ${name}=${JSON.stringify(value)} is not a non-negative integer`);
  return Number(value);
}

/**
 * Whether this process was started by Open MPI's `mpirun`, read from `OMPI_COMM_WORLD_RANK` and
 * `OMPI_COMM_WORLD_SIZE` without loading the addon or initialising MPI, so a caller can decide
 * whether to call {@link Mpi.init} at all. Returns `null` when neither variable is set; throws an
 * {@link MpiError} naming the variable when only one is set or a value is not a valid count.
 */
export function mpiLaunch(env: Readonly<Record<string, string | undefined>> = process.env): MpiLaunch | null {
  if (env.OMPI_COMM_WORLD_RANK === undefined && env.OMPI_COMM_WORLD_SIZE === undefined) return null;
  const rank = count(env, 'OMPI_COMM_WORLD_RANK');
  const size = count(env, 'OMPI_COMM_WORLD_SIZE');
  if (size < 1 || rank >= size)
    throw new MpiError(`mpiLaunch: OMPI_COMM_WORLD_RANK=${rank} is not below OMPI_COMM_WORLD_SIZE=${size}`);
  return { rank, size };
}
