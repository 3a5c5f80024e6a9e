// The trainer's collectives over MPI. Gradients travel in large flat f32 buckets: the readback of one
// bucket overlaps the all-reduce of the one before (the MPI engine runs collectives off the main
// thread, in call order), and each reduced bucket is scaled by 1/world and written back into the
// gradients before the optimizer step. Host buckets are allocated once and reused every step.
import { contiguous, zerosLike, type Tensor } from '@vla/tensor-webgpu';
import type { TrainCollective } from './collective.js';

/** What the trainer needs of an MPI communicator (`@vla/mpi`'s `Mpi` provides it). */
export interface MpiCommunicator {
  /** This process's rank in the communicator. */
  readonly rank: number;
  /** Processes in the communicator. */
  readonly size: number;
  /** In-place sum over ranks; collectives run one at a time, in call order. */
  allReduceSum(view: Float32Array | Int32Array): Promise<unknown>;
  /** In place: every rank ends with `root`'s bytes. */
  broadcast(view: Uint8Array | Int32Array, root: number): Promise<unknown>;
}

/** Options of {@link mpiCollective}. */
export interface MpiCollectiveOptions {
  /** Largest gradient bucket in bytes (default 16 MiB; a larger tensor gets a bucket of its own). */
  bucketBytes?: number;
}

/** Default {@link MpiCollectiveOptions.bucketBytes}. */
export const DEFAULT_BUCKET_BYTES = 16 * 2 ** 20;

/** Consecutive tensors reduced together, and where each starts in the bucket (elements). */
interface Bucket {
  tensors: Tensor[];
  starts: number[];
  host: Float32Array;
}

/** Splits `tensors` (in order) into buckets of at most `bucketBytes` (one tensor may exceed it alone). */
export function planBuckets(sizes: readonly number[], bucketBytes: number): number[][] {
  const buckets: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  sizes.forEach((n, i) => {
    if (current.length > 0 && bytes + 4 * n > bucketBytes) {
      buckets.push(current);
      current = [];
      bytes = 0;
    }
    current.push(i);
    bytes += 4 * n;
  });
  if (current.length > 0) buckets.push(current);
  return buckets;
}

function checkF32(t: Tensor, what: string): void {
  if (t.dtype !== 'f32')
    throw new Error(`mpiCollective: ${what} is ${t.dtype}; gradients are reduced as f32`);
  if (!t.isContiguous) throw new Error(`mpiCollective: ${what} is not contiguous`);
}

async function readInto(t: Tensor, host: Float32Array, start: number): Promise<void> {
  const raw = await t.engine.read(t.buffer, t.byteOffset, 4 * t.size, 'gradient bucket');
  host.set(new Float32Array(raw, 0, t.size), start);
}

/**
 * The collectives of a data-parallel run on an MPI communicator: gradients averaged in buckets with
 * readback and reduction overlapped, tensors broadcast as raw bytes, small values gathered as JSON.
 */
