/**
 * Every failure of `@vla/mpi`: a call before {@link Mpi.init} or after {@link Mpi.finalize}, an
 * unsupported buffer, ranks that disagree on a length, or an MPI error code (with its
 * `MPI_Error_string`). The message starts with the operation, e.g. `allReduceSum: …`.
 */
export class MpiError extends Error {
  override name = 'MpiError';
}
