import type { InternVLAA1Policy, PolicyProcessor } from '@vla/internvla-a1';
import type { ActionSource } from '@vla/robot-core';
import type { ObservationHistory } from './observationHistory.js';
import { PolicyRuntimeError } from './policyRuntimeError.js';
import { PolicyService, type Foresight } from './policyService.js';

/**
 * Receives the policy's visual foresight of a chunk: the predicted frames t+15 decoded by its
 * tokenizer, `[views, 3, size, size]` row-major in [-1, 1] (view order of the processor's cameras).
 */
export type ForesightListener = (images: Float32Array, views: number, size: number) => void;

/** Options of {@link policyActionSource}. */
export interface PolicyActionSourceOptions {
  /** The network. The source does not own it: dispose it yourself when done. */
  readonly policy: InternVLAA1Policy;
  /** Its I/O layer (normalisation, delta mask, grippers, cameras); must fit the policy's config. */
  readonly processor: PolicyProcessor;
  /**
   * Where the past frames (t − `history.offset`, 15 for InternVLA-A1) come from; fed by the executor's
   * `onObservation`. Without a history the current frames stand in for the past ones.
   */
  readonly history?: ObservationHistory;
  /** Euler steps of the flow-matching sampler (default 10). */
  readonly steps?: number;
  /** Seed of the starting noise, the same for every request (default 0): a request gives one chunk. */
  readonly seed?: number;
  /** Called with the decoded foresight of every chunk (sampling then also decodes it; costs a decode). */
  readonly onForesight?: ForesightListener;
}

/**
 * A trained InternVLA-A1 policy as robot-core's `ActionSource`: a one-episode {@link PolicyService}
 * (see it for what a request does: normalisation, past frames from the history, sampling, absolute
 * `[chunkSize, 32]` chunks, real-time chunking of requests that carry `committed`).
 *
 * Requests are served one at a time, in order (`maxBatch` 1); the past frames are taken from the
 * history when the request is made. Every GPU tensor a request creates is freed when it ends, also when
 * it fails. Throws {@link PolicyRuntimeError} when the processor does not fit the policy; a request for
 * another robot type or with a state shorter than `processor.stateDim` is rejected with one.
 */
export function policyActionSource(options: PolicyActionSourceOptions): ActionSource {
  const { policy, processor, history, onForesight, steps, seed } = options;
  let service: PolicyService;
  try {
    service = new PolicyService({ policy, processor, steps, seed, maxBatch: 1 });
  } catch (e) {
    // Keep this function's name in the message.
    if (e instanceof PolicyRuntimeError)
      throw new PolicyRuntimeError(e.message.replace(/^PolicyService:/, 'policyActionSource:'));
    throw e;
  }
  const episode = service.openEpisode({
    ...(history ? { history } : {}),
    ...(onForesight ? { onForesight: (f: Foresight) => onForesight(f.images, f.views, f.size) } : {}),
  });
  return episode.source;
}
