import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dashboardScript } from './dashboardScript.js';

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// Inline text must not close its own element early.
const inlineSafe = (s: string, tag: 'script' | 'style'): string =>
  s.replace(new RegExp(`</${tag}`, 'gi'), `<\\/${tag}`);

/**
 * The dashboard's one self-contained page: markup, uPlot's stylesheet and the bundled page script
 * inline, so it fetches nothing but its own WebSocket. The server sends it with a Content Security
 * Policy that forbids every other load.
 */
export async function dashboardPageHtml(title: string): Promise<string> {
  const require = createRequire(import.meta.url);
  const [css, js] = await Promise.all([
    readFile(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
    dashboardScript(),
  ]);
  const t = escapeHtml(title);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${t}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<style>${inlineSafe(css, 'style')}</style>
<style>${PAGE_CSS}</style></head>
<body>
<header><h1>${t}</h1>
<span id="status" class="status" data-estopped="unknown" data-running="unknown">connecting…</span>
<span id="hold" class="hold"></span><span id="message" class="message"></span></header>
<section class="controls">
<button id="start" type="button">Start</button><button id="stop" type="button">Stop</button>
<button id="estop" type="button" class="estop">E-STOP</button><button id="reset" type="button">Reset e-stop</button>
<form id="instruction-form"><input id="instruction" maxlength="1000" placeholder="instruction" size="48">
<button type="submit">Send</button></form><span id="current-instruction"></span></section>
<section><h2>Cameras</h2><div id="cameras" class="row"></div></section>
<section><h2>Foresight (t+15)</h2><div id="foresight" class="row"><p class="empty">no prediction yet</p></div></section>
<section><h2>Joints <span class="key">(time in s; blue: command, green: measured, red dashed: limits)</span></h2><div id="plots" class="grid"></div></section>
<section><h2>Chunk latency (ms)</h2><div id="latency" data-points="0"></div></section>
<script>${inlineSafe(js, 'script')}</script>
</body></html>`;
}

const PAGE_CSS = `
body{font:14px system-ui,sans-serif;margin:12px 20px;background:#fafafa;color:#222}
header{display:flex;gap:16px;align-items:baseline}h1{font-size:20px;margin:0}h2{font-size:15px;margin:14px 0 6px}
.status{padding:2px 8px;border-radius:4px;background:#ddd}
.status[data-estopped="true"]{background:#c62828;color:#fff;font-weight:bold}
.status[data-running="true"][data-estopped="false"]{background:#2e7d32;color:#fff}
.hold{color:#b26a00}.message{color:#555}
.controls{display:flex;gap:8px;align-items:center;flex-wrap:wrap;margin-top:10px}
.controls form{display:flex;gap:4px}button{padding:4px 10px}
.estop{background:#c62828;color:#fff;font-weight:bold;border:2px solid #7f0000}
.row{display:flex;gap:16px;flex-wrap:wrap}.grid{display:grid;grid-template-columns:repeat(auto-fill,306px);gap:6px}
figure{margin:0;width:150px}figcaption{font-size:12px;color:#555}
img.frame{width:150px;height:auto;image-rendering:pixelated;background:#000;display:block;min-height:112px}
.pair{display:flex;gap:6px}img.frame:not([src]){visibility:hidden}
.key{font-weight:normal;font-size:12px;color:#555}.empty{color:#888}
`;
