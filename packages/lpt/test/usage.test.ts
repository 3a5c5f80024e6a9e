// The README's usage, run for every rank of a 3-rank torchrun-style job.
import { describe, expect, it } from 'vitest';
import {
  assignDatasets,
  formatLoadReport,
  loadReport,
  mixtureWeights,
  openRankDatasets,
  rankMixture,
  RankSampler,
  resolveLauncher,
} from '../src/index';
import { mulberry32 } from './reference';

describe('README usage', () => {
  const rnd = mulberry32(2025);
  const budgets = { franka: 0.25, lift2: 0.3, split_aloha: 0.3, genie1: 0.1, acone: 0.05 };
  const groups = Object.keys(budgets);
  const datasets = Array.from({ length: 40 }, (_, i) => ({
    id: `InternData-A1/${groups[i % groups.length]}/task_${i}`,
    frames: 1000 + Math.floor(rnd() * 500_000),
  }));

  it('every rank opens only its datasets and samples only from them', async () => {
    const worldSize = 3;
    const opens: string[] = [];
    for (let r = 0; r < worldSize; r++) {
      const { rank } = resolveLauncher({ env: { RANK: String(r), WORLD_SIZE: String(worldSize) } });
      const rules = Object.entries(budgets).map(([group, budget]) => ({ group, pattern: group, budget }));
      const assignment = assignDatasets(datasets, worldSize);
      const mixture = mixtureWeights(datasets, { rules, gamma: 0.5 });
      const report = loadReport(assignment, mixture);
      expect(report.imbalance).toBeLessThan(1.05); // 40 datasets over 3 ranks balance well
      expect(formatLoadReport(report).split('\n')).toHaveLength(2 + worldSize + 2);
      const opened = await openRankDatasets(assignment, rank, async (id) => {
        opens.push(id);
        return { id, frames: datasets.find((d) => d.id === id)!.frames };
      });
      const sampler = new RankSampler(rankMixture(assignment, mixture, rank), { seed: 42, rank, epoch: 0 });
      for (const { datasetId, frame } of sampler.take(2000)) {
        const ds = opened.get(datasetId);
        expect(ds).toBeDefined();
        expect(frame).toBeLessThan(ds!.frames);
      }
    }
    expect(opens.sort()).toEqual(datasets.map((d) => d.id).sort());
  });
});
