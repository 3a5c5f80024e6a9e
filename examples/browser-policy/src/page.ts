// The web page: loads a checkpoint (file input or `?checkpoint=URL`) and the simulator, and runs the
// closed loop in the browser on WebGPU (navigator.gpu): the three cameras of the ARX Lift-2 and the
// decoded foresight (t+15) of the latest chunk. Bundled by serve.ts; `window.__vla` reports progress.
//
// URL parameters: checkpoint (URL), task (default pick-place), size (render px, default the
// checkpoint's input size: the cameras then show what the policy was trained on),
// steps (Euler steps, default 10), execute (actions per chunk, default 30), chunks (stop after this
// many), seed (first episode, default 0), autorun=1 (run as soon as the checkpoint is loaded).
import { loadPolicySource, type LoadedPolicySource } from '@vla/policy-runtime';
import type { CameraFrame } from '@vla/robot-core';
import { GpuCamera, SIM_TASKS, SimEnv, simRobot } from '@vla/sim';
import { init } from '@vla/tensor-webgpu';
import { drawForesight, drawFrame } from './canvasImages.js';
import { runClosedLoop } from './closedLoop.js';

/** What the page reports on `window.__vla` (read by the test and by curious users in the console). */
export interface BrowserPolicyStatus {
  phase: 'starting' | 'idle' | 'loading' | 'ready' | 'running' | 'stopped' | 'error';
  /** Messages of every error the page caught (load, loop, uncaught). */
  errors: string[];
  /** WebGPU adapter of the tensor engine and the camera (vendor, architecture, description). */
  adapter: string;
  /** `navigator.gpu` exists. */
  webgpu: boolean;
  /** The tensor engine's device came from the browser's navigator.gpu (not Node's Dawn). */
  browserDevice: boolean;
  /** Name of the loaded checkpoint. */
  checkpoint: string | null;
  task: string;
  /** Control ticks and chunks of the current run. */
  ticks: number;
  chunks: number;
  /** Request → answer time of every chunk of the current run (ms). */
  latencyMs: number[];
  /** Foresight images drawn in the current run. */
  foresights: number;
  /** Joint state (robot units) at the reset and now. */
  initialState: number[] | null;
  state: number[] | null;
  /**
   * The first {@link LOGGED_CHUNKS} requests of the current run and their answers (to check the
   * browser's inference against another runtime): state (dataset units), RGB8 frames, prompt, actions.
   */
  chunkLog: ChunkLogEntry[];
  /** What the canvases show now: the latest frames and foresight (references, not copies). */
  shown: {
    frames: Readonly<Record<string, CameraFrame>> | null;
    foresight: { images: Float32Array; views: number; size: number } | null;
  };
  /** How the last run ended. */
  result: { ticks: number; chunks: number; success: boolean; reason: string } | null;
}

/** One logged chunk request and its answer. */
export interface ChunkLogEntry {
  state: number[];
  images: Record<string, { width: number; height: number; data: number[] }>;
  prompt: string;
  actions: number[];
}

/** How many chunks of a run {@link BrowserPolicyStatus.chunkLog} keeps. */
export const LOGGED_CHUNKS = 2;

const ROBOT = 'lift2';
const params = new URLSearchParams(location.search);
const num = (name: string, fallback: number) => {
  const v = params.get(name);
  return v === null ? fallback : Number(v);
};
const settings = {
  /** Render size; null: the loaded checkpoint's input size. */
  size: params.has('size') ? num('size', 0) : null,
  steps: num('steps', 10),
  execute: num('execute', 30),
  chunks: params.has('chunks') ? num('chunks', 0) : undefined,
  seed: num('seed', 0),
};

