// The dashboard in headless Chromium on a real control loop: the simulated ARX Lift-2 (ray-cast
// cameras, 32 px) ticked at the control rate on the wall clock, robot-core's ChunkExecutor and
// SafetyLayer, and an ActionSource written here (a slow sinusoid inside the joint limits). The page
// must load without errors or outside requests, show the camera frames the loop published, plot the
// joints, show the predicted/actual t+15 pair, and its E-STOP button must stop the simulated joints.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode as decodePng } from 'fast-png';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChunkExecutor,
  SafetyLayer,
  padVector,
  robotToDataset,
  type ActionSource,
  type CameraFrame,
  type Observation,
  type Robot,
} from '@vla/robot-core';
import { SimEnv } from '@vla/sim';
import { HEADLESS_WEBGPU_ARGS, chromiumExecutable } from '@vla/tensor-webgpu/chromium';
import { DashboardServer } from '../src/dashboard/dashboardServer';

const CHROMIUM = chromiumExecutable();
const SIZE = 32;
const HORIZON = 50;
/** Sinusoid frequency (Hz): slow enough for the velocity limits, fast enough to see in 0.5 s. */
const FREQ = 0.4;
/** Camera frames per second of the simulated robot's driver. */
const CAMERA_FPS = 4;

interface Pixels {
  ts: number;
  target?: number;
  width: number;
  height: number;
  rgb: number[];
}

/** The RGB pixels the page shows in `selector` (drawn onto a canvas), with the frame's timestamps. */
/**
 * The RGB pixels the page shows in each of `selectors` (drawn onto a canvas), with the frames'
 * timestamps, read in one evaluation so a pair is read at one instant.
 */
function shownPixels(page: Page, selectors: string[]): Promise<(Pixels | null)[]> {
  return page.evaluate(
    (sels) =>
      sels.map((sel) => {
        const img = document.querySelector<HTMLImageElement>(sel);
        if (!img || img.dataset.ts === undefined || !img.complete || img.naturalWidth === 0) return null;
        // The frame on screen is the one the attributes describe.
        if (img.currentSrc !== img.dataset.url) return null;
        const c = document.createElement('canvas');
        c.width = img.naturalWidth;
        c.height = img.naturalHeight;
        const g = c.getContext('2d')!;
        g.drawImage(img, 0, 0);
        const d = g.getImageData(0, 0, c.width, c.height).data;
        const rgb: number[] = [];
        for (let i = 0; i < d.length; i += 4) rgb.push(d[i], d[i + 1], d[i + 2]);
        const target = img.dataset.target;
        return {
          ts: Number(img.dataset.ts),
          ...(target !== undefined ? { target: Number(target) } : {}),
          width: c.width,
          height: c.height,
          rgb,
        };
      }),
    selectors,
  );
}

function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

function std(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m += a[i];
  m /= a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += (a[i] - m) ** 2;
  return Math.sqrt(v / a.length);
}

