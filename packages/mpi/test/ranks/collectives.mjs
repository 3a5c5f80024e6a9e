// Run under `mpirun -np 2`: every collective on awkward sizes, results written for the test to check.
/* global WebAssembly */
import { Mpi } from '../../dist/index.js';
import { errorOf, fill, save, saveJson } from './rankIo.mjs';

const SIZES = [0, 1, 7, 1_000_003];
// Above 16 MiB the addon hands MPI several slices: one size per path crosses that boundary.
const SLICED = { u8: 16_777_219, f64: 2_500_001 };
const mpi = Mpi.init();
const { rank, size } = mpi;
const report = { rank, size, sameObject: Mpi.init() === mpi && Mpi.instance() === mpi };

await mpi.barrier();

// Broadcast from rank 0 (and once from rank 1): the root's seeded data, a sentinel elsewhere.
for (const [Type, tag] of [
  [Float32Array, 'f32'],
  [Uint8Array, 'u8'],
]) {
  for (const n of [...SIZES, ...(SLICED[tag] ? [SLICED[tag]] : [])]) {
    for (const root of n === 7 ? [0, 1] : [0]) {
      const view = rank === root ? fill(new Type(n), 1000 + n + root) : new Type(n).fill(3);
      const name = `bcast-${tag}-${n}-root${root}`;
      if (rank === root) save(`${name}-in`, view);
      const returned = await mpi.broadcast(view, root);
      if (returned !== view) throw new Error('broadcast resolved to another object');
      save(`${name}-r${rank}`, view);
    }
  }
}

// Sum all-reduce: each rank's seeded input and the result.
for (const [Type, tag] of [
  [Float32Array, 'f32'],
  [Float64Array, 'f64'],
  [Int32Array, 'i32'],
]) {
  for (const n of [...SIZES, ...(SLICED[tag] ? [SLICED[tag]] : [])]) {
    const view = fill(new Type(n), 10 * n + rank + tag.length);
    save(`sum-${tag}-${n}-in-r${rank}`, view);
    await mpi.allReduceSum(view);
    save(`sum-${tag}-${n}-r${rank}`, view);
  }
}

// Views with a byteOffset: into a shared WebAssembly.Memory (all-reduce) and a plain ArrayBuffer (broadcast).
const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
const whole = fill(new Float32Array(memory.buffer, 0, 64), 77 + rank);
save(`offset-sum-in-r${rank}`, whole);
await mpi.allReduceSum(whole.subarray(5, 16));
save(`offset-sum-r${rank}`, whole);
const bytes = fill(new Uint8Array(40), 88 + rank);
save(`offset-bcast-in-r${rank}`, bytes);
await mpi.broadcast(new DataView(bytes.buffer, 3, 9), 0);
save(`offset-bcast-r${rank}`, bytes);

// Queued without awaiting: the result depends on the order (broadcast from rank 1, then sum).
const x = new Int32Array([rank + 1]);
const settled = [];
const queued = [
  mpi.broadcast(x, 1),
  mpi.allReduceSum(x),
  ...Array.from({ length: 12 }, (_, i) => mpi.allReduceSum(new Float64Array(i * 1000 + 1).fill(1))),
  mpi.barrier(),
].map((promise, i) => promise.then(() => settled.push(i)));
await Promise.all(queued);
report.queuedResult = x[0];
report.settledOrder = settled;

// Lengths (and roots) that differ between ranks reject on every rank; the queue then goes on.
report.mismatchSum = await errorOf(() => mpi.allReduceSum(new Float32Array(5 + rank)));
report.mismatchBroadcast = await errorOf(() => mpi.broadcast(new Uint8Array(9 + 2 * rank), 0));
report.mismatchRoot = await errorOf(() => mpi.broadcast(new Uint8Array(4), rank));
const after = new Float32Array([rank + 0.5]);
await mpi.allReduceSum(after);
report.afterMismatch = after[0];

// Argument errors throw synchronously, before anything is queued.
report.typeErrors = {
  uint8: await errorOf(() => mpi.allReduceSum(new Uint8Array(4))),
  dataView: await errorOf(() => mpi.allReduceSum(new DataView(new ArrayBuffer(4)))),
  bigint: await errorOf(() => mpi.allReduceSum(new BigInt64Array(2))),
  array: await errorOf(() => mpi.broadcast([1, 2, 3])),
  root: await errorOf(() => mpi.broadcast(new Uint8Array(1), 2)),
};

// finalize refuses while a collective is queued; afterwards every call throws.
const pendingBarrier = mpi.barrier();
report.finalizeWhilePending = await errorOf(() => mpi.finalize());
await pendingBarrier;
mpi.finalize();
report.afterFinalize = {
  finalized: mpi.finalized,
  barrier: await errorOf(() => mpi.barrier()),
  allReduceSum: await errorOf(() => mpi.allReduceSum(new Float32Array(1))),
  broadcast: await errorOf(() => mpi.broadcast(new Float32Array(1))),
  finalize: await errorOf(() => mpi.finalize()),
  init: await errorOf(() => Mpi.init()),
  instance: await errorOf(() => Mpi.instance()),
};
saveJson(`report-r${rank}`, report);
