import type { ReportData } from './reportData';

/** A foresight image ready to embed, or why it cannot be. */
export interface EmbeddedImage {
  /** Training step it was predicted at. */
  step: number;
  /** Camera views (rows). */
  views: number;
  /** Path relative to the run directory. */
  file: string;
  /** `data:image/png;base64,…`, or null when the file is missing or not a PNG. */
  dataUri: string | null;
  /** Why `dataUri` is null. */
  problem?: string;
}

/** What {@link reportHtml} renders. */
export interface ReportHtmlInput {
  /** Run title. */
  title: string;
  /** Run configuration (shown as collapsible JSON). */
  configJson: string;
  /** Free-form lines shown under the header. */
  notes: string[];
  /** Derived numbers and series. */
  data: ReportData;
  /** The foresight images, newest first. */
  images: EmbeddedImage[];
  /** The chart library's script and stylesheet, inlined. */
  assets: { js: string; css: string };
  /** When the report was written. */
  generatedAt: Date;
}

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// Inline <script> content ends at the first "</script": break that sequence wherever it occurs
// (it can only sit inside a string, comment or regex literal, where "<\/" means the same).
const inlineScript = (js: string): string => js.replace(/<\/(script)/gi, '<\\/$1');

// JSON inside <script type="application/json">: "<" escaped so no "</script>" or "<!--" can occur.
const inlineJson = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c');

const fmtNumber = (v: number | null, digits = 4): string => {
  if (v === null) return '—';
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  return Math.abs(v) >= 1e-3 && Math.abs(v) < 1e5
    ? String(Number(v.toPrecision(digits)))
    : v.toExponential(digits - 1);
};