async function until<T>(
  what: string,
  get: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  timeoutMs = 30_000,
): Promise<T> {
  const t0 = Date.now();
  while (true) {
    const v = await get();
    if (v !== null && v !== undefined && v !== false) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const maxAbsChange = (a: Float64Array, b: Float64Array) => Math.max(...a.map((v, i) => Math.abs(v - b[i])));

describe.skipIf(!existsSync(CHROMIUM))('dashboard in headless Chromium', () => {
  let env: SimEnv;
  let browser: Browser;
  let dashboard: DashboardServer;
  let exec: ChunkExecutor;
  let worldTimer: ReturnType<typeof setInterval>;
  let tmp: string;
  const frames = new Map<number, Record<string, Uint8Array>>();
  const foresights = new Map<number, { images: Float32Array; cameras: string[] }>();
  const state = { instruction: 'pick up the cube', chunks: 0, errors: [] as Error[] };

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'vla-dashboard-'));
    // Half the default physics substeps (the simulated world runs at about half real time): on a busy
    // 2-core machine the world must keep up with its 30 Hz ticks.
    env = await SimEnv.create({
      task: 'pick-place',
      robot: 'lift2',
      camera: 'raycast',
      imageWidth: SIZE,
      imageHeight: SIZE,
      substeps: 8,
    });
    env.reset(7);
    const e = env.robot.embodiment;
    const periodMs = 1000 / e.controlHz;
    const cameras = e.cameras.map((c) => c.name);
    // The world runs at the control rate in real time; the robot reports wall-clock timestamps so the
    // executor's and the safety layer's clock (performance.now) is the one its observations carry. Its
    // cameras deliver at CAMERA_FPS (the CPU ray-caster is slow), the state every tick, like a driver
    // that caches what its feeds deliver.
    worldTimer = setInterval(() => env.world.tick(), periodMs);
    let cameraFrames: { atMs: number; images: Record<string, CameraFrame> } | undefined;
    const robot: Robot = {
      embodiment: e,
      observe: (): Observation => {
        const now = performance.now();
        if (!cameraFrames || now - cameraFrames.atMs >= 1000 / CAMERA_FPS) {
          const images: Record<string, CameraFrame> = {};
          for (const [name, f] of Object.entries(env.robot.observe().images))
            images[name] = { ...f, timestampMs: now };
          cameraFrames = { atMs: now, images };
        }
        return { state: env.world.readState(), images: cameraFrames.images, timestampMs: now };
      },
      command: (cmd) => env.robot.command(cmd),
    };
    const home = env.world.readState();
    // Per dim: a sinusoid around the start pose, inside the limits, at under half the velocity limit.
    const amp = e.dims.map((d, i) =>
      Math.max(
        0,
        Math.min(
          0.15 * (d.upper - d.lower),
          (0.5 * d.maxVelocity) / (2 * Math.PI * FREQ),
          d.upper - home[i],
          home[i] - d.lower,
        ),
      ),
    );
    const target = (tMs: number) =>
      e.dims.map((_, i) => home[i] + amp[i] * Math.sin(2 * Math.PI * FREQ * (tMs / 1000) + i));
    const source: ActionSource = async (req) => {
      const sentAt = performance.now();
      // The request's frames, as a perfect "prediction" of t+15: exercises the foresight pair.
      const views = cameras.filter((c) => req.images[c]);
      const images = new Float32Array(views.length * 3 * SIZE * SIZE);
      views.forEach((c, v) => {
        const f = req.images[c].data;
        for (let ch = 0; ch < 3; ch++)
          for (let p = 0; p < SIZE * SIZE; p++)
            images[(v * 3 + ch) * SIZE * SIZE + p] = f[p * 3 + ch] / 127.5 - 1;
      });
      const targetTimestampMs = req.timestampMs + 15 * periodMs;
      foresights.set(targetTimestampMs, { images, cameras: views });
      dashboard.foresight({
        images,
        views: views.length,
        size: SIZE,
        cameras: views,
        observationTimestampMs: req.timestampMs,
        targetTimestampMs,
      });
      await sleep(30); // an inference that takes time
      const actions = new Float32Array(HORIZON * 32);
      for (let k = 0; k < HORIZON; k++)
        actions.set(padVector(robotToDataset(e, target(req.timestampMs + (k + 1) * periodMs))), k * 32);
      state.chunks++;
      dashboard.chunk({ latencyMs: performance.now() - sentAt, timestampMs: performance.now() });
      return { actions, horizon: HORIZON, dim: 32, absolute: true };
    };
    const safety = new SafetyLayer(e);
    let last: Observation | undefined;
    const publishStatus = () =>
      dashboard.status({
        running: exec.running,
        estopped: safety.estopped,
        instruction: state.instruction,
        ...(safety.lastCommand?.held ? { holdReason: safety.lastCommand.reason } : {}),
      });
    exec = new ChunkExecutor({
      robot,
      source,
      safety,
      // Long plans: each prediction's real frame (0.5 s later) stays on the page ~0.7 s before the next.
      strategy: { kind: 'chunk', executeSteps: 40 },
      expectedLatencyMs: 100,
      onObservation: (obs) => {
        last = obs;
        const copy: Record<string, Uint8Array> = {};
        for (const c of cameras) if (obs.images[c]) copy[c] = obs.images[c].data.slice();
        frames.set(obs.timestampMs, copy);
        if (frames.size > 300) frames.delete(frames.keys().next().value!);
        dashboard.frames(obs.images, obs.timestampMs);
      },
      onCommand: (command) => {
        if (last) dashboard.tick({ timestampMs: last.timestampMs, state: last.state, command });
        publishStatus();
      },
      onError: (err) => state.errors.push(err),
    });
    dashboard = await DashboardServer.listen({
      embodiment: e,
      cameras,
      title: 'vla-control: lift2 pick-place (sim)',
      controls: {
        start: () => {
          exec.start();
          publishStatus();
        },
        stop: () => {
          exec.stop();
          publishStatus();
        },
        emergencyStop: () => {
          safety.emergencyStop();
          publishStatus();
        },
        resetEmergencyStop: () => {
          safety.resetEmergencyStop();
          publishStatus();
        },
        setInstruction: (text) => {
          state.instruction = text;
          publishStatus();
        },
      },
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [...HEADLESS_WEBGPU_ARGS],
    });
  });

  afterAll(async () => {
    exec?.stop();
    clearInterval(worldTimer);
    await dashboard?.close();
    await browser?.close();
    env?.delete();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('shows the live loop, and E-STOP stops the simulated joints', async () => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 1400 } });
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(dashboard.url);
    await page.waitForSelector('#cameras img[data-camera="head"]', { state: 'attached' });
    const status = page.locator('#status');

    // Start from the page.
    await page.click('#start');
    await until('running status', async () => (await status.getAttribute('data-running')) === 'true');
    expect(await status.getAttribute('data-estopped')).toBe('false');

    // Every camera shows a frame the loop published (pixel for pixel up to JPEG), and it is not blank.
    for (const cam of env.robot.embodiment.cameras.map((c) => c.name)) {
      const shown = await until(`a ${cam} frame`, async () => {
        const [p] = await shownPixels(page, [`#cameras img[data-camera="${cam}"]`]);
        return p && frames.has(p.ts) ? p : null;
      });
      expect([shown.width, shown.height]).toEqual([SIZE, SIZE]);
      expect(std(shown.rgb)).toBeGreaterThan(5);
      expect(meanAbsDiff(shown.rgb, frames.get(shown.ts)![cam])).toBeLessThan(8);
    }

    // The joint plots fill with points; the first joint's plot has a drawn canvas.
    const first = env.robot.embodiment.dims[0].name;
    await until(
      'joint plot points',
      async () => Number(await page.locator(`.plot[data-dim="${first}"]`).getAttribute('data-points')) >= 20,
    );
    expect(await page.locator('.plot canvas').count()).toBe(env.robot.embodiment.dims.length);
    await until(
      'latency points',
      async () => Number(await page.locator('#latency').getAttribute('data-points')) >= 1,
    );

    // The predicted t+15 frame (decoded from the foresight) and the real frame at its target.
    const pair = await until('predicted and actual t+15', async () => {
      const [predicted, actual] = await shownPixels(page, [
        '.pair[data-camera="head"] img[data-kind="predicted"]',
        '.pair[data-camera="head"] img[data-kind="actual"]',
      ]);
      return predicted &&
        actual &&
        predicted.target === actual.target &&
        foresights.has(predicted.target!) &&
        frames.has(actual.ts)
        ? { predicted, actual }
        : null;
    });
    const fs = foresights.get(pair.predicted.target!)!;
    const v = fs.cameras.indexOf('head');
    const expected: number[] = [];
    for (let p = 0; p < SIZE * SIZE; p++)
      for (let ch = 0; ch < 3; ch++)
        expected.push(Math.round((fs.images[(v * 3 + ch) * SIZE * SIZE + p] + 1) * 127.5));
    expect(meanAbsDiff(pair.predicted.rgb, expected)).toBeLessThan(8);
    expect(pair.actual.ts).toBeGreaterThanOrEqual(pair.actual.target!);
    expect(meanAbsDiff(pair.actual.rgb, frames.get(pair.actual.ts)!.head)).toBeLessThan(8);

    // The simulated robot moves.
    const moving = async () => {
      const a = env.world.readState();
      await sleep(500);
      return maxAbsChange(a, env.world.readState());
    };
    // (Polled: a starved event loop can make the safety layer hold a moment for a late chunk.)
    await until('joints moving', async () => (await moving()) > 0.01);

    // E-STOP: the page shows it and within ~2 s the joints stop changing.
    await page.click('#estop');
    await until('e-stopped status', async () => (await status.getAttribute('data-estopped')) === 'true');
    expect(await status.textContent()).toBe('E-STOPPED');
    await until(
      'hold reason shown',
      async () => (await page.locator('#hold').textContent()) === 'hold: estop',
    );
    await sleep(1500);
    // Held targets: the joints settle and stay (a slow machine slows the simulated time, so poll).
    await until('joints still', async () => (await moving()) < 1e-3, 10_000);
    const held = env.world.readTargets();
    await sleep(500);
    expect(maxAbsChange(held, env.world.readTargets())).toBe(0);

    // Reset + start resumes motion.
    await page.click('#reset');
    await page.click('#start');
    await until('running again', async () => (await status.getAttribute('data-estopped')) === 'false');
    await until('joints moving again', async () => (await moving()) > 0.01);

    // The instruction box reaches the controller and comes back in the status.
    await page.fill('#instruction', 'put the red cube in the bin');
    await page.click('#instruction-form button[type="submit"]');
    await until('instruction', async () =>
      (await page.locator('#current-instruction').textContent())?.includes('put the red cube in the bin'),
    );
    expect(state.instruction).toBe('put the red cube in the bin');

    // A screenshot that is not blank.
    const shot = join(tmp, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: false });
    if (process.env.DASHBOARD_PICTURE) await page.screenshot({ path: process.env.DASHBOARD_PICTURE });
    const png = decodePng(await readFile(shot));
    expect(png.width).toBe(1000);
    const colours = new Set<number>();
    for (let i = 0; i < png.data.length; i += png.channels * 97)
      colours.add((png.data[i] << 16) | (png.data[i + 1] << 8) | png.data[i + 2]);
    expect(colours.size).toBeGreaterThan(20);

    expect(problems).toEqual([]);
    expect(
      requests.filter(
        (u) => !u.startsWith(dashboard.url) && !u.startsWith('blob:') && !u.startsWith('data:'),
      ),
    ).toEqual([]);
    expect(state.errors).toEqual([]);
    expect(state.chunks).toBeGreaterThan(2);
    expect(dashboard.stats.rejectedMessages).toBe(0);
    await page.close();
  });
});
