/**
 * The README's picture of the report: a default run of the main job (the shipped policy on two seeds
 * per task, a 40-step fine-tune) into a temporary folder, the top of its report screenshotted by
 * headless Chromium into docs/report.png.
 *
 *   npx tsx scripts/reportPicture.ts             # in apps/demo, after npm run build
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { Engine, init, shutdown } from '@vla/tensor-webgpu';
import { resolveDemoOptions } from '../src/demoOptions.js';
import { runDemo } from '../src/runDemo.js';

const root = mkdtempSync(join(tmpdir(), 'vla-demo-picture-'));
let code = 0;
try {
  const engine = await init();
  const options = resolveDemoOptions(
    { out: root },
    { gpu: engine instanceof Engine && !engine.isCpuAdapter },
  );
  const summary = await runDemo(options, {
    begin: (phase, total, unit) => console.log(`${phase}: ${total} ${unit}`),
    update: () => {},
    end: () => {},
    log: (message) => console.log(message),
  });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  const page = await browser.newPage({ viewport: { width: 1200, height: 1100 } });
  await page.goto(pathToFileURL(summary.files.report).href);
  await page.waitForTimeout(1000);
  await page.screenshot({ path: join(import.meta.dirname, '..', 'docs', 'report.png') });
  await browser.close();
} catch (e) {
  console.error(e);
  code = 1;
} finally {
  rmSync(root, { recursive: true, force: true });
  shutdown();
}
process.exit(code);
