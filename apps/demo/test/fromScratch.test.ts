// End to end from scratch through the library: a fresh demonstration recorded by the simulator's
// expert, a few training steps of a new tiny policy with the trainer, the checkpoint saved, one
// episode of it in closed loop, and the report — each artefact checked on its own.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPolicy, loadPolicyBundle } from '@vla/internvla-a1';
import { MetricsLog } from '@vla/trainer';
import { resolveDemoOptions, runDemo, type DemoSummary } from '../src/index.js';
import { eng } from './setup.js';

const root = mkdtempSync(join(tmpdir(), 'vla-demo-scratch-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const out = join(root, 'run');
let summary: DemoSummary;
const phases: string[] = [];

beforeAll(async () => {
  const options = resolveDemoOptions(
    { out, fromScratch: true, quick: true, tasks: ['pick-place'], maxSteps: 30, trainSteps: 4 },
    { gpu: false },
  );
  summary = await runDemo(options, {
    begin: (p) => phases.push(p),
    update: () => undefined,
    end: () => undefined,
    log: () => undefined,
  });
}, 900_000);

describe('vla-demo --from-scratch (library)', () => {
  it('runs the phases in order: record, train, loss, then the trained policy in closed loop', () => {
    expect(phases).toEqual(['load', 'record', 'train', 'loss', 'evaluate', 'report']);
    expect(summary).toMatchObject({ mode: 'from-scratch', evaluated: 'trained', engine: eng.kind });
  });

  it('records a LeRobot dataset of the expert', () => {
    expect(summary.training.demonstrations).toEqual({ 'pick-place': 1 });
    const info = JSON.parse(readFileSync(join(out, 'demos', 'pick-place', 'meta', 'info.json'), 'utf8'));
    expect(info).toMatchObject({ total_episodes: 1, robot_type: 'ARX Lift-2', codebase_version: 'v3.0' });
  });

  it('saves a checkpoint that loads, with its processor, and logs every step', async () => {
    const policy = await loadPolicy(summary.files.policy);
    expect(policy.config.imageSize).toBe(64);
    policy.dispose();
    const { policy: p2, processor } = await loadPolicyBundle(summary.files.policy);
    expect(processor?.json.robotType).toBe('ARX Lift-2');
    p2.dispose();
    const train = (await MetricsLog.read(join(out, 'train', 'metrics.jsonl'))).filter(
      (r) => r.kind === 'train',
    );
    expect(train.map((r) => r.step)).toEqual([1, 2, 3, 4]);
    expect(summary.training.curve).toEqual(train.map((r) => ({ step: r.step, loss: r.loss })));
  });

  it('evaluates the trained policy for one cut episode and writes the report and summary', () => {
    expect(summary.success).toEqual({
      'pick-place': {
        episodes: 1,
        successes: 0,
        successRate: 0,
        runs: [{ seed: 0, success: false, ticks: 30 }],
      },
    });
    const html = readFileSync(summary.files.report, 'utf8');
    expect(html).toContain('a tiny policy trained from scratch');
    expect(html).toContain('<tr data-task="pick-place">');
    expect(html).toMatch(/<img class="rollout" src="data:image\/gif;base64,/);
    expect(JSON.parse(readFileSync(summary.files.summary, 'utf8'))).toEqual(summary);
  });
});
