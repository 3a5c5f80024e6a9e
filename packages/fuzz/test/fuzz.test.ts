// Every campaign at a small count (each mutation kind at least once). The run fails on any crash,
// hang, silent change or leak and lists the failing cases with what it takes to rerun them. Scale
// with VLA_FUZZ_SCALE (a multiplier) and vary with VLA_FUZZ_SEED; `npm run bench` runs large counts.
import { describe, expect, it } from 'vitest';
import {
  CHECKPOINT_KINDS,
  DATASET_KINDS,
  ROSBRIDGE_KINDS,
  runCampaign,
  type CampaignName,
} from '../src/index.js';

const seed = Number(process.env.VLA_FUZZ_SEED ?? 1);
const scale = Math.max(1, Number(process.env.VLA_FUZZ_SCALE ?? 1));

const campaigns: [CampaignName, readonly string[], number][] = [
  ['checkpoints', CHECKPOINT_KINDS, 2],
  ['datasets', DATASET_KINDS, 1],
  ['rosbridge', ROSBRIDGE_KINDS, 1],
];

describe('fuzz campaigns at the CI count', () => {
  for (const [name, kinds, perKind] of campaigns) {
    it(`${name}: no crash, hang, silent change or leak`, async () => {
      const report = await runCampaign(name, { seed, count: kinds.length * perKind * scale });
      console.log(report.format());
      expect([...report.counts().keys()].sort()).toEqual([...kinds].sort());
      expect(report.failureLines()).toEqual([]);
    });
  }
});
