// Run with plain `node` (no mpirun): a world of one; calls before init fail clearly.
import { Mpi, mpiLaunch } from '../../dist/index.js';
import { errorOf, saveJson } from './rankIo.mjs';

const report = { launch: mpiLaunch(), beforeInit: await errorOf(() => Mpi.instance()) };
const mpi = Mpi.init({ timeoutMs: 60_000 });
report.rank = mpi.rank;
report.size = mpi.size;
report.timeoutMs = mpi.timeoutMs;
report.initAgainOtherTimeout = await errorOf(() => Mpi.init({ timeoutMs: 5 }));
const sum = new Float32Array([1.5, -2, 3]);
await mpi.allReduceSum(sum);
report.sum = Array.from(sum);
const bytes = new Uint8Array([9, 8, 7]);
await mpi.broadcast(bytes, 0);
report.broadcast = Array.from(bytes);
await mpi.barrier();
mpi.finalize();
saveJson('singleton', report);
