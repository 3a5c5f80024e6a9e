// The shipped policies: every entry's files exist, the checkpoint loads as a policy for its robot
// with the tasks its record claims, and the training record is consistent with the checkpoint.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadPolicyBundle } from '@vla/internvla-a1';
import { init } from '@vla/tensor-webgpu';
import { simRobot } from '@vla/sim';
import {
  PRETRAINED_POLICIES,
  pretrainedPolicy,
  pretrainedPolicyPath,
  readTrainingRecord,
} from '../src/node.js';

await init();

describe('shipped policies', () => {
  it('an unknown name is an error listing the shipped ones', () => {
    expect(() => pretrainedPolicy('tiny-lift3')).toThrow(
      /no shipped policy named 'tiny-lift3' \(shipped: tiny-lift2/,
    );
  });

  for (const info of PRETRAINED_POLICIES) {
    it(`${info.name}: loads for its robot, and its record matches the checkpoint`, async () => {
      const path = pretrainedPolicyPath(info.name);
      expect(existsSync(path)).toBe(true);
      const { policy, processor } = await loadPolicyBundle(path);
      try {
        expect(processor).toBeDefined();
        expect(processor!.json.robotType).toBe(simRobot(info.robot).embodiment.robotType);
        const record = await readTrainingRecord(info.name);
        expect(record.name).toBe(info.name);
        expect(record.model.generation).toBe(policy.config.generation !== null);
        expect(Object.keys(record.demonstrations).sort()).toEqual([...info.tasks].sort());
        const steps = record.curve.map((p) => p.step);
        expect(steps).toEqual([...steps].sort((a, b) => a - b));
        expect(steps.at(-1)).toBeLessThanOrEqual(record.steps);
        for (const [task, e] of Object.entries(record.evaluation)) {
          expect(info.tasks).toContain(task);
          expect(e.successes).toBeLessThanOrEqual(e.episodes);
          expect(e.seedsWon.length).toBe(e.successes);
          for (const seed of e.seedsWon) expect(seed - e.firstSeed).toBeGreaterThanOrEqual(0);
          for (const seed of e.seedsWon) expect(seed - e.firstSeed).toBeLessThan(e.episodes);
        }
      } finally {
        policy.dispose();
      }
    });
  }
});
