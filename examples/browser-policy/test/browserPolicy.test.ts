// The page in headless Chromium (WebGPU on SwiftShader), served as `npm start` serves it with no
// argument: the policy shipped with vla (`@vla/pretrained`, the tiny InternVLA-A1 for the ARX
// Lift-2). The page loads it and MuJoCo, runs two chunks of the closed loop at the checkpoint's input
// size and draws the three cameras and the foresight. The page's chunks are checked against the same
// checkpoint run in Node (Dawn) on the same requests.
import { basename } from 'node:path';
import { loadPolicySource, ObservationHistory } from '@vla/policy-runtime';
import { pretrainedPolicyPath } from '@vla/pretrained/node';
import type { CameraFrame, ChunkRequest } from '@vla/robot-core';
import { simRobot } from '@vla/sim';
import { init } from '@vla/tensor-webgpu';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { BrowserPolicyStatus, ChunkLogEntry } from '../src/page.js';
import { serveBrowserPolicy, type BrowserPolicyServer } from '../src/serve.js';
import { HAS_CHROMIUM, launchChromium } from './chromium.js';
import { rng } from '@vla/policy-runtime/testing';

const EXECUTE = 3;
const CHUNKS = 2;
// One Euler step: the shipped policy's chunks at the test's cost (the page's default is 10).
const STEPS = 1;
const embodiment = simRobot('lift2').embodiment;
const cameras = embodiment.cameras.map((c) => c.name);

/** A 2D canvas of the page: its size and RGBA pixels. */
interface CanvasPixels {
  width: number;
  height: number;
  rgba: number[];
}

/** What the page showed: every canvas, and the data it was drawn from. */
interface Shown {
  canvases: Record<string, CanvasPixels>;
  frames: Record<string, { width: number; height: number; data: number[] }>;
  foresight: { images: number[]; views: number; size: number };
}

// Passed as source text so the test runner's transforms never touch the browser code.
const READ_SHOWN = `(() => {
  const canvases = {};
  for (const c of document.querySelectorAll('canvas')) {
    const rgba = Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data);
    canvases[c.id] = { width: c.width, height: c.height, rgba };
  }
  const { frames, foresight } = window.__vla.shown;
  return {
    canvases,
    frames: Object.fromEntries(Object.entries(frames).map(([k, f]) => [k, { width: f.width, height: f.height, data: Array.from(f.data) }])),
    foresight: { ...foresight, images: Array.from(foresight.images) },
  };
})()`;

/** Distinct RGB colours of RGBA pixels. */
function colours(rgba: readonly number[]): number {
  const seen = new Set<number>();
  for (let k = 0; k < rgba.length; k += 4) seen.add((rgba[k] << 16) | (rgba[k + 1] << 8) | rgba[k + 2]);
  return seen.size;
}

/** A request with seeded random frames (32 px: the processor resizes) and state. */
function randomRequest(seed: number): ChunkRequest {
  const r = rng(seed);
  const images: Record<string, CameraFrame> = {};
  for (const c of cameras)
    images[c] = {
      width: 32,
      height: 32,
      data: Uint8Array.from({ length: 32 * 32 * 3 }, () => 256 * r()),
      timestampMs: 0,
    };
  return {
    robotType: embodiment.robotType,
    state: Float32Array.from({ length: 32 }, r),
    images,
    prompt: 'warm up',
    timestampMs: 0,
  };
}

/** The page's logged frames as camera frames. */
function framesOf(log: ChunkLogEntry, timestampMs: number): Record<string, CameraFrame> {
  const out: Record<string, CameraFrame> = {};
  for (const [c, f] of Object.entries(log.images))
    out[c] = { width: f.width, height: f.height, data: Uint8Array.from(f.data), timestampMs };
  return out;
}

