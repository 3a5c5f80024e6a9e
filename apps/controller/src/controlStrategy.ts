import type { ExecutionStrategy } from '@vla/robot-core';

/** Strategy names of the command line. */
export type StrategyName = 'chunk' | 'ensemble' | 'rtc';

/**
 * robot-core's execution strategy of a name: `chunk` (execute `executeSteps` rows, then switch),
 * `rtc` (the same, latency-aware, requests carrying the committed rest of the plan for real-time
 * chunking) or `ensemble` (ACT temporal ensembling, a new chunk whenever none is in flight).
 */
export function controlStrategy(name: StrategyName, executeSteps = 30): ExecutionStrategy {
  if (name === 'chunk') return { kind: 'chunk', executeSteps };
  if (name === 'rtc') return { kind: 'rtc', executeSteps };
  if (name === 'ensemble') return { kind: 'ensemble' };
  throw new Error(`unknown strategy "${String(name)}" (chunk, ensemble or rtc)`);
}
