// Serves the page: bundles page.ts for the browser with esbuild (MuJoCo stays out and is served from
// its own package, wasm included) and a checkpoint file (the shipped policy unless told otherwise),
// on 127.0.0.1.
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pretrainedPolicyPath } from '@vla/pretrained/node';
import { build } from 'esbuild';

/** Options of {@link serveBrowserPolicy}. */
export interface ServeOptions {
  /**
   * A policy checkpoint (`policy.safetensors` with its processor) served at `/checkpoint.safetensors`
   * and named in the page's URL. Default: the policy shipped with vla (`@vla/pretrained`'s
   * `tiny-lift2`); `null` serves none, and the page asks for a file.
   */
  readonly checkpoint?: string | null;
  /** Default 127.0.0.1: a page served elsewhere needs https for WebGPU. */
  readonly host?: string;
  /** Default 0: any free port. */
  readonly port?: number;
}

/** A running server of the page. */
export interface BrowserPolicyServer {
  /** The server's root, e.g. `http://127.0.0.1:8080/`. */
  readonly url: string;
  /** The checkpoint served, or null. */
  readonly checkpoint: string | null;
  /** The page with the checkpoint's URL in its query when one is served. */
  readonly pageUrl: string;
  close(): Promise<void>;
}

// The page resolves `@mujoco/mujoco` to the package's own build, which fetches mujoco.wasm beside it.
const HTML = `<!doctype html><meta charset="utf-8"><title>vla — InternVLA-A1 in the browser</title>
<script type="importmap">{"imports": {"@mujoco/mujoco": "/mujoco.js"}}</script>
<body></body><script type="module" src="/page.js"></script>`;

/** page.ts beside this module (src/serve.ts when run from source, dist/main.js when built). */
const PAGE_ENTRY = fileURLToPath(new URL('../src/page.ts', import.meta.url));

/** The page as one browser ES module (Node built-ins and Dawn left out: they must not be reached). */
export async function bundlePage(): Promise<Uint8Array> {
  const out = await build({
    entryPoints: [PAGE_ENTRY],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    external: ['webgpu', 'fs', 'node:*', '@mujoco/mujoco'],
    write: false,
    logLevel: 'silent',
  });
  return out.outputFiles[0].contents;
}

/** Bundles the page and serves it, MuJoCo's build and the checkpoint until `close()`. */
export async function serveBrowserPolicy(options: ServeOptions = {}): Promise<BrowserPolicyServer> {
  const mujocoDir = dirname(createRequire(import.meta.url).resolve('@mujoco/mujoco'));
  const checkpoint = options.checkpoint === undefined ? pretrainedPolicyPath() : options.checkpoint;
  const checkpointSize = checkpoint ? statSync(checkpoint).size : 0;
  const routes: Record<string, { body: string | Uint8Array; type: string }> = {
    '/': { body: HTML, type: 'text/html; charset=utf-8' },
    '/page.js': { body: await bundlePage(), type: 'text/javascript' },
    '/mujoco.js': { body: readFileSync(join(mujocoDir, 'mujoco.js')), type: 'text/javascript' },
    '/mujoco.wasm': { body: readFileSync(join(mujocoDir, 'mujoco.wasm')), type: 'application/wasm' },
  };
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/checkpoint.safetensors' && checkpoint) {
      // Streamed: checkpoints can be larger than what one buffer may hold.
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': checkpointSize });
      createReadStream(checkpoint).pipe(res);
      return;
    }
    const route = routes[path];
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': route.type });
    res.end(route.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('serveBrowserPolicy: the server has no address');
  const url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}/`;
  return {
    url,
    checkpoint,
    pageUrl: checkpoint
      ? `${url}?checkpoint=/checkpoint.safetensors&name=${encodeURIComponent(basename(checkpoint))}`
      : url,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
