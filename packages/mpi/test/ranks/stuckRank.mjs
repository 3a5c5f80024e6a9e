// Run under `mpirun -np 2` with a small VLA_MPI_TIMEOUT_MS: rank 1 sleeps, so rank 0's all-reduce
// (its first collective, so a slow start of rank 1 cannot trip an earlier one) times out.
/* global console, setTimeout */
import { Mpi } from '../../dist/index.js';

const mpi = Mpi.init();
if (mpi.rank === 1) await new Promise((resolve) => setTimeout(resolve, 120_000));
await mpi.allReduceSum(new Float32Array(16));
console.log('unreachable: the all-reduce finished while rank 1 slept');