const status: BrowserPolicyStatus = {
  phase: 'starting',
  errors: [],
  adapter: '',
  webgpu: typeof navigator !== 'undefined' && 'gpu' in navigator,
  browserDevice: false,
  checkpoint: null,
  task: params.get('task') ?? 'pick-place',
  ticks: 0,
  chunks: 0,
  latencyMs: [],
  foresights: 0,
  initialState: null,
  state: null,
  chunkLog: [],
  shown: { frames: null, foresight: null },
  result: null,
};
(window as unknown as { __vla: BrowserPolicyStatus }).__vla = status;

// ---- the DOM -------------------------------------------------------------------------------
const embodiment = simRobot(ROBOT).embodiment;
const cameraNames = embodiment.cameras.map((c) => c.name);
document.title = 'vla — InternVLA-A1 in the browser';
document.body.innerHTML = `
<style>
  body { font: 14px system-ui, sans-serif; margin: 16px; background: #fafafa; color: #222; }
  .controls { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; margin: 8px 0; }
  .views { display: flex; gap: 12px; flex-wrap: wrap; }
  figure { margin: 0; }
  figcaption { font-size: 12px; color: #555; }
  canvas { height: 176px; image-rendering: pixelated; background: #000; display: block; }
  #status { font-family: ui-monospace, monospace; white-space: pre; margin-top: 8px; }
</style>
<h2>InternVLA-A1 driving a simulated ARX Lift-2, in this page (WebGPU)</h2>
<div class="controls">
  <span>checkpoint <b id="checkpoint-name">none</b></span>
  <label>load another <input type="file" id="file" accept=".safetensors"></label>
  <label>task <select id="task">${Object.keys(SIM_TASKS)
    .map((t) => `<option>${t}</option>`)
    .join('')}</select></label>
  <button id="run" disabled>Run</button>
  <span id="latency"></span>
</div>
<div class="views">
  ${cameraNames.map((c) => `<figure><canvas id="cam-${c}"></canvas><figcaption>${c}</figcaption></figure>`).join('')}
  <figure><canvas id="foresight"></canvas><figcaption id="foresight-caption">foresight t+15 of the latest chunk</figcaption></figure>
</div>
<div id="status"></div>`;
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const fileInput = $<HTMLInputElement>('file');
const taskSelect = $<HTMLSelectElement>('task');
const runButton = $<HTMLButtonElement>('run');
const statusText = $<HTMLDivElement>('status');
const latencyText = $<HTMLSpanElement>('latency');
const foresightCanvas = $<HTMLCanvasElement>('foresight');
taskSelect.value = status.task;

function show(message: string): void {
  statusText.textContent = [
    message,
    `adapter: ${status.adapter || '—'}   checkpoint: ${status.checkpoint ?? '—'}   task: ${status.task}`,
    `ticks ${status.ticks}   chunks ${status.chunks}`,
    ...status.errors.map((e) => `error: ${e}`),
  ].join('\n');
}

function fail(err: unknown): void {
  status.errors.push(err instanceof Error ? err.message : String(err));
  status.phase = 'error';
  show('failed');
}
window.addEventListener('error', (e) => fail(e.error ?? e.message));
window.addEventListener('unhandledrejection', (e) => fail(e.reason));

// ---- the policy and the simulator ---------------------------------------------------------
let camera: GpuCamera | null = null;
let loaded: LoadedPolicySource | null = null;
let env: { task: string; size: number; sim: SimEnv } | null = null;
let running: AbortController | null = null;
let episode = settings.seed;

async function loadCheckpoint(bytes: Blob, name: string): Promise<void> {
  status.phase = 'loading';
  runButton.disabled = true;
  show(`loading ${name} …`);
  loaded?.dispose();
  loaded = null;
  const next = await loadPolicySource(bytes, {
    steps: settings.steps,
    onForesight(images, views, size) {
      drawForesight(foresightCanvas, images, views, size);
      status.shown.foresight = { images, views, size };
      status.foresights++;
    },
  });
  if (next.processor.json.robotType !== embodiment.robotType) {
    next.dispose();
    throw new Error(
      `${name} is a policy for "${next.processor.json.robotType}"; the simulator runs "${embodiment.robotType}"`,
    );
  }
  loaded = next;
  status.checkpoint = name;
  $('checkpoint-name').textContent = name;
  $('foresight-caption').textContent =
    `foresight t+15 of the latest chunk (${next.processor.json.cameras.join(' | ')})`;
  status.phase = 'ready';
  runButton.disabled = false;
  show(`loaded ${name}: ${next.policy.config.name}, cameras ${next.processor.json.cameras.join(', ')}`);
}

