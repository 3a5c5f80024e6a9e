// Run under `mpirun -np 2`: rank 1 exits while rank 0 waits in an all-reduce; mpirun must end the job.
/* global console, process */
import { Mpi } from '../../dist/index.js';

const mpi = Mpi.init();
await mpi.barrier();
if (mpi.rank === 1) process.exit(3);
await mpi.allReduceSum(new Float32Array(1024));
console.log('unreachable: the all-reduce finished without rank 1');
