// Writes docs/browser-policy.png: the page in headless Chromium (SwiftShader) served as `npm start`
// serves it without an argument (the shipped policy), running two chunks at the policy's 64 px.
import { fileURLToPath } from 'node:url';
import { init } from '@vla/tensor-webgpu';
import { serveBrowserPolicy } from '../src/serve.js';
import { launchChromium } from '../test/chromium.js';

const out = fileURLToPath(new URL('../docs/browser-policy.png', import.meta.url));
await init();
const server = await serveBrowserPolicy();
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1000, height: 640 } });
  await page.goto(`${server.pageUrl}&steps=1&execute=5&chunks=2&autorun=1`);
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
}
process.exit(0);