async function run(): Promise<void> {
  if (!loaded || !camera) return;
  const task = taskSelect.value;
  const size = settings.size ?? loaded.processor.json.imageSize;
  if (env?.task !== task || env.size !== size) {
    env?.sim.delete();
    env = null;
    show(`building the ${task} scene …`);
    const sim = await SimEnv.create({ task, robot: ROBOT, camera, imageWidth: size, imageHeight: size });
    env = { task, size, sim };
  }
  Object.assign(status, {
    phase: 'running',
    task,
    ticks: 0,
    chunks: 0,
    latencyMs: [],
    foresights: 0,
    chunkLog: [],
    result: null,
  });
  running = new AbortController();
  runButton.textContent = 'Stop';
  fileInput.disabled = taskSelect.disabled = true;
  try {
    const result = await runClosedLoop({
      env: env.sim,
      embodiment,
      source: loaded.source,
      history: loaded.history,
      seed: episode++,
      executeSteps: settings.execute,
      maxChunks: settings.chunks,
      signal: running.signal,
      onTick(obs, tick) {
        for (const c of cameraNames) if (obs.images[c]) drawFrame($(`cam-${c}`), obs.images[c]);
        status.shown.frames = obs.images;
        status.ticks = tick;
        status.state = Array.from(obs.state);
        if (tick === 0) status.initialState = status.state;
        show(`running: "${obs.instruction}"`);
      },
      onChunk(ms, _index, request, chunk) {
        if (status.chunkLog.length < LOGGED_CHUNKS)
          status.chunkLog.push({
            state: Array.from(request.state),
            images: Object.fromEntries(
              Object.entries(request.images).map(([c, f]) => [
                c,
                { width: f.width, height: f.height, data: Array.from(f.data) },
              ]),
            ),
            prompt: request.prompt ?? '',
            actions: Array.from(chunk.actions),
          });
        status.latencyMs.push(ms);
        status.chunks++;
        latencyText.textContent = `chunk latency ${ms.toFixed(0)} ms`;
      },
    });
    status.result = result;
    status.phase = 'stopped';
    show(`stopped (${result.reason}${result.success ? ', success' : ''}) after ${result.ticks} ticks`);
  } finally {
    running = null;
    runButton.textContent = 'Run';
    fileInput.disabled = taskSelect.disabled = false;
  }
}

runButton.addEventListener('click', () => {
  if (running) running.abort();
  else run().catch(fail);
});
fileInput.addEventListener('change', () => {
  const file = fileInput.files?.[0];
  if (file) loadCheckpoint(file, file.name).catch(fail);
});

async function start(): Promise<void> {
  show('starting WebGPU …');
  const engine = await init({ backend: 'webgpu' });
  const info = engine.gpu.adapterInfo;
  status.browserDevice = !engine.gpu.isNode;
  status.adapter = `${info.vendor} ${info.architecture} ${info.description}`.trim() || 'unnamed adapter';
  camera = await GpuCamera.create({ engine });
  status.phase = 'idle';
  show('choose a checkpoint (vla-train writes <run>/policy.safetensors)');
  const url = params.get('checkpoint');
  if (url === null) return;
  const response = await fetch(url);
  if (!response.ok) throw new Error(`checkpoint ${url}: HTTP ${response.status}`);
  await loadCheckpoint(await response.blob(), params.get('name') ?? (url.split('/').pop() || url));
  if (params.get('autorun') === '1') await run();
}
start().catch(fail);
