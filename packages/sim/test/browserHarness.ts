// Headless Chromium with WebGPU on SwiftShader, serving one bundled test page plus MuJoCo's wasm
// build: shared by the browser tests. Needs Debian's Chromium (never downloaded).
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { HEADLESS_WEBGPU_ARGS, chromiumExecutable } from '@vla/tensor-webgpu/chromium';

/** Debian's Chromium, or `CHROMIUM_PATH`. */
export const CHROMIUM = chromiumExecutable();

/** Whether the browser tests can run here (the skip is visible in the test report). */
export const HAS_CHROMIUM = existsSync(CHROMIUM);

const mujocoDir = dirname(createRequire(import.meta.url).resolve('@mujoco/mujoco'));

// The page resolves `@mujoco/mujoco` to the package's own build, which fetches mujoco.wasm beside it.
const PAGE = `<!doctype html><title>vla sim</title>
<script type="importmap">{"imports": {"@mujoco/mujoco": "/mujoco.js"}}</script><body></body>`;

/** A browser and a local server whose `/page.js` is the bundled test page. */
export interface BrowserHarness {
  readonly browser: Browser;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Bundles `entry` for the browser (Dawn and Node built-ins stay out, so the bundle proves the code
 * is browser-safe; MuJoCo is loaded from its own files), serves it with MuJoCo's build and launches
 * Chromium.
 */
export async function openBrowserHarness(entry: string): Promise<BrowserHarness> {
  const bundle = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    external: ['webgpu', 'fs', 'node:*', '@mujoco/mujoco'],
    write: false,
    logLevel: 'silent',
  });
  const routes: Record<string, { body: string | Uint8Array; type: string }> = {
    '/': { body: PAGE, type: 'text/html' },
    '/page.js': { body: bundle.outputFiles[0].contents, type: 'text/javascript' },
    '/mujoco.js': { body: readFileSync(join(mujocoDir, 'mujoco.js')), type: 'text/javascript' },
    '/mujoco.wasm': { body: readFileSync(join(mujocoDir, 'mujoco.wasm')), type: 'application/wasm' },
  };
  const server: Server = createServer((req, res) => {
    const route = routes[new URL(req.url ?? '/', 'http://x').pathname];
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': route.type });
    res.end(route.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('no address');
  let browser: Browser;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [...HEADLESS_WEBGPU_ARGS],
    });
  } catch (e) {
    server.close();
    throw e;
  }
  return {
    browser,
    url: `http://127.0.0.1:${addr.port}`,
    async close() {
      await browser.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
