// --eval: a dataset recorded by the simulator's scripted expert (ARX Lift-2, pick-place), a few
// training steps, and closed-loop evaluation in @vla/sim every 2 steps: eval records land in the
// metrics (one per task and evaluation) and the report; a processor for another robot is refused.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPolicyBundle } from '@vla/internvla-a1';
import { loadMujoco } from '@vla/sim';
import { recordDataset } from '@vla/sim/node';
import { evaluateInSim, parseTrainConfig, train, withPreset } from '../src/index.js';
import { MetricsLog } from '../src/report/metricsLog.js';
import { MICRO_MODEL, so101 } from './fixtures.js';
import './setup.js';

const root = mkdtempSync(join(tmpdir(), 'vla-train-eval-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const dataset = join(root, 'lift2-pick-place');

beforeAll(async () => {
  const summary = await recordDataset({
    task: 'pick-place',
    robot: 'lift2',
    episodes: 1,
    out: dataset,
    imageWidth: 32,
    imageHeight: 32,
    mujoco: await loadMujoco(),
  });
  expect(summary.saved).toBe(1);
});

describe('evaluation in the simulator during training', () => {
  it('logs the success rate of every task at every evaluation and shows it in the report', async () => {
    const out = join(root, 'run');
    const config = parseTrainConfig(
      withPreset('tiny', {
        model: { tiny: MICRO_MODEL },
        data: { datasets: [{ path: dataset }], concurrency: 2 },
        steps: 4,
        batchSize: 2,
        checkpointEvery: 4,
        foresightEvery: 0,
        eval: { every: 2, episodes: 1, tasks: ['pick-place'], robot: 'lift2', imageSize: 32, maxSteps: 45 },
      }),
    );
    await train(config, { out });
    const evals = (await MetricsLog.read(join(out, 'metrics.jsonl'))).filter((r) => r.kind === 'eval');
    expect(evals.map((r) => r.step)).toEqual([2, 4]);
    for (const r of evals) {
      expect(r).toMatchObject({ task: 'pick-place', robot: 'lift2', episodes: 1 });
      if (r.kind === 'eval') expect(r.successRate).toBe(r.successes / r.episodes);
    }
  });

  it('refuses to evaluate a policy trained for another robot', async () => {
    const out = join(root, 'so101');
    const config = parseTrainConfig(
      withPreset('tiny', {
        model: { tiny: MICRO_MODEL },
        data: { datasets: [{ path: so101() }] },
        steps: 1,
        batchSize: 1,
        foresightEvery: 0,
      }),
    );
    const { policyPath } = await train(config, { out });
    const { policy, processor } = await loadPolicyBundle(policyPath);
    await expect(
      evaluateInSim(policy, processor!, {
        episodes: 1,
        tasks: ['pick-place'],
        robot: 'lift2',
        seed: 0,
        imageSize: 32,
      }),
    ).rejects.toThrow(
      /the simulator's lift2 is "ARX Lift-2" but the policy was trained for "so101_follower"/,
    );
    policy.dispose();
  });
});
