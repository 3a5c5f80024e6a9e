/**
 * The README's picture of a report: the simulator's expert records ARX Lift-2 pick-place at 64 px, a
 * small policy (tiny structure, width 32, 32 px) trains on it for a few dozen steps with foresight
 * images and an evaluation, and headless Chromium screenshots the report into docs/report.png.
 *
 *   npx tsx scripts/reportPicture.ts             # in apps/trainer
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { init, shutdown } from '@vla/tensor-webgpu';
import { loadMujoco } from '@vla/sim';
import { recordDataset } from '@vla/sim/node';
import { parseTrainConfig, train, withPreset } from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'vla-report-picture-'));
try {
  await init();
  const dataset = join(root, 'lift2');
  await recordDataset({
    task: 'pick-place',
    robot: 'lift2',
    episodes: 2,
    out: dataset,
    imageWidth: 64,
    imageHeight: 64,
    mujoco: await loadMujoco(),
  });
  const config = parseTrainConfig(
    withPreset('tiny', {
      model: {
        tiny: {
          width: 32,
          layers: 1,
          visionLayers: 1,
          imageSize: 32,
          textTokens: 8,
          vocabSize: 256,
          chunkSize: 10,
        },
      },
      data: { datasets: [{ path: dataset }] },
      steps: 60,
      batchSize: 4,
      checkpointEvery: 30,
      foresightEvery: 20,
      optim: { lr: 1e-3 },
      eval: { every: 30, episodes: 1, tasks: ['pick-place'], robot: 'lift2', imageSize: 32, maxSteps: 60 },
    }),
  );
  const { reportPath } = await train(config, { out: join(root, 'run'), log: (m) => console.log(m) });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  await page.goto(pathToFileURL(reportPath).href);
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(import.meta.dirname, '..', 'docs', 'report.png'), fullPage: true });
  await browser.close();
} finally {
  rmSync(root, { recursive: true, force: true });
  shutdown();
}
