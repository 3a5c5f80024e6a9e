// Ships a run of the experiment as @vla/pretrained's policy: copies its policy file and writes the
// training record the demo's report and the docs show (packages/pretrained/policies/<name>.json).
//   node experiments/closed-loop/ship.mjs <run folder> [--name tiny-lift2] [--status "a line"] [--tasks a,b] [--evaluated a]
// A fine-tuning run (mode `finetune`, `init` a run folder) is followed back to the run it started
// from, so the learning curve and the wall clock cover both. The final evaluation is read from
// eval-<run>-<task>.json next to the run folder (`vla-control run --json`, STAGE=eval), for each
// simulator task of --evaluated (default: every task of --tasks, pick-place,conveyor-sort); a dataset
// counts as the demonstrations of the task of --tasks its id (or folder name) starts with.
import { copyFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    name: { type: 'string', default: 'tiny-lift2' },
    status: { type: 'string' },
    tasks: { type: 'string', default: 'pick-place,conveyor-sort' },
    evaluated: { type: 'string' },
  },
});
const runDir = positionals[0];
if (!runDir)
  throw new Error(
    'usage: ship.mjs <run folder> [--name tiny-lift2] [--status "a line"] [--tasks a,b] [--evaluated a]',
  );
const POINT_EVERY = 500; // steps averaged into one point of the loss curve

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const readLines = (file) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

/** The run and the runs it fine-tuned from, oldest first. */
function lineage(dir) {
  const config = readJson(join(dir, 'train-config.json'));
  const parent =
    config.mode === 'finetune' && config.init && existsSync(join(config.init, 'train-config.json'));
  return [...(parent ? lineage(config.init) : []), { dir, config }];
}

/** The run's last checkpoint folder. */
const lastCheckpoint = (dir) =>
  join(dir, 'checkpoints', readFileSync(join(dir, 'checkpoints', 'latest'), 'utf8').trim());
const finalState = (dir) => readJson(join(lastCheckpoint(dir), 'state.json'));

const runs = lineage(runDir);
const curve = [];
let offset = 0;
let wallMs = 0;
for (const { dir } of runs) {
  const state = finalState(dir);
  const records = readLines(join(dir, 'metrics.jsonl')).filter((r) => r.step <= state.step);
  const train = records.filter((r) => r.kind === 'train');
  const points = new Map();
  for (const t of train) {
    const end = Math.min(state.step, Math.ceil(t.step / POINT_EVERY) * POINT_EVERY);
    const p = points.get(end) ?? { sum: 0, n: 0 };
    p.sum += t.loss;
    p.n++;
    points.set(end, p);
  }
  const evals = records.filter((r) => r.kind === 'eval');
  for (const [step, p] of [...points].sort((a, b) => a[0] - b[0])) {
    const at = evals.filter((e) => e.step === step);
    curve.push({
      step: offset + step,
      loss: Number((p.sum / p.n).toFixed(4)),
      ...(at.length
        ? {
            success: Object.fromEntries(
              at.map((e) => [e.task, { episodes: e.episodes, successes: e.successes }]),
            ),
          }
        : {}),
    });
  }
  offset += state.step;
  wallMs += state.wallMs;
}

const last = runs[runs.length - 1];
const tasks = values.tasks.split(',');
const evaluated = values.evaluated?.split(',') ?? tasks;
for (const task of evaluated)
  if (!tasks.includes(task)) throw new Error(`--evaluated ${task} is not one of --tasks ${tasks.join(',')}`);
const evaluation = {};
for (const task of evaluated) {
  const file = join(dirname(runDir), `eval-${basename(runDir)}-${task}.json`);
  if (!existsSync(file)) throw new Error(`${file} is missing: evaluate the run first (STAGE=eval)`);
  const s = readJson(file);
  if (s.stopped) throw new Error(`${file} is an evaluation stopped part-way: run it again (STAGE=eval)`);
  evaluation[task] = {
    episodes: s.episodes,
    successes: s.successes,
    firstSeed: Math.min(...s.perEpisode.map((e) => e.seed)),
    seedsWon: s.perEpisode
      .filter((e) => e.success)
      .map((e) => e.seed)
      .sort((a, b) => a - b),
  };
}
// The final evaluation is the curve's last success point.
curve[curve.length - 1].success = Object.fromEntries(
  Object.entries(evaluation).map(([t, e]) => [t, { episodes: e.episodes, successes: e.successes }]),
);

const demonstrations = {};
for (const d of last.config.data.datasets) {
  const info = readJson(join(d.path, 'meta', 'info.json'));
  const id = d.id ?? basename(d.path);
  const task = tasks.find((t) => id.startsWith(t));
  if (!task)
    throw new Error(`dataset ${id} is of none of the tasks ${tasks.join(', ')} (its id starts with none)`);
  demonstrations[task] = (demonstrations[task] ?? 0) + info.total_episodes;
}

const record = {
  name: values.name,
  model: { preset: last.config.model.preset, generation: last.config.model.generation },
  demonstrations,
  steps: offset,
  batchSize: last.config.batchSize,
  device: 'CPU engine (WebAssembly SIMD), 1 thread, 2-core machine',
  wallClockS: Math.round(wallMs / 1000),
  evaluation,
  curve,
  ...(values.status ? { status: values.status } : {}),
};

const policies = 'packages/pretrained/policies';
const tmp = join(policies, `${values.name}.safetensors.tmp`);
// The last checkpoint's policy file (weights and processor): the one a restored run folder has.
copyFileSync(join(lastCheckpoint(runDir), 'policy.safetensors'), tmp);
renameSync(tmp, join(policies, `${values.name}.safetensors`));
writeFileSync(join(policies, `${values.name}.json`), `${JSON.stringify(record, null, 1)}\n`);
console.log(
  `shipped ${runDir} as ${values.name}: ${offset} steps, ${Object.entries(evaluation)
    .map(([t, e]) => `${t} ${e.successes}/${e.episodes}`)
    .join(', ')}`,
);
