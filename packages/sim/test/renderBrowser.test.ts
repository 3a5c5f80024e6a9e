import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HAS_CHROMIUM, openBrowserHarness, type BrowserHarness } from './browserHarness.js';
import type { BrowserRenderResult } from './renderBrowserPage.js';

const here = dirname(fileURLToPath(import.meta.url));

// Passed as source text so the test runner's transforms never touch the browser code.
const PAGE_SCRIPT = `(async () => {
  const { default: loadMujoco } = await import('/mujoco.js');
  const { renderInPage } = await import('/page.js');
  return renderInPage(loadMujoco, 32);
})()`;

// Needs Debian's Chromium (never downloaded); the skip is visible in the test report.
describe.skipIf(!HAS_CHROMIUM)('SceneRenderer in headless Chromium (navigator.gpu, SwiftShader)', () => {
  let harness: BrowserHarness;

  beforeAll(async () => {
    harness = await openBrowserHarness(join(here, 'renderBrowserPage.ts'));
  }, 120_000);

  afterAll(async () => {
    await harness?.close();
  });

  test('loads the scene with MuJoCo in the page and renders it into a canvas, a frame and a tensor', async () => {
    const page = await harness.browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${harness.url}/`);
    const r = (await page.evaluate(PAGE_SCRIPT)) as BrowserRenderResult;
    await page.close();
    console.log(
      `browser (${r.adapter}): geom-id agreement with mj_ray ${(100 * r.agreement).toFixed(2)}%, canvas vs frame max diff ${r.canvasMaxDiff}, tensor vs frame max diff ${r.tensorMaxDiff.toExponential(1)}`,
    );
    expect(errors).toEqual([]);
    expect(r.agreement).toBeGreaterThanOrEqual(0.97);
    expect(r.colours).toBeGreaterThan(20);
    expect(r.canvasMaxDiff).toBeLessThanOrEqual(1);
    expect(r.tensorMaxDiff).toBeLessThan(1e-6);
  }, 120_000);
});