const fmtDuration = (ms: number | null): string => {
  if (ms === null || !Number.isFinite(ms)) return '—';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min ${s % 60} s` : `${s} s`;
};

// The charts are built in the page from the embedded JSON (plain ES2017, runs from file://).
const PAGE_SCRIPT = `(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var charts = [];
  // uPlot's default tick labels round small values (a 1e-4 learning rate) to 0.
  function num(v) {
    if (v == null) return '';
    var a = Math.abs(v);
    return v === 0 ? '0' : a < 1e-3 || a >= 1e5 ? v.toExponential(1) : String(+v.toPrecision(4));
  }
  function pctOf(v) { return v == null ? '' : Math.round(v * 100) + '%'; }
  function ticks(f) { return function (u, vals) { return vals.map(f); }; }
  data.plots.forEach(function (p) {
    var box = document.getElementById('plot-' + p.id);
    var host = box.querySelector('.chart');
    var toggle = box.querySelector('input.log');
    var log = p.logDefault;
    var entry = { chart: null };
    function make() {
      if (entry.chart) entry.chart.destroy();
      // A log axis cannot show values <= 0: they become gaps.
      var ys = log ? p.ys.map(function (s) { return s.map(function (v) { return v != null && v > 0 ? v : null; }); }) : p.ys;
      var f = p.percent ? pctOf : num;
      var yAxis = { label: p.yLabel, size: 70, values: ticks(f) };
      var yScale = log ? { distr: 3 } : p.percent ? { range: [0, 1] } : {};
      entry.chart = new uPlot({
        width: Math.max(320, host.clientWidth),
        height: 260,
        scales: { x: { time: false }, y: yScale },
        series: [{ label: 'step' }].concat(p.series.map(function (s) {
          return {
            label: s.label, stroke: s.color, width: 1.5, spanGaps: s.spanGaps, points: { show: p.percent },
            value: function (u, v) { return v == null ? '--' : f(v); },
          };
        })),
        axes: [{ label: 'step' }, yAxis],
      }, [p.x].concat(ys), host);
    }
    if (toggle) {
      toggle.checked = log;
      toggle.addEventListener('change', function () { log = toggle.checked; make(); });
    }
    make();
    entry.host = host;
    charts.push(entry);
  });
  var pending = 0;
  window.addEventListener('resize', function () {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(function () {
      charts.forEach(function (c) { c.chart.setSize({ width: Math.max(320, c.host.clientWidth), height: 260 }); });
    });
  });
})();`;

const STYLE = `
  body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1280px; padding: 16px 24px; color: #222; background: #fff; }
  h1 { margin: 0 0 8px; font-size: 22px; }
  h2 { font-size: 17px; margin: 24px 0 8px; }
  .stats { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 8px; margin: 12px 0; }
  .stat { background: #f3f5f8; border-radius: 6px; padding: 8px 10px; }
  .stat b { display: block; font-size: 18px; }
  .stat span { color: #666; font-size: 12px; }
  .plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 16px; }
  .plot { border: 1px solid #e2e5ea; border-radius: 6px; padding: 8px; min-width: 0; }
  .plot h3 { margin: 0 0 4px; font-size: 15px; display: flex; justify-content: space-between; }
  .plot label { font-weight: normal; font-size: 12px; color: #555; }
  .timebar { display: flex; height: 28px; border-radius: 4px; overflow: hidden; border: 1px solid #ccc; }
  .timebar div { height: 100%; }
  .legend { display: flex; flex-wrap: wrap; gap: 4px 16px; margin-top: 6px; font-size: 13px; }
  .swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px; border-radius: 2px; }
  .foresight { display: flex; flex-wrap: wrap; gap: 16px; }
  figure { margin: 0; }
  figure img { display: block; max-width: 100%; image-rendering: pixelated; border: 1px solid #ccc; }
  figcaption { font-size: 12px; color: #555; }
  .missing { padding: 24px; background: #fdecea; color: #8a1c12; border-radius: 4px; }
  table { border-collapse: collapse; }
  td, th { padding: 3px 10px; border-bottom: 1px solid #e2e5ea; text-align: left; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  pre { background: #f6f8fa; padding: 12px; overflow: auto; max-height: 600px; }
  .muted { color: #777; }
`;

function statsHtml(d: ReportData): string {
  const s = d.summary;
  const stat = (value: string, label: string): string =>
    `<div class="stat"><b>${escapeHtml(value)}</b><span>${escapeHtml(label)}</span></div>`;
  return [
    stat(fmtNumber(s.lastStep), 'last step'),
    stat(fmtNumber(s.samples), 'samples seen'),
    stat(fmtNumber(s.lastLoss), 'last loss'),
    stat(fmtNumber(s.samplesPerSec, 3), 'samples/s (final)'),
    stat(fmtNumber(s.epoch), 'epoch'),
    stat(fmtDuration(s.wallMs), 'wall time'),
  ].join('');
}

function plotsHtml(d: ReportData): string {
  if (d.plots.length === 0) return '<p class="muted">No training records yet.</p>';
  return d.plots
    .map(
      (p) =>
        `<div class="plot" id="plot-${escapeHtml(p.id)}" data-plot="${escapeHtml(p.id)}"><h3>${escapeHtml(p.title)}` +
        (p.logToggle ? '<label><input type="checkbox" class="log"> log y</label>' : '') +
        '</h3><div class="chart"></div></div>',
    )
    .join('');
}

function timingHtml(d: ReportData): string {
  const total = d.timing.reduce((a, t) => a + t.meanMs, 0);
  if (d.timing.length === 0 || !(total > 0)) return '';
  const bar = d.timing
    .map(
      (t) =>
        `<div data-part="${t.key}" style="width:${((100 * t.meanMs) / total).toFixed(3)}%;background:${t.color}" ` +
        `title="${escapeHtml(`${t.label}: ${fmtNumber(t.meanMs, 3)} ms`)}"></div>`,
    )
    .join('');
  const legend = d.timing
    .map(
      (t) =>
        `<span><i class="swatch" style="background:${t.color}"></i>${escapeHtml(t.label)} ` +
        `${fmtNumber(t.meanMs, 3)} ms (${((100 * t.meanMs) / total).toFixed(1)}%)</span>`,
    )
    .join('');
  return (
    `<h2>Step time (mean ${fmtNumber(total, 4)} ms)</h2>` +
    `<div class="timebar" id="timebar">${bar}</div><div class="legend">${legend}</div>`
  );
}

function evalHtml(d: ReportData): string {
  if (d.evals.length === 0) return '';
  const rows = d.evals
    .map(
      ({ label, last }) =>
        `<tr><td>${escapeHtml(label)}</td><td class="num">${last.step}</td>` +
        `<td class="num">${last.successes} / ${last.episodes}</td>` +
        `<td class="num">${(100 * last.successRate).toFixed(1)}%</td></tr>`,
    )
    .join('');
  return `<h2>Latest evaluation</h2><table id="evals"><tr><th>task</th><th>step</th><th>successes</th><th>rate</th></tr>${rows}</table>`;
}

function foresightHtml(images: EmbeddedImage[]): string {
  if (images.length === 0) return '';
  const figs = images
    .map((im) => {
      const caption = `step ${im.step} · ${im.views} view${im.views === 1 ? '' : 's'} · predicted t+15 | real t+15`;
      const body = im.dataUri
        ? `<img src="${im.dataUri}" alt="${escapeHtml(`foresight at step ${im.step}`)}">`
        : `<div class="missing">${escapeHtml(`${im.file}: ${im.problem ?? 'unavailable'}`)}</div>`;
      return `<figure data-step="${im.step}">${body}<figcaption>${escapeHtml(caption)}</figcaption></figure>`;
    })
    .join('');
  return `<h2>Visual foresight (latest)</h2><div class="foresight">${figs}</div>`;
}

function eventsHtml(d: ReportData): string {
  if (d.events.length === 0) return '';
  const rows = d.events
    .map((e) => `<tr><td class="num">${e.step}</td><td>${escapeHtml(e.message)}</td></tr>`)
    .join('');
  return (
    `<details${d.events.length <= 20 ? ' open' : ''}><summary><h2 style="display:inline">Events (${d.events.length})</h2></summary>` +
    `<table id="events"><tr><th>step</th><th>event</th></tr>${rows}</table></details>`
  );
}

/**
 * The self-contained report page: inline styles, chart library, data and images; a Content Security
 * Policy that forbids every fetch (it must work from file://, offline, attached to an issue).
 */
export function reportHtml(input: ReportHtmlInput): string {
  const { data } = input;
  const notes = input.notes.length
    ? `<ul class="notes">${input.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`
    : '';
  const plotData = { plots: data.plots };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(input.title)}</title>
<style>${input.assets.css.replace(/<\/(style)/gi, '<\\/$1')}</style>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(input.title)}</h1>
<div class="muted">vla-train report · written ${escapeHtml(input.generatedAt.toISOString())} · ${data.summary.trainRecords} train records</div>
<div class="stats" id="stats">${statsHtml(data)}</div>
${notes}
<h2>Training</h2>
<div class="plots">${plotsHtml(data)}</div>
${timingHtml(data)}
${evalHtml(data)}
${foresightHtml(input.images)}
${eventsHtml(data)}
<details><summary><h2 style="display:inline">Config</h2></summary><pre id="config">${escapeHtml(input.configJson)}</pre></details>
<script type="application/json" id="report-data">${inlineJson(plotData)}</script>
<script>${inlineScript(input.assets.js)}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
