// Training throughput of vla-train on the tiny preset (64 px, 3 views, 50-step chunks), with and
// without the latent cache, next to the data pipeline alone, and where one step's time goes.
// The data: the simulator's scripted expert on ARX Lift-2 pick-place, recorded at 64 px (the tiny
// preset's input size). Prints a table with ratios; `--steps N` (default 8), `--batch N` (default 8),
// `--episodes N` (default 2).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { policyConfigOf } from '../src/trainConfig.js';
import { init, shutdown } from '@vla/tensor-webgpu';
import { loadMujoco } from '@vla/sim';
import { recordDataset } from '@vla/sim/node';
import { openTrainingData, parseTrainConfig, train, withPreset, type TrainRecord } from '../src/index.js';
import { MetricsLog } from '../src/report/metricsLog.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const STEPS = arg('steps', 8);
const BATCH = arg('batch', 8);
const WARMUP = 2;

const engine = await init();
const root = mkdtempSync(join(tmpdir(), 'vla-train-bench-'));
try {
  const dataset = join(root, 'lift2');
  const t0 = performance.now();
  const rec = await recordDataset({
    task: 'pick-place',
    robot: 'lift2',
    episodes: arg('episodes', 2),
    out: dataset,
    imageWidth: 64,
    imageHeight: 64,
    mujoco: await loadMujoco(),
  });
  console.log(
    `dataset: ${rec.frames} frames, 3 cameras at 64 px (recorded in ${((performance.now() - t0) / 1000).toFixed(0)} s)`,
  );
  const base = {
    data: { datasets: [{ path: dataset }] },
    steps: WARMUP + STEPS,
    batchSize: BATCH,
    checkpointEvery: 10_000,
    foresightEvery: 0,
  };

  // 1. The data pipeline alone: decode, sample, collate (no GPU work).
  const config = parseTrainConfig(withPreset('tiny', base));
  const data = await openTrainingData({
    datasets: config.data.datasets,
    seed: 0,
    batchSize: BATCH,
    config: policyConfigOf(config),
  });
  const it = data.batches();
  for (let i = 0; i < WARMUP; i++) await it.next();
  let t = performance.now();
  for (let i = 0; i < STEPS; i++) await it.next();
  const loaderRate = (STEPS * BATCH * 1000) / (performance.now() - t);
  await it.return(undefined);
  await data.close();

  // 2. Training with and without the latent cache (steps after the warmup; the cache build is not counted).
  const runs: { name: string; rate: number; timing: TrainRecord['timing'] }[] = [];
  for (const [name, latentCache] of [
    ['with latent cache', true],
    ['without latent cache', false],
  ] as const) {
    const out = join(root, name.replace(/ /g, '-'));
    const c = parseTrainConfig(withPreset('tiny', { ...base, data: { ...base.data, latentCache } }));
    t = performance.now();
    await train(c, { out });
    const records = (await MetricsLog.read(join(out, 'metrics.jsonl')))
      .filter((r): r is TrainRecord => r.kind === 'train')
      .slice(WARMUP);
    const ms = records.reduce((s, r) => s + Object.values(r.timing).reduce((a, b) => a + b, 0), 0);
    const timing = { dataMs: 0, uploadMs: 0, forwardMs: 0, backwardMs: 0, optimizerMs: 0 };
    for (const r of records)
      for (const k of Object.keys(timing) as (keyof typeof timing)[])
        timing[k] += r.timing[k] / records.length;
    runs.push({ name, rate: (records.length * BATCH * 1000) / ms, timing });
  }

  const fmt = (x: number) => x.toFixed(x < 10 ? 2 : 1);
  console.log(
    `\nvla-train tiny preset, batch ${BATCH}, ${STEPS} steps after ${WARMUP} warm-up steps — ${engine.description}`,
  );
  console.log(
    '| what | samples/s | vs loader | data ms | upload ms | forward ms | backward ms | optimizer ms |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  console.log(`| data pipeline alone | ${fmt(loaderRate)} | 1 | | | | | |`);
  for (const r of runs)
    console.log(
      `| training, ${r.name} | ${fmt(r.rate)} | ${(r.rate / loaderRate).toFixed(3)} | ${[r.timing.dataMs, r.timing.uploadMs, r.timing.forwardMs, r.timing.backwardMs, r.timing.optimizerMs].map((v) => v.toFixed(0)).join(' | ')} |`,
    );
  console.log(`\nlatent cache speed-up: ${(runs[0].rate / runs[1].rate).toFixed(2)}x`);
} finally {
  rmSync(root, { recursive: true, force: true });
  shutdown();
}
