// The demo's one-page report: success per task, learning curves (the policy's training record and
// this run's training loss), a rollout GIF per task and the policy's foresight next to what happened.
// Everything is inline (uPlot, the data, images as data: URLs) under a Content Security Policy that
// forbids every fetch, as the trainer's report: it works from disk, offline, attached to an issue.
import type { TrainingRecord } from '@vla/pretrained';
import { chartAssets } from '@vla/trainer';
import type { DemoSummary } from './runDemo.js';

/** One task's pictures and numbers for the report. */
export interface ReportTask {
  task: string;
  successes: number;
  episodes: number;
  seeds: number[];
  /** The filmed first episode as a GIF, or null when nothing was filmed. */
  gif: Uint8Array | null;
  /** Seed of the filmed episode. */
  gifSeed: number;
  /** Foresight PNGs (predicted t+15 | real t+15, one row per camera) and the tick they were predicted at. */
  foresight: { tick: number; png: Uint8Array }[];
}

/** What {@link demoReportHtml} shows. */
export interface DemoReportInput {
  summary: DemoSummary;
  /** The evaluated policy's training record (the shipped one's), or null. */
  record: TrainingRecord | null;
  tasks: ReportTask[];
  generatedAt: Date;
}

/** A chart the page draws with uPlot: series over a shared step axis. */
interface Chart {
  id: string;
  title: string;
  yLabel: string;
  percent: boolean;
  x: number[];
  series: { label: string; color: string; values: (number | null)[] }[];
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const dataUrl = (mime: string, bytes: Uint8Array): string =>
  `data:${mime};base64,${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}`;
const pct = (n: number, d: number): string => (d > 0 ? `${((100 * n) / d).toFixed(0)}%` : '—');
const fmt = (v: number): string => (Number.isFinite(v) ? String(Number(v.toPrecision(4))) : String(v));

/** The learning curves: the policy's training record (loss, success) and this run's training loss. */
function charts(input: DemoReportInput): Chart[] {
  const out: Chart[] = [];
  const rec = input.record;
  if (rec && rec.curve.length) {
    const x = rec.curve.map((p) => p.step);
    out.push({
      id: 'record-loss',
      title: `${rec.name}: training loss`,
      yLabel: 'loss',
      percent: false,
      x,
      series: [{ label: 'loss', color: COLOURS[0], values: rec.curve.map((p) => p.loss) }],
    });
    const tasks = [...new Set(rec.curve.flatMap((p) => Object.keys(p.success ?? {})))];
    if (tasks.length)
      out.push({
        id: 'record-success',
        title: `${rec.name}: closed-loop success`,
        yLabel: 'success',
        percent: true,
        x,
        series: tasks.map((t, i) => ({
          label: t,
          color: COLOURS[(i + 1) % COLOURS.length],
          values: rec.curve.map((p) => {
            const s = p.success?.[t];
            return s && s.episodes > 0 ? s.successes / s.episodes : null;
          }),
        })),
      });
  }
  const t = input.summary.training;
  out.push({
    id: 'run-loss',
    title:
      input.summary.mode === 'finetune' ? 'this run: fine-tune loss' : 'this run: training loss from scratch',
    yLabel: 'loss',
    percent: false,
    x: t.curve.map((p) => p.step),
    series: [{ label: 'loss (per step)', color: COLOURS[3], values: t.curve.map((p) => p.loss) }],
  });
  return out;
}

const PAGE_SCRIPT = `(function () {
  var charts = JSON.parse(document.getElementById('chart-data').textContent);
  function num(v) { return v == null ? '' : Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(1) : String(+v.toPrecision(4)); }
  function pct(v) { return v == null ? '' : Math.round(v * 100) + '%'; }
  charts.forEach(function (c) {
    var host = document.querySelector('#chart-' + c.id + ' .chart');
    var f = c.percent ? pct : num;
    new uPlot({
      width: Math.max(320, host.clientWidth), height: 240,
      scales: { x: { time: false }, y: c.percent ? { range: [0, 1] } : {} },
      series: [{ label: 'step' }].concat(c.series.map(function (s) {
        return { label: s.label, stroke: s.color, width: 1.5, spanGaps: true, points: { show: c.x.length < 40 },
          value: function (u, v) { return v == null ? '--' : f(v); } };
      })),
      axes: [{ label: 'step' }, { label: c.yLabel, size: 60, values: function (u, vals) { return vals.map(f); } }],
    }, [c.x].concat(c.series.map(function (s) { return s.values; })), host);
  });
})();`;

const STYLE = `
  body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1200px; padding: 16px 24px; color: #222; }
  h1 { font-size: 22px; margin: 0 0 6px; } h2 { font-size: 17px; margin: 26px 0 8px; }
  .muted { color: #777; }
  table { border-collapse: collapse; } td, th { padding: 3px 12px; border-bottom: 1px solid #e2e5ea; text-align: left; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  .charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 16px; }
  .chartbox { border: 1px solid #e2e5ea; border-radius: 6px; padding: 8px; min-width: 0; }
  .chartbox h3 { margin: 0 0 4px; font-size: 15px; }
  .row { display: flex; flex-wrap: wrap; gap: 20px; align-items: flex-start; }
  figure { margin: 0; } figcaption { font-size: 12px; color: #555; max-width: 420px; }
  figure img { display: block; border: 1px solid #ccc; image-rendering: pixelated; }
  pre { background: #f6f8fa; padding: 12px; overflow: auto; max-height: 500px; }
`;

function successTable(s: DemoSummary, tasks: ReportTask[]): string {
  const rows = tasks
    .map(
      (t) =>
        `<tr data-task="${escapeHtml(t.task)}"><td>${escapeHtml(t.task)}</td><td class="num successes">${t.successes}</td>` +
        `<td class="num episodes">${t.episodes}</td><td class="num">${pct(t.successes, t.episodes)}</td>` +
        `<td>${escapeHtml(t.seeds.join(', '))}</td></tr>`,
    )
    .join('');
  const who = s.evaluated === 'initial' ? escapeHtml(s.policy) : 'the policy trained in this run';
  return (
    `<h2>Closed-loop success (${who}, robot ${escapeHtml(s.robot)})</h2>` +
    `<table id="success"><tr><th>task</th><th>successes</th><th>episodes</th><th>rate</th><th>seeds</th></tr>${rows}</table>`
  );
}

function trainingSection(s: DemoSummary): string {
  const t = s.training;
  const demos = Object.entries(t.demonstrations)
    .map(([k, v]) => `${escapeHtml(k)} ${v}`)
    .join(', ');
  const what = s.mode === 'finetune' ? `Fine-tune of ${escapeHtml(s.policy)}` : 'Training from scratch';
  return (
    `<h2>${what}</h2><p>${t.steps} steps of ${t.batchSize} samples on fresh scripted demonstrations (${demos}).</p>` +
    `<table id="fixed-loss"><tr><th></th><th>loss on a fixed batch</th></tr>` +
    `<tr><td>before</td><td class="num" id="loss-before">${fmt(t.lossBefore)}</td></tr>` +
    `<tr><td>after</td><td class="num" id="loss-after">${fmt(t.lossAfter)}</td></tr></table>` +
    '<p class="muted">The same samples, flow-matching noise and times before and after; the per-step loss in the chart draws new ones every step.</p>'
  );
}

function rolloutsSection(tasks: ReportTask[]): string {
  const figs = tasks
    .map((t) =>
      t.gif
        ? `<figure data-task="${escapeHtml(t.task)}"><img class="rollout" src="${dataUrl('image/gif', t.gif)}" alt="${escapeHtml(`${t.task} rollout`)}">` +
          `<figcaption>${escapeHtml(`${t.task}, seed ${t.gifSeed}: head camera`)}</figcaption></figure>`
        : '',
    )
    .join('');
  return figs ? `<h2>Rollouts</h2><div class="row">${figs}</div>` : '';
}

function foresightSection(tasks: ReportTask[]): string {
  const figs = tasks
    .flatMap((t) =>
      t.foresight.map(
        (f) =>
          `<figure data-task="${escapeHtml(t.task)}"><img class="foresight" src="${dataUrl('image/png', f.png)}" alt="${escapeHtml(`${t.task} foresight at tick ${f.tick}`)}">` +
          `<figcaption>${escapeHtml(`${t.task}, tick ${f.tick}: predicted t+15 (left) | real t+15 (right); rows head, left wrist, right wrist`)}</figcaption></figure>`,
      ),
    )
    .join('');
  const note =
    '<p class="muted">The policy predicts the image tokenizer\'s latent of the frame 15 control ticks ahead; its own tokenizer decodes it. ' +
    "A tokenizer without trained weights (the tiny preset's is frozen at its random initialisation) decodes even a well-predicted latent to noise.</p>";
  return figs ? `<h2>Visual foresight</h2>${note}<div class="row">${figs}</div>` : '';
}

function timingsSection(s: DemoSummary): string {
  const rows = Object.entries(s.timings)
    .map(
      ([k, v]) =>
        `<tr><td>${escapeHtml(k)}</td><td class="num">${v.toFixed(1)} s</td>` +
        `<td class="num">${(s.cpuTimes[k as keyof DemoSummary['cpuTimes']] ?? 0).toFixed(1)} s</td></tr>`,
    )
    .join('');
  return (
    `<h2>Time per phase (engine: ${escapeHtml(s.engine)})</h2>` +
    `<table id="timings"><tr><th>phase</th><th>wall clock</th><th>CPU (this process)</th></tr>${rows}</table>`
  );
}

/** The report page (one self-contained HTML document). */
export async function demoReportHtml(input: DemoReportInput): Promise<string> {
  const { summary: s } = input;
  const lib = await chartAssets();
  const cs = charts(input);
  const boxes = cs
    .map(
      (c) =>
        `<div class="chartbox" id="chart-${c.id}"><h3>${escapeHtml(c.title)}</h3><div class="chart"></div></div>`,
    )
    .join('');
  const recordNote = input.record
    ? input.record.status
      ? `<p class="muted">${escapeHtml(input.record.status)}</p>`
      : ''
    : '<p class="muted">No training record for this policy: only this run\'s curve is shown.</p>';
  const json = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vla demo</title>
<style>${lib.css.replace(/<\/(style)/gi, '<\\/$1')}</style>
<style>${STYLE}</style>
</head>
<body>
<h1>vla demo: ${escapeHtml(s.mode === 'finetune' ? `${s.policy} in the simulator, then a short fine-tune` : 'a tiny policy trained from scratch')}</h1>
<div class="muted">written ${escapeHtml(input.generatedAt.toISOString())} · robot ${escapeHtml(s.robot)} · engine ${escapeHtml(s.engine)}</div>
${successTable(s, input.tasks)}
${rolloutsSection(input.tasks)}
<h2>Learning curves</h2>
${recordNote}
<div class="charts">${boxes}</div>
${trainingSection(s)}
${foresightSection(input.tasks)}
${timingsSection(s)}
<details><summary>summary.json</summary><pre id="summary">${escapeHtml(JSON.stringify(s, null, 2))}</pre></details>
<script type="application/json" id="chart-data">${json(cs)}</script>
<script>${lib.js.replace(/<\/(script)/gi, '<\\/$1')}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
