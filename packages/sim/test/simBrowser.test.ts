import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HAS_CHROMIUM, openBrowserHarness, type BrowserHarness } from './browserHarness.js';
import type { BrowserTaskResult } from './simBrowserPage.js';

const here = dirname(fileURLToPath(import.meta.url));
const SIZE = 32;
const STEPS = 20;

// Passed as source text so the test runner's transforms never touch the browser code.
const PAGE_SCRIPT = `import('/page.js').then((p) => p.runTaskInPage(${SIZE}, ${STEPS}))`;

// Needs Debian's Chromium (never downloaded); the skip is visible in the test report.
describe.skipIf(!HAS_CHROMIUM)('SimEnv in headless Chromium (navigator.gpu, SwiftShader)', () => {
  let harness: BrowserHarness;

  beforeAll(async () => {
    harness = await openBrowserHarness(join(here, 'simBrowserPage.ts'));
  }, 120_000);

  afterAll(async () => {
    await harness?.close();
  });

  test('loads a pick-place task, steps it with the expert and renders it in the page', async () => {
    const page = await harness.browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${harness.url}/`);
    const r = (await page.evaluate(PAGE_SCRIPT)) as BrowserTaskResult;
    await page.close();
    console.log(
      `browser task (${r.adapter}): "${r.instruction}", joints moved ${r.moved.toFixed(3)}, frames changed ${JSON.stringify(r.changed)}, head geom-id agreement with mj_ray ${(100 * r.agreement).toFixed(2)}%`,
    );
    expect(errors).toEqual([]);
    expect(r.cameraKind).toBe('gpu');
    expect(r.instruction.length).toBeGreaterThan(10);
    expect(r.moved).toBeGreaterThan(0.05);
    for (const c of ['head', 'hand_left', 'hand_right'])
      expect(r.sizes[c]).toEqual([SIZE, SIZE, SIZE * SIZE * 3]);
    // The expert moved an arm: some wrist camera's view changed.
    expect(Math.max(r.changed.hand_left, r.changed.hand_right)).toBeGreaterThan(5);
    expect(r.colours).toBeGreaterThan(20);
    expect(r.agreement).toBeGreaterThanOrEqual(0.97);
    expect(r.canvasMaxDiff).toBeLessThanOrEqual(1);
    expect(r.tensorMaxDiff).toBeLessThan(1e-6);
  }, 120_000);
});
