// The one place the trainer talks to other processes. A data-parallel run calls these collectives in
// the same order on every rank: broadcast the weights before the first step, average the gradients
// after every backward pass (before clipping), gather the ranks' data positions for a checkpoint,
// and agree whether to stop. An engine (MPI: `mpiCollective`) implements them; a single process
// needs none of it.
import type { Tensor } from '@vla/tensor-webgpu';

/** Where this process sits in the run. */
export interface RankInfo {
  /** This process's rank, 0 ≤ rank < worldSize. */
  readonly rank: number;
  /** Number of processes. */
  readonly worldSize: number;
}

/** The collectives of a data-parallel run; every rank calls them in the same order with the same shapes. */
export interface TrainCollective extends RankInfo {
  /** Leaves every `param.grad` holding the mean of the ranks' gradients (a missing one counts as zeros). */
  averageGradients(params: readonly Tensor[]): Promise<void>;
  /** Overwrites `tensors` (the same shapes and dtypes on every rank) with rank `root`'s values. */
  broadcastTensors(tensors: readonly Tensor[], root: number): Promise<void>;
  /** Every rank's `value` (JSON-serialisable), in rank order. */
  allGather<T>(value: T): Promise<T[]>;
}

/** The collectives of a run of one process: the gradients already are the mean. */
export const singleProcess: TrainCollective = {
  rank: 0,
  worldSize: 1,
  averageGradients: async () => undefined,
  broadcastTensors: async () => undefined,
  allGather: async <T>(value: T) => [value],
};
