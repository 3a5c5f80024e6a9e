// Writes docs/browser-policy.png: the page in headless Chromium (SwiftShader) running two chunks of a
// tiny random checkpoint for the ARX Lift-2 (the checkpoint of the test), cameras rendered at 128 px.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { savePolicy } from '@vla/internvla-a1';
import { simRobot } from '@vla/sim';
import { init } from '@vla/tensor-webgpu';
import { serveBrowserPolicy } from '../src/serve.js';
import { launchChromium } from '../test/chromium.js';
import { tinyPolicy, tinyPolicyConfig, tinyProcessorFor } from '@vla/policy-runtime/testing';

const out = fileURLToPath(new URL('../docs/browser-policy.png', import.meta.url));
const embodiment = simRobot('lift2').embodiment;
const config = tinyPolicyConfig(embodiment.cameras.length, 6);
const dir = mkdtempSync(join(tmpdir(), 'browser-policy-shot-'));
const checkpoint = join(dir, 'policy.safetensors');
await init();
const policy = tinyPolicy(config, 3);
await savePolicy(checkpoint, policy, { processor: tinyProcessorFor(config, embodiment, 12) });
policy.dispose();
const server = await serveBrowserPolicy({ checkpoint });
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1000, height: 640 } });
  await page.goto(`${server.pageUrl}&size=128&steps=1&execute=5&chunks=2&autorun=1`);
  await page.waitForFunction(`['stopped', 'error'].includes(window.__vla.phase)`, undefined, {
    timeout: 600_000,
  });
  const errors = (await page.evaluate('window.__vla.errors')) as string[];
  if (errors.length) throw new Error(`the page failed: ${errors.join('; ')}`);
  await page.screenshot({ path: out, fullPage: true });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
