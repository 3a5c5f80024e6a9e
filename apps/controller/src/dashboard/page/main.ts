// The dashboard page's script (bundled with uPlot into the page by the build). It draws what the
// server streams and sends the buttons' controls back; it keeps no state the controller needs.
import uPlot from 'uplot';
import {
  unpackFrame,
  type ConfigMessage,
  type ControlMessage,
  type FrameHeader,
  type ServerMessage,
  type TicksMessage,
} from '../dashboardMessages';

/** Points kept per plot (10 s at 30 Hz). */
const WINDOW = 300;
const PLOT_WIDTH = 300;
const PLOT_HEIGHT = 140;

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

interface JointPlot {
  readonly plot: uPlot;
  readonly el: HTMLElement;
  readonly data: [number[], number[], number[], number[], number[]];
}

let config: ConfigMessage | undefined;
let plots: JointPlot[] = [];
let latency: { plot: uPlot; el: HTMLElement; data: [number[], number[]] } | undefined;
const ws = new WebSocket(`ws://${location.host}/ws`);
ws.binaryType = 'arraybuffer';

function send(m: ControlMessage): void {
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m));
}

$('start').onclick = () => send({ type: 'start' });
$('stop').onclick = () => send({ type: 'stop' });
$('estop').onclick = () => send({ type: 'estop' });
$('reset').onclick = () => send({ type: 'reset-estop' });
$<HTMLFormElement>('instruction-form').onsubmit = (ev) => {
  ev.preventDefault();
  send({ type: 'instruction', text: $<HTMLInputElement>('instruction').value });
};

ws.onclose = () => {
  const s = $('status');
  s.textContent = 'disconnected';
  s.dataset.running = 'unknown';
};

ws.onmessage = (ev: MessageEvent<string | ArrayBuffer>) => {
  if (typeof ev.data === 'string') onMessage(JSON.parse(ev.data) as ServerMessage);
  else onFrame(new Uint8Array(ev.data));
};

function onMessage(m: ServerMessage): void {
  switch (m.type) {
    case 'config':
      setup(m);
      break;
    case 'ticks':
      onTicks(m);
      break;
    case 'status': {
      const s = $('status');
      s.dataset.running = String(m.running);
      s.dataset.estopped = String(m.estopped);
      s.textContent = m.estopped ? 'E-STOPPED' : m.running ? 'running' : 'stopped';
      if (m.holdReason !== undefined) $('hold').textContent = `hold: ${m.holdReason}`;
      $('message').textContent = m.message ?? '';
      $('current-instruction').textContent = m.instruction ? `“${m.instruction}”` : '';
      break;
    }
    case 'chunk':
      onChunk(m.latencyMs, m.timestampMs);
      break;
    case 'error':
      $('message').textContent = `error: ${m.message}`;
      break;
  }
}

function lineSeries(label: string, stroke: string, dash?: number[]): uPlot.Series {
  return { label, stroke, width: 1.5, points: { show: false }, ...(dash ? { dash } : {}) };
}

function setup(c: ConfigMessage): void {
  config = c;
  document.title = c.title;
  const cams = $('cameras');
  cams.replaceChildren(...c.cameras.map((name) => figure(name, 'camera', name)));
  for (const p of plots) p.plot.destroy();
  const grid = $('plots');
  grid.replaceChildren();
  plots = c.dims.map((d) => {
    const el = document.createElement('div');
    el.className = 'plot';
    el.dataset.dim = d.name;
    el.dataset.points = '0';
    grid.append(el);
    const data: JointPlot['data'] = [[], [], [], [], []];
    const plot = new uPlot(
      {
        title: `${d.name} (${d.unit})`,
        width: PLOT_WIDTH,
        height: PLOT_HEIGHT,
        scales: { x: { time: false } },
        legend: { show: false },
        series: [
          {},
          lineSeries('command', '#1565c0'),
          lineSeries('state', '#2e7d32'),
          lineSeries('lower', '#c62828', [4, 4]),
          lineSeries('upper', '#c62828', [4, 4]),
        ],
      },
      data,
      el,
    );
    return { plot, el, data };
  });
  const lat = $('latency');
  lat.replaceChildren();
  latency?.plot.destroy();
  const ldata: [number[], number[]] = [[], []];
  latency = {
    el: lat,
    data: ldata,
    plot: new uPlot(
      {
        width: 2 * PLOT_WIDTH,
        height: PLOT_HEIGHT,
        scales: { x: { time: false } },
        legend: { show: false },
        series: [{}, { label: 'latency', stroke: '#6a1b9a', width: 1.5, points: { show: true, size: 4 } }],
      },
      ldata,
      lat,
    ),
  };
}

