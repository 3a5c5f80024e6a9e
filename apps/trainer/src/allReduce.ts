// The one place gradients cross process boundaries. After every rank's backward pass (and gradient
// accumulation) and before clipping, the trainer calls the all-reduce with the trainable parameters;
// it must leave every rank with the mean of the ranks' gradients in `param.grad`. A distributed
// engine (MPI, NCCL-style rings) plugs in here and nowhere else.
import type { Tensor } from '@vla/tensor-webgpu';

/** Where this process sits in the run. */
export interface RankInfo {
  /** This process's rank, 0 ≤ rank < worldSize. */
  rank: number;
  /** Number of processes. */
  worldSize: number;
}

/**
 * Averages the gradients of `params` (same order on every rank) across ranks, in place. Resolves
 * when every `param.grad` holds the mean.
 */
export type GradientAllReduce = (params: readonly Tensor[], ranks: RankInfo) => Promise<void>;

/** The all-reduce of a run of one process: the gradients already are the mean. */
export const singleProcessAllReduce: GradientAllReduce = async (_params, { worldSize }) => {
  if (worldSize !== 1)
    throw new Error(
      `singleProcessAllReduce: world size ${worldSize}; a multi-process run needs a real all-reduce`,
    );
};
