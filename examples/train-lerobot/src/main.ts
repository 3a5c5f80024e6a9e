#!/usr/bin/env node
// Trains the tiny InternVLA-A1 on LeRobot dataset folders with @vla/trainer's library API, then loads
// the policy it wrote with @vla/policy-runtime and asks it for one action chunk from a dataset frame.
//
//   npm start -w @vla/example-train-lerobot -- data/lift2 [more datasets…] --out runs/example --steps 200
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadPolicySource } from '@vla/policy-runtime';
import { runAndExit } from '@vla/tensor-webgpu';
import { parseTrainConfig, train, withPreset, type TrainConfig } from '@vla/trainer';
import { datasetFrame } from './datasetFrame.js';
import { printProgress } from './printProgress.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { out: { type: 'string', default: 'runs/example' }, steps: { type: 'string', default: '200' } },
});
// `npm start -w …` runs in the example's folder: relative paths mean the folder npm was started in.
const fromStart = (path: string) => resolve(process.env.INIT_CWD ?? process.cwd(), path);
const datasets = positionals.map(fromStart);
const out = fromStart(values.out);
if (datasets.length === 0) {
  console.error('usage: main <lerobot-dataset-folder…> [--out runs/example] [--steps 200]');
  process.exit(2);
}

// 1. The run as data: the tiny preset (64 px cameras, 50-step chunks), the datasets, the budget.
// parseTrainConfig names a bad field (`train config: steps must be a positive integer`).
let config: TrainConfig;
try {
  const run = { data: { datasets: datasets.map((path) => ({ path })) }, steps: Number(values.steps) };
  config = parseTrainConfig(withPreset('tiny', run));
} catch (e) {
  console.error((e as Error).message);
  process.exit(2);
}

void runAndExit(async (engine) => {
  console.log(`tensors on ${engine.description}`);
  // 2. Train. The run folder gets checkpoints, metrics.jsonl, report.html and policy.safetensors.
  const result = await train(config, { out, progress: printProgress(), log: console.log });
  console.log(`${result.step} steps; the policy is ${result.policyPath}`);

  // 3. The written file alone is a policy: weights, normalisation statistics, cameras, vocabulary.
  const { source, processor, dispose } = await loadPolicySource(result.policyPath);
  const frame = await datasetFrame(datasets[0]);
  const chunk = await source({ robotType: processor.json.robotType, ...frame, timestampMs: 0 });
  dispose();

  // 4. A chunk: `horizon` absolute targets in the dataset's units, the robot's dims first.
  const dims = processor.json.actionNames.length;
  console.log(`frame ${frame.index} ("${frame.prompt}") → action chunk ${chunk.horizon} × ${chunk.dim}`);
  console.log(
    `first target: [${Array.from(chunk.actions.subarray(0, dims), (v) => v.toFixed(3)).join(', ')}]`,
  );
});
