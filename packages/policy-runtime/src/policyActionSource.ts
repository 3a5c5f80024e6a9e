import {
  PolicyProcessorError,
  type InternVLAA1Policy,
  type PolicyObservation as NetworkInputs,
  type PolicyProcessor,
  type RgbFrame,
} from '@vla/internvla-a1';
import { POLICY_DIM, type ActionChunk, type ActionSource, type ChunkRequest } from '@vla/robot-core';
import { tensor, tidy, type Tensor } from '@vla/tensor-webgpu';
import type { ObservationHistory } from './observationHistory.js';
import { PolicyRuntimeError } from './policyRuntimeError.js';

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

/** The processor must fit the network (`PolicyProcessor.checkFits`) and a chunk's 32 columns. */
function checkFits(policy: InternVLAA1Policy, processor: PolicyProcessor): void {
  try {
    processor.checkFits(policy.config);
  } catch (e) {
    if (!(e instanceof PolicyProcessorError)) throw e;
    throw new PolicyRuntimeError(
      `policyActionSource: processor.${e.field} ${e.problem} (cameras: ${processor.json.cameras.join(', ')})`,
    );
  }
  if (processor.actionDim > POLICY_DIM)
    throw new PolicyRuntimeError(
      `policyActionSource: processor has ${processor.actionDim} action dims, a chunk holds ${POLICY_DIM}`,
    );
}

/** What one request needs, taken when it is made (the history moves on while it waits its turn). */
interface Job {
  readonly state: Float64Array;
  readonly current: Record<string, RgbFrame | undefined>;
  readonly past: Record<string, RgbFrame | undefined>;
  readonly prompt: string;
}

/**
 * A trained InternVLA-A1 policy as robot-core's `ActionSource`. Per request: the first
 * `processor.stateDim` values of the request's state (dataset units) are normalised; the current
 * frames of the processor's cameras (other cameras are ignored) and their frames from the history
 * (t − 15) become the network's images; the prompt is tokenized; `policy.sampleActions` draws a chunk
 * (seeded, `steps` Euler steps); its actions are read back and `processor.actionsToRobot` turns them
 * into absolute targets in dataset units (the state added back on delta dims, grippers snapped). The
 * chunk is `[chunkSize, 32]`, zero-padded, and marked `absolute: true` so the executor adds no state.
 *
 * Requests are served one at a time, in order; the past frames are taken from the history when the
 * request is made. Every GPU tensor a request creates is freed when it ends, also when it fails.
 * Throws {@link PolicyRuntimeError} when the processor does not fit the policy; a request for another
 * robot type or with a state shorter than `processor.stateDim` is rejected with one.
 */
export function policyActionSource(options: PolicyActionSourceOptions): ActionSource {
  const { policy, processor, history, onForesight } = options;
  const steps = options.steps ?? 10;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(steps) || steps < 1)
    throw new PolicyRuntimeError(`policyActionSource: steps must be a positive integer, got ${steps}`);
  checkFits(policy, processor);
  const cameras = processor.json.cameras;
  const robotType = processor.json.robotType;

  const serve = async (job: Job): Promise<ActionChunk> => {
    // Loads once; later calls return at once (loadPolicyBundle has loaded it already).
    await processor.loadTokenizer();
    const { tokens, textMask } = processor.encodePrompts(policy.config, [job.prompt]);
    const out = tidy(() => {
      const normalised = processor.stateToPolicy(job.state);
      const current = processor.imagesToPolicy(job.current);
      const past = processor.imagesToPolicy(job.past);
      const inputs: NetworkInputs = {
        images: cameras.map((_, v) => ({ past: past.images[v], current: current.images[v] })),
        imageMasks: current.masks,
        tokens,
        textMask,
        state: tensor(normalised, [1, normalised.length]),
      };
      const r = policy.sampleActions(inputs, { steps, seed, foresight: onForesight !== undefined });
      // Everything else (inputs, the foresight latent) is freed when this scope ends.
      return { actions: r.actions, images: r.images };
    });
    const owned: Tensor[] = [out.actions, ...(out.images ? [out.images] : [])];
    try {
      const actions = (await out.actions.toArray()) as Float32Array;
      if (out.images && onForesight) {
        const images = (await out.images.toArray()) as Float32Array;
        onForesight(images, cameras.length, processor.json.imageSize);
      }
      const rows = processor.actionsToRobot(actions, job.state);
      const chunk = new Float32Array(rows.length * POLICY_DIM);
      rows.forEach((row, h) => chunk.set(row, h * POLICY_DIM));
      return { actions: chunk, horizon: rows.length, dim: POLICY_DIM, absolute: true };
    } finally {
      for (const t of owned) t.dispose();
    }
  };

  let queue: Promise<unknown> = Promise.resolve();
  return (request: ChunkRequest): Promise<ActionChunk> => {
    let job: Job;
    try {
      job = takeJob(request);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const done = queue.then(() => serve(job));
    // A failed request must not stop the ones behind it.
    queue = done.catch(() => undefined);
    return done;
  };

  function takeJob(request: ChunkRequest): Job {
    if (request.robotType !== robotType)
      throw new PolicyRuntimeError(
        `policyActionSource: the request is from robot type ${JSON.stringify(request.robotType)}, the processor is for ${JSON.stringify(robotType)}`,
      );
    const n = processor.stateDim;
    if (request.state.length < n)
      throw new PolicyRuntimeError(
        `policyActionSource: the request's state has ${request.state.length} values, the processor needs ${n} (${processor.json.stateNames.join(', ')})`,
      );
    const pastFrames = history?.pastFrames() ?? {};
    const current: Record<string, RgbFrame | undefined> = {};
    const past: Record<string, RgbFrame | undefined> = {};
    for (const cam of cameras) {
      if (!Object.hasOwn(request.images, cam)) continue;
      const frame = request.images[cam];
      current[cam] = frame;
      // No history yet (or none): the current frame is the oldest one known, as at an episode start.
      past[cam] = Object.hasOwn(pastFrames, cam) ? pastFrames[cam] : frame;
    }
    return {
      state: Float64Array.from(request.state.subarray(0, n)),
      current,
      past,
      prompt: request.prompt ?? '',
    };
  }
}