function figure(camera: string, kind: FrameHeader['kind'], caption: string): HTMLElement {
  const f = document.createElement('figure');
  const img = document.createElement('img');
  img.className = 'frame';
  img.dataset.camera = camera;
  img.dataset.kind = kind;
  img.alt = `${camera} ${kind}`;
  const cap = document.createElement('figcaption');
  cap.textContent = caption;
  f.append(img, cap);
  return f;
}

function onTicks(m: TicksMessage): void {
  if (!config) return;
  const n = m.timestampMs.length;
  for (let d = 0; d < plots.length; d++) {
    const { data, plot, el } = plots[d];
    const dim = config.dims[d];
    for (let i = 0; i < n; i++) {
      data[0].push(m.timestampMs[i] / 1000);
      data[1].push(m.command[i][d]);
      data[2].push(m.state[i][d]);
      data[3].push(dim.lower);
      data[4].push(dim.upper);
    }
    const extra = data[0].length - WINDOW;
    if (extra > 0) for (const s of data) s.splice(0, extra);
    plot.setData(data);
    el.dataset.points = String(data[0].length);
  }
  $('hold').textContent = m.reason === 'ok' ? '' : `hold: ${m.reason}`;
}

function onChunk(latencyMs: number, timestampMs: number): void {
  if (!latency) return;
  const { data, plot, el } = latency;
  data[0].push(timestampMs / 1000);
  data[1].push(latencyMs);
  const extra = data[0].length - WINDOW;
  if (extra > 0) for (const s of data) s.splice(0, extra);
  plot.setData(data);
  el.dataset.points = String(data[0].length);
}

// The foresight pair of a camera: "predicted t+15" and, once it arrives, "actual t+15".
function foresightPair(camera: string): { predicted: HTMLImageElement; actual: HTMLImageElement } {
  const box = $('foresight');
  let pair = box.querySelector<HTMLElement>(`.pair[data-camera="${CSS.escape(camera)}"]`);
  if (!pair) {
    box.querySelector('.empty')?.remove();
    pair = document.createElement('div');
    pair.className = 'pair';
    pair.dataset.camera = camera;
    pair.append(
      figure(camera, 'predicted', `${camera}: predicted t+15`),
      figure(camera, 'actual', `${camera}: actual t+15`),
    );
    box.append(pair);
  }
  return {
    predicted: pair.querySelector('img[data-kind="predicted"]')!,
    actual: pair.querySelector('img[data-kind="actual"]')!,
  };
}

function show(img: HTMLImageElement, header: FrameHeader, jpeg: Uint8Array): void {
  const url = URL.createObjectURL(new Blob([jpeg as Uint8Array<ArrayBuffer>], { type: 'image/jpeg' }));
  img.onload = () => {
    // The attributes follow the pixels shown, so a reader never pairs a timestamp with another frame:
    // a load event already queued for the previous frame runs this handler too, while the image
    // still shows the previous frame.
    if (img.currentSrc !== url) return;
    const old = img.dataset.url;
    img.dataset.url = url;
    img.dataset.ts = String(header.timestampMs);
    if (header.targetTimestampMs !== undefined) img.dataset.target = String(header.targetTimestampMs);
    if (old) URL.revokeObjectURL(old);
  };
  img.src = url;
}

function onFrame(bytes: Uint8Array): void {
  const { header, jpeg } = unpackFrame(bytes);
  if (header.kind === 'camera') {
    const img = document.querySelector<HTMLImageElement>(
      `#cameras img[data-camera="${CSS.escape(header.camera)}"]`,
    );
    if (img) show(img, header, jpeg);
    return;
  }
  const pair = foresightPair(header.camera);
  if (header.kind === 'predicted') {
    show(pair.predicted, header, jpeg);
    pair.predicted.dataset.pendingTarget = String(header.targetTimestampMs);
    // The previous prediction's real frame no longer matches the one shown.
    pair.actual.removeAttribute('src');
    delete pair.actual.dataset.ts;
    delete pair.actual.dataset.target;
  } else if (String(header.targetTimestampMs) === pair.predicted.dataset.pendingTarget) {
    show(pair.actual, header, jpeg);
  }
}
