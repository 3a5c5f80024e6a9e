// Learning curves of the experiment's runs as a Markdown table: the mean training loss over each
// evaluation interval and the closed-loop successes at its end, per run and task.
//   node experiments/closed-loop/curves.mjs [runs/closed-loop] [run names, default gen nogen]
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = process.argv[2] ?? 'runs/closed-loop';
const names = process.argv.length > 3 ? process.argv.slice(3) : ['gen', 'nogen'];
const runs = names.filter((r) => existsSync(join(root, r, 'metrics.jsonl')));
const rows = new Map();
for (const run of runs) {
  const records = readFileSync(join(root, run, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  const evals = records.filter((r) => r.kind === 'eval');
  const train = records.filter((r) => r.kind === 'train');
  const at = [...new Set(evals.map((e) => e.step))].sort((a, b) => a - b);
  let from = 0;
  for (const step of at) {
    const window = train.filter((t) => t.step > from && t.step <= step);
    const loss = window.reduce((a, t) => a + t.loss, 0) / Math.max(1, window.length);
    const row = rows.get(step) ?? {};
    row[run] = {
      loss,
      success: Object.fromEntries(
        evals.filter((e) => e.step === step).map((e) => [e.task, `${e.successes}/${e.episodes}`]),
      ),
    };
    rows.set(step, row);
    from = step;
  }
}
const tasks = ['pick-place', 'conveyor-sort'];
const head = ['step', ...runs.flatMap((r) => [`${r} loss`, ...tasks.map((t) => `${r} ${t}`)])];
console.log(`| ${head.join(' | ')} |`);
console.log(`|${head.map(() => '---').join('|')}|`);
for (const step of [...rows.keys()].sort((a, b) => a - b)) {
  const row = rows.get(step);
  const cells = runs.flatMap((r) =>
    row[r]
      ? [row[r].loss.toFixed(4), ...tasks.map((t) => row[r].success[t] ?? '—')]
      : ['—', ...tasks.map(() => '—')],
  );
  console.log(`| ${step} | ${cells.join(' | ')} |`);
}
