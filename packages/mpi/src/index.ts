/** Open MPI collectives for Node: barrier, broadcast and sum all-reduce on typed arrays in place. */
export { Mpi, MPI_TIMEOUT_EXIT_CODE, type MpiInitOptions } from './mpi';
export { MpiError } from './mpiError';
export { mpiLaunch, type MpiLaunch } from './mpiLaunch';
export { DEFAULT_TIMEOUT_MS } from './collectiveTimeout';
export { type SummableArray } from './elementTypes';
export { localMpirunArgs } from './localMpirunArgs';