export function mpiCollective(comm: MpiCommunicator, options: MpiCollectiveOptions = {}): TrainCollective {
  const bucketBytes = options.bucketBytes ?? DEFAULT_BUCKET_BYTES;
  if (!(Number.isInteger(bucketBytes) && bucketBytes >= 4))
    throw new Error(`mpiCollective: bucketBytes must be an integer ≥ 4, got ${bucketBytes}`);
  const world = comm.size;
  let layout = '';
  let buckets: Bucket[] = [];

  const bucketsFor = (grads: Tensor[]): Bucket[] => {
    const key = grads.map((g) => g.size).join(',');
    if (key !== layout) {
      layout = key;
      buckets = planBuckets(
        grads.map((g) => g.size),
        bucketBytes,
      ).map((idx) => {
        const starts: number[] = [];
        let n = 0;
        for (const i of idx) {
          starts.push(n);
          n += grads[i].size;
        }
        return { tensors: idx.map((i) => grads[i]), starts, host: new Float32Array(n) };
      });
    }
    // The same layout, this step's tensors.
    let k = 0;
    for (const b of buckets) b.tensors = b.tensors.map(() => grads[k++]);
    return buckets;
  };

  /**
   * Scales a reduced bucket by 1/world and writes it into the gradients. A gradient that stood in
   * for a missing one (`standIns`: stand-in → its parameter) and stayed zero on every rank is removed
   * again, so the optimizer skips that parameter as it would in one process (no weight decay).
   */
  const writeBack = (b: Bucket, standIns: Map<Tensor, Tensor>): void => {
    const scale = 1 / world;
    for (let i = 0; i < b.host.length; i++) b.host[i] *= scale;
    b.tensors.forEach((t, j) => {
      const view = b.host.subarray(b.starts[j], b.starts[j] + t.size);
      const param = standIns.get(t);
      if (param && view.every((v) => v === 0)) {
        param.grad = null;
        t.dispose();
        return;
      }
      t.engine.upload(t.buffer, view, t.byteOffset);
    });
  };

  return {
    rank: comm.rank,
    worldSize: world,

    async averageGradients(params) {
      const standIns = new Map<Tensor, Tensor>();
      const grads = params.map((p, i) => {
        // Every rank reduces every parameter, so a gradient missing here still takes part (zeros).
        if (!p.grad) {
          p.grad = zerosLike(p);
          standIns.set(p.grad, p);
        }
        if (!p.grad.isContiguous) {
          // Autograd may leave a broadcast or transposed view; the bucket needs the plain layout.
          const flat = contiguous(p.grad);
          p.grad.dispose();
          p.grad = flat;
        }
        checkF32(p.grad, `the gradient of parameter ${i}`);
        return p.grad;
      });
      let inFlight: { bucket: Bucket; done: Promise<unknown> } | null = null;
      for (const bucket of bucketsFor(grads)) {
        await Promise.all(bucket.tensors.map((t, j) => readInto(t, bucket.host, bucket.starts[j])));
        const done = comm.allReduceSum(bucket.host);
        if (inFlight) {
          await inFlight.done;
          writeBack(inFlight.bucket, standIns);
        }
        inFlight = { bucket, done };
      }
      if (inFlight) {
        await inFlight.done;
        writeBack(inFlight.bucket, standIns);
      }
    },

    async broadcastTensors(tensors, root) {
      for (const [i, t] of tensors.entries()) {
        if (!t.isContiguous) throw new Error(`mpiCollective.broadcastTensors: tensor ${i} is not contiguous`);
        const bytes = t.size * (t.dtype === 'f16' ? 2 : t.dtype === 'u8' ? 1 : 4);
        if (bytes % 4 !== 0 || t.byteOffset % 4 !== 0)
          throw new Error(
            `mpiCollective.broadcastTensors: tensor ${i} (${t.describe()}) is not 4-byte aligned`,
          );
        const host =
          comm.rank === root
            ? new Uint8Array(await t.engine.read(t.buffer, t.byteOffset, bytes, 'broadcast'))
            : new Uint8Array(bytes);
        await comm.broadcast(host, root);
        if (comm.rank !== root) t.engine.upload(t.buffer, host, t.byteOffset);
      }
    },

    async allGather<T>(value: T): Promise<T[]> {
      const mine = new TextEncoder().encode(JSON.stringify(value));
      const lengths = new Int32Array(world);
      lengths[comm.rank] = mine.length;
      await comm.allReduceSum(lengths);
      const offsets = [0];
      for (const n of lengths) offsets.push(offsets[offsets.length - 1] + n);
      // Bytes as i32 so the sum (every other rank contributes zeros) is exact.
      const all = new Int32Array(offsets[world]);
      all.set(mine, offsets[comm.rank]);
      await comm.allReduceSum(all);
      const decoder = new TextDecoder();
      return Array.from(
        lengths,
        (_, r) => JSON.parse(decoder.decode(Uint8Array.from(all.subarray(offsets[r], offsets[r + 1])))) as T,
      );
    },
  };
}