// Needs Debian's Chromium (never downloaded); the skip is visible in the test report.
describe.skipIf(!HAS_CHROMIUM)('the browser page (headless Chromium, navigator.gpu on SwiftShader)', () => {
  const checkpoint = pretrainedPolicyPath();
  let server: BrowserPolicyServer;
  let browser: Browser;

  beforeAll(async () => {
    // The page runs the policy on WebGPU; so does this side, so the chunks agree to 1e-6 (the same
    // WGSL on Chromium's Dawn and on Node's).
    await init({ backend: 'webgpu' });
    // No checkpoint given: the shipped one, as `npm start` with no argument.
    server = await serveBrowserPolicy();
    expect(server.checkpoint).toBe(checkpoint);
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  test('loads the shipped policy and the simulator and runs the closed loop for two chunks', async () => {
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    // No `size`: the page renders at the checkpoint's input size.
    const query = `&steps=${STEPS}&execute=${EXECUTE}&chunks=${CHUNKS}&autorun=1`;
    await page.goto(server.pageUrl + query);
    // The Node reference compiles its kernels meanwhile (on another core): a request with random
    // frames, before the history gets the page's frames.
    const history = new ObservationHistory();
    const loaded = await loadPolicySource(checkpoint, { steps: STEPS, history });
    const warm = loaded.source(randomRequest(13));
    const size = loaded.processor.json.imageSize;
    try {
      await checkPage();
    } finally {
      // Freed also when the page failed; the warm-up's own failure shows in checkPage's comparisons.
      await warm.catch(() => undefined);
      loaded.dispose();
    }

    async function checkPage(): Promise<void> {
      await page.waitForFunction(`['stopped', 'error'].includes(window.__vla.phase)`, undefined, {
        timeout: 280_000,
        polling: 250,
      });
      const s = (await page.evaluate(
        'window.__vla.phase === "error" ? window.__vla : { ...window.__vla, shown: null }',
      )) as BrowserPolicyStatus;
      const shown = (s.phase === 'error' ? null : await page.evaluate(READ_SHOWN)) as Shown;
      await page.close();
      console.log(
        `browser policy (${s.adapter}): ${s.ticks} ticks, chunk latency ${s.latencyMs.map((m) => m.toFixed(0)).join(', ')} ms`,
      );

      expect(pageErrors).toEqual([]);
      expect(s.errors).toEqual([]);
      expect(s.phase).toBe('stopped');
      // The tensor engine's device is the browser's (navigator.gpu), not Node's Dawn.
      expect(s.webgpu).toBe(true);
      expect(s.browserDevice).toBe(true);
      expect(s.adapter.length).toBeGreaterThan(0);
      expect(s.checkpoint).toBe(basename(checkpoint));
      expect(s.result).toEqual({
        ticks: CHUNKS * EXECUTE,
        chunks: CHUNKS,
        success: false,
        reason: 'max-chunks',
      });
      expect(s.chunks).toBe(CHUNKS);
      expect(s.latencyMs).toHaveLength(CHUNKS);
      expect(s.foresights).toBe(CHUNKS);
      // The policy's targets moved the joints.
      const moved = Math.max(...s.state!.map((v, i) => Math.abs(v - s.initialState![i])));
      expect(moved).toBeGreaterThan(1e-3);

      // The three cameras' latest frames, pixel for pixel, none blank.
      const { canvases } = shown;
      for (const c of cameras) {
        const canvas = canvases[`cam-${c}`];
        const frame = shown.frames[c];
        expect([canvas.width, canvas.height, frame.width, frame.height]).toEqual([size, size, size, size]);
        let diff = 0;
        for (let k = 0; k < size * size; k++)
          for (let ch = 0; ch < 3; ch++)
            diff = Math.max(diff, Math.abs(canvas.rgba[4 * k + ch] - frame.data[3 * k + ch]));
        expect(diff).toBe(0);
        expect(colours(canvas.rgba)).toBeGreaterThan(5);
      }
      // The latest foresight: views left to right, [-1, 1] → 0…255, none blank.
      const f = shown.foresight;
      const S = loaded.policy.config.imageSize;
      expect([f.views, f.size]).toEqual([cameras.length, S]);
      const fc = canvases.foresight;
      expect([fc.width, fc.height]).toEqual([cameras.length * S, S]);
      let foresightDiff = 0;
      for (let v = 0; v < f.views; v++)
        for (let ch = 0; ch < 3; ch++)
          for (let y = 0; y < S; y++)
            for (let x = 0; x < S; x++) {
              const value = Math.min(1, Math.max(-1, f.images[((v * 3 + ch) * S + y) * S + x]));
              const want = Math.round((value + 1) * 127.5);
              foresightDiff = Math.max(
                foresightDiff,
                Math.abs(fc.rgba[4 * (y * f.views * S + v * S + x) + ch] - want),
              );
            }
      expect(foresightDiff).toBeLessThanOrEqual(1);
      expect(colours(fc.rgba)).toBeGreaterThan(5);

      // The same checkpoint in Node (Dawn) gives the page's chunks on the page's requests: the first
      // with the current frames as the past ones, the second with the reset's frames as its past (t−15
      // clamps to the episode start), which holds only if the page fed the history.
      expect(s.chunkLog).toHaveLength(CHUNKS);
      const [first, second] = s.chunkLog;
      expect(Object.keys(first.images).sort()).toEqual([...cameras].sort());
      {
        await warm;
        const request = (log: ChunkLogEntry, t: number): ChunkRequest => ({
          robotType: embodiment.robotType,
          state: Float32Array.from(log.state),
          images: framesOf(log, t),
          prompt: log.prompt,
          timestampMs: t,
        });
        history.push({ state: new Float64Array(0), images: framesOf(first, 0), timestampMs: 0 });
        const a = await loaded.source(request(first, 0));
        for (let t = 1; t <= EXECUTE; t++)
          history.push({ state: new Float64Array(0), images: framesOf(second, t), timestampMs: t });
        const b = await loaded.source(request(second, EXECUTE));
        const maxDiff = (want: Float32Array, got: number[]) => {
          expect(got).toHaveLength(want.length);
          return Math.max(...Array.from(want, (v, i) => Math.abs(v - got[i])));
        };
        console.log(
          `chunks, browser vs Node: max |diff| ${maxDiff(a.actions, first.actions)}, ${maxDiff(b.actions, second.actions)}`,
        );
        expect(maxDiff(a.actions, first.actions)).toBeLessThan(1e-6);
        expect(maxDiff(b.actions, second.actions)).toBeLessThan(1e-6);
      }
    }
  }, 300_000);
});
