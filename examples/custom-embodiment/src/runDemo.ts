import {
  ChunkExecutor,
  FakeClock,
  SafetyLayer,
  tickPeriodMs,
  type ActionSource,
  type ChunkRequest,
  type ExecutorStats,
  type SafeCommand,
  type SafetyStats,
} from '@vla/robot-core';
import { ARM4 } from './arm4Embodiment.js';
import { ToyArm } from './toyArm.js';

/** What a run of {@link runDemo} did. */
export interface DemoResult {
  /** Every command the arm accepted, in order. */
  readonly commands: readonly SafeCommand[];
  /** Every chunk request the source answered. */
  readonly requests: readonly ChunkRequest[];
  /** The safety layer's counters (clamps, velocity limits, holds). */
  readonly safety: SafetyStats;
  /** The executor's counters. */
  readonly executor: ExecutorStats;
  /** Errors the executor reported (source failures, malformed chunks); empty on a good run. */
  readonly errors: readonly Error[];
}

/**
 * Drives the toy arm with `source` for `ticks` control ticks: ChunkExecutor (first 30 rows of each
 * chunk) → SafetyLayer → ToyArm, on a simulated clock, so a run is deterministic and instant.
 */
export async function runDemo(source: ActionSource, ticks: number): Promise<DemoResult> {
  const clock = new FakeClock();
  const robot = new ToyArm(ARM4, clock);
  const safety = new SafetyLayer(ARM4);
  const requests: ChunkRequest[] = [];
  const errors: Error[] = [];
  const executor = new ChunkExecutor({
    robot,
    safety,
    clock,
    source: (request) => {
      requests.push(request);
      return source(request);
    },
    strategy: { kind: 'chunk', executeSteps: 30 },
    prompt: 'wave',
    onError: (err) => errors.push(err),
  });
  executor.start();
  // The first tick runs at once; ticks - 1 more periods bring the count to `ticks`.
  await clock.advance((ticks - 1) * tickPeriodMs(ARM4));
  executor.stop();
  safety.stop();
  return { commands: robot.received, requests, safety: safety.stats, executor: executor.stats, errors };
}
