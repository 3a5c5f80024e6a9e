// The closed loop of the page: the simulator's observation goes to the policy, the chunk's first
// actions go back to the simulator, one control tick at a time (the loop of vla-train's evaluation).
import type { ObservationHistory } from '@vla/policy-runtime';
import {
  fromPolicyActions,
  toPolicyState,
  type ActionChunk,
  type ActionSource,
  type ChunkRequest,
  type Embodiment,
} from '@vla/robot-core';
import type { SimEnv, SimObservation } from '@vla/sim';

/** What {@link runClosedLoop} drives and how. */
export interface ClosedLoopOptions {
  /** The simulated robot and task; reset at the start with `seed`. */
  readonly env: SimEnv;
  /** The simulated robot's embodiment (robot ↔ dataset units, its robot type). */
  readonly embodiment: Embodiment;
  /** The policy. */
  readonly source: ActionSource;
  /** The source's history of past frames: reset at the start, fed every tick. */
  readonly history: ObservationHistory;
  /** Episode seed. */
  readonly seed: number;
  /** Actions executed from each chunk before the next is requested. */
  readonly executeSteps: number;
  /** Stop after this many chunks were executed (default: until the episode ends or `signal` aborts). */
  readonly maxChunks?: number;
  /** Stops the loop after the tick in progress. */
  readonly signal?: AbortSignal;
  /** Every observation, the reset's included (`tick` 0). */
  onTick?(observation: SimObservation, tick: number): void;
  /** Every chunk as it arrives, with the time the policy took from request to answer. */
  onChunk?(latencyMs: number, index: number, request: ChunkRequest, chunk: ActionChunk): void;
}

/** How the loop ended. */
export interface ClosedLoopResult {
  readonly ticks: number;
  readonly chunks: number;
  /** The task's goal was reached. */
  readonly success: boolean;
  /** Why it stopped. */
  readonly reason: 'episode-end' | 'max-chunks' | 'aborted';
}

/**
 * Runs one episode: reset, then per chunk: request it with the current state (dataset units),
 * frames and instruction, execute its first `executeSteps` absolute targets (robot units; the
 * simulator's safety layer clips them), pushing every observation into the history.
 */
export async function runClosedLoop(o: ClosedLoopOptions): Promise<ClosedLoopResult> {
  if (!Number.isInteger(o.executeSteps) || o.executeSteps < 1)
    throw new Error(`runClosedLoop: executeSteps must be a positive integer, got ${o.executeSteps}`);
  const e = o.embodiment;
  let obs = await o.env.resetAsync(o.seed);
  o.history.reset();
  o.history.push(obs);
  o.onTick?.(obs, 0);
  let ticks = 0;
  let chunks = 0;
  let plan: Float64Array[] = [];
  for (;;) {
    if (o.signal?.aborted) return { ticks, chunks, success: false, reason: 'aborted' };
    if (plan.length === 0) {
      if (o.maxChunks !== undefined && chunks >= o.maxChunks)
        return { ticks, chunks, success: false, reason: 'max-chunks' };
      const start = performance.now();
      const request: ChunkRequest = {
        robotType: e.robotType,
        state: toPolicyState(e, obs.state),
        images: obs.images,
        prompt: obs.instruction,
        timestampMs: obs.timestampMs,
      };
      const chunk = await o.source(request);
      o.onChunk?.(performance.now() - start, chunks, request, chunk);
      chunks++;
      // Absolute targets: the state is not added again.
      plan = fromPolicyActions(e, chunk, obs.state, { delta: false }).slice(0, o.executeSteps);
    }
    const r = await o.env.stepAsync(plan.shift());
    obs = r.observation;
    ticks++;
    o.history.push(obs);
    o.onTick?.(obs, ticks);
    if (r.done) return { ticks, chunks, success: r.success, reason: 'episode-end' };
  }
}
