// The shipped policy (@vla/pretrained) through `vla-control run` as its 50-seed evaluation ran it
// (lockstep, no inference delay, the GPU camera at the policy's 64 px): on each task it wins again
// the first seed its training record says it won. A regression guard on the deployment path.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pretrainedPolicy, pretrainedPolicyPath, readTrainingRecord } from '@vla/pretrained/node';
import type { RunSummary } from '../src/runSummary.js';
import { vlaControl } from './vlaControl.js';
import './setup.js';

const info = pretrainedPolicy();
const record = await readTrainingRecord(info.name);
const firstWins = Object.entries(record.evaluation)
  .filter(([, e]) => e.seedsWon.length > 0)
  .map(([task, e]) => [task, e.seedsWon[0], e.firstSeed] as const);

describe(`the shipped policy (${info.name}) with vla-control run`, () => {
  it('has a won seed to replay for every task it was trained on', () => {
    expect(firstWins.map(([task]) => task).sort()).toEqual([...info.tasks].sort());
  });

  it.each(firstWins)('wins %s seed %i again', async (task, seed, firstSeed) => {
    const out = join(mkdtempSync(join(tmpdir(), 'vla-control-shipped-')), 'summary.json');
    const r = await vlaControl([
      'run',
      pretrainedPolicyPath(info.name),
      '--task',
      task,
      '--robot',
      info.robot,
      '--camera',
      'gpu',
      '--image-size',
      '64',
      '--episodes',
      '1',
      '--seed',
      String(seed),
      // The evaluation's sampler was seeded with its first episode's seed.
      '--sampler-seed',
      String(firstSeed),
      '--lockstep',
      '--delay',
      '0',
      '--json',
      out,
    ]);
    expect(r.stderr).not.toContain('vla-control:');
    expect(r.code).toBe(0);
    const s = JSON.parse(readFileSync(out, 'utf8')) as RunSummary;
    expect(s.perEpisode[0]).toMatchObject({ seed, success: true });
  });
});
