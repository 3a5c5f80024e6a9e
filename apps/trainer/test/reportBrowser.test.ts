// The report opened from disk in headless Chromium (Debian's, never downloaded): it must render its
// charts and images with nothing but file: and data: URLs.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { decode } from 'fast-png';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { foresightLayout, foresightPng } from '../src/report/foresightPng';
import type { MetricRecord } from '../src/report/metricRecord';
import { writeReport } from '../src/report/writeReport';
import { rng, syntheticRun, uniform } from './reportSynthetic';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Pixels of a decoded RGB(A) screenshot within `tol` (per channel) of `rgb`. */
function countNear(png: ReturnType<typeof decode>, rgb: [number, number, number], tol: number): number {
  let n = 0;
  for (let i = 0; i < png.width * png.height; i++) {
    const o = i * png.channels;
    if (
      Math.abs(png.data[o] - rgb[0]) <= tol &&
      Math.abs(png.data[o + 1] - rgb[1]) <= tol &&
      Math.abs(png.data[o + 2] - rgb[2]) <= tol
    ) {
      n++;
    }
  }
  return n;
}

describe.skipIf(!existsSync(CHROMIUM))('report.html in headless Chromium', () => {
  let dir: string;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];
  const requests: string[] = [];
  const views = 2;
  const size = 24;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vla-report-browser-'));
    const rand = rng(41);
    const records: MetricRecord[] = syntheticRun(400, 42, 100);
    await mkdir(join(dir, 'foresight'));
    for (const step of [200, 400]) {
      const n = views * 3 * size * size;
      const file = `foresight/step-${step}.png`;
      await writeFile(join(dir, file), foresightPng(uniform(n, rand), uniform(n, rand), views, size));
      records.push({ kind: 'foresight', step, file, views });
    }
    records.push({ kind: 'event', step: 250, message: 'resumed from step 250' });
    const path = await writeReport(dir, {
      title: 'synthetic run',
      config: { model: 'a1-3b', lr: 1e-4, batch: 8, datasets: ['cr5_grasp_cube_v21'] },
      records,
      notes: ['synthetic records for the browser test'],
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(path).href, { waitUntil: 'load' });
  });

  afterAll(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('renders five charts and the foresight images with no errors and no fetches', async () => {
    const charts = await page.$$eval('.plot', (plots) =>
      plots.map((p) => ({
        id: p.getAttribute('data-plot'),
        canvases: [...p.querySelectorAll('canvas')].map((c) => {
          const r = c.getBoundingClientRect();
          return { w: r.width, h: r.height, cw: c.width, ch: c.height };
        }),
      })),
    );
    expect(charts.map((c) => c.id)).toEqual(['loss', 'lr', 'throughput', 'gradnorm', 'eval']);
    for (const c of charts) {
      expect(c.canvases, c.id!).toHaveLength(1);
      const [cv] = c.canvases;
      expect(Math.min(cv.w, cv.h, cv.cw, cv.ch), c.id!).toBeGreaterThan(100);
    }

    const tile = foresightLayout(views, size);
    const images = await page.$$eval('.foresight img', (imgs) =>
      (imgs as HTMLImageElement[]).map((i) => ({
        complete: i.complete,
        w: i.naturalWidth,
        h: i.naturalHeight,
      })),
    );
    expect(images).toEqual([
      { complete: true, w: tile.width, h: tile.height },
      { complete: true, w: tile.width, h: tile.height },
    ]);
    expect(await page.$$eval('.foresight figcaption', (f) => f.map((x) => x.textContent))).toEqual([
      'step 400 · 2 views · predicted t+15 | real t+15',
      'step 200 · 2 views · predicted t+15 | real t+15',
    ]);
    expect(await page.textContent('#stats')).toContain('400last step');
    expect(await page.$$eval('#timebar div', (d) => d.length)).toBe(5);

    // Switch the loss chart to linear y and back: the page script rebuilds it without errors.
    await page.click('#plot-loss input.log');
    await page.click('#plot-loss input.log');
    expect(await page.$$eval('#plot-loss canvas', (c) => c.length)).toBe(1);

    expect(consoleErrors).toEqual([]);
    const foreign = requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'));
    expect(foreign).toEqual([]);
    expect(requests.some((u) => u.startsWith('file:'))).toBe(true);
  });

  test('the charts draw their series and the full-page screenshot is not blank', async () => {
    // The loss chart's action-loss line (#1f77b4) and the eval chart's second task (#d62728) are drawn.
    const loss = decode(await page.locator('#plot-loss canvas').screenshot());
    expect(countNear(loss, [0x1f, 0x77, 0xb4], 40)).toBeGreaterThan(200);
    const evalChart = decode(await page.locator('#plot-eval canvas').screenshot());
    expect(countNear(evalChart, [0xd6, 0x27, 0x28], 40)).toBeGreaterThan(50);

    const shot = decode(await page.screenshot({ fullPage: true }));
    expect(shot.height).toBeGreaterThan(900);
    const colours = new Set<number>();
    const pixels = shot.width * shot.height;
    for (let i = 0; i < pixels; i++) {
      const o = i * shot.channels;
      colours.add((shot.data[o] << 16) | (shot.data[o + 1] << 8) | shot.data[o + 2]);
    }
    const white = countNear(shot, [255, 255, 255], 0);
    expect(colours.size).toBeGreaterThan(500);
    // The foresight tiles alone are ~2·(6·144²) px of noise; charts, text and the time bar add more.
    expect(pixels - white).toBeGreaterThan(0.1 * pixels);
  });
});
