/**
 * Chunk latency of KV-cached sampling (issue 12): prefill (prefix + generation into the cache, once
 * per chunk), one denoising step (the action expert against the cache), and a whole chunk (prefill
 * + Euler steps), plus the bytes the buffer pool hands out during one step. Two paths, interleaved
 * in one run so they share the machine's load: the cache read in place (what the library does) and
 * the peer that concatenates cache and present keys/values on every attention call (the copy the
 * library made before; reachable only through KVCache's internal `concatenatePeer`). Prints a
 * table; asserts nothing.
 *
 *   npm run bench                                  # tiny configuration (runs on SwiftShader)
 *   npx tsx bench/chunkLatency.bench.ts --a1-3b    # a1-3b, f16 weights, random init; needs a GPU
 *
 * Options: --iters N (median of N after a warm-up, default 3), --steps N (default 10), --batch N.
 */
import { eulerSample } from '@vla/flow-matching';
import { manualSeed, noGrad, randNormal, runAndExit, tidy, type Backend } from '@vla/tensor-webgpu';
import { InternVLAA1Policy, a13bConfig, tinyConfig, type SamplingContext } from '../src/index';
import { disposeBatch, syntheticBatch } from '../test/synthetic';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

function isSwiftShader(engine: Backend): boolean {
  return engine.kind === 'webgpu' && engine.isCpuAdapter;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const PATHS = ['in place', 'concatenation (peer)'] as const;
type Path = (typeof PATHS)[number];

async function main(engine: Backend): Promise<void> {
  const big = process.argv.includes('--a1-3b');
  const iters = Number(arg('iters', '3'));
  const steps = Number(arg('steps', '10'));
  const B = Number(arg('batch', '1'));
  const config = big ? a13bConfig() : tinyConfig();
  const weightDtype = big ? 'f16' : 'f32';
  const device = engine.description;
  const header =
    '| config | device | KV path | cached tokens | prefill (ms) | denoise step (ms) | ' +
    `chunk: prefill + ${steps} steps (ms) | bytes handed out per step |\n|---|---|---|---|---|---|---|---|`;
  if (big && isSwiftShader(engine)) {
    console.log(
      `${header}\n| a1-3b (f16 weights) | ${device} (SwiftShader) | — | — | not measured: needs a GPU | | | |`,
    );
    return;
  }
  manualSeed(0);
  const policy = InternVLAA1Policy.create(config, { weightDtype });
  policy.eval();
  const batch = syntheticBatch(config, B, 1);
  const { chunkSize: H, stateDim: D } = config;
  const noise = randNormal([B, H, D], { seed: 1 });

  const prefill = (path: Path): SamplingContext => {
    const ctx = policy.prefill(batch);
    ctx.cache.concatenatePeer = path !== 'in place';
    return ctx;
  };
  const acquired = () => engine.poolStats().acquiredBytes;
  const times = new Map(
    PATHS.map((p) => [p, { prefill: [] as number[], step: [] as number[], chunk: [] as number[], bytes: 0 }]),
  );
  let cached = 0;
  // Iteration 0 warms up (pipeline compilation, pool growth) and is not counted.
  for (let it = 0; it <= iters; it++) {
    for (const path of PATHS) {
      const r = times.get(path)!;
      let t0 = performance.now();
      const ctx = prefill(path);
      await ctx.cache.layer(ctx.cache.numLayers - 1)!.v.toArray();
      const prefillMs = performance.now() - t0;
      cached = ctx.cache.length;
      t0 = performance.now();
      const before = acquired();
      // Inference as sampleActions runs it: no gradient recorded.
      const v = noGrad(() => policy.denoiseStep(ctx, batch.actions, 0.5));
      const bytes = acquired() - before;
      await v.toArray();
      const stepMs = performance.now() - t0;
      v.dispose();
      ctx.dispose();
      // A whole chunk, as sampleActions computes it (prefill, then Euler steps from the noise).
      t0 = performance.now();
      const actions = noGrad(() =>
        tidy(() => {
          const c = prefill(path);
          try {
            return eulerSample((x, t) => policy.denoiseStep(c, x, t), [B, H, D], { steps, noise });
          } finally {
            c.dispose();
          }
        }),
      );
      await actions.toArray();
      const chunkMs = performance.now() - t0;
      actions.dispose();
      if (it === 0) continue;
      r.prefill.push(prefillMs);
      r.step.push(stepMs);
      r.chunk.push(chunkMs);
      r.bytes = bytes;
    }
  }
  const name = big ? 'a1-3b (f16 weights, random init)' : `${config.name} (f32)`;
  console.log(header);
  for (const path of PATHS) {
    const r = times.get(path)!;
    console.log(
      `| ${name} | ${device} | ${path} | ${cached} | ${median(r.prefill).toFixed(1)} | ${median(r.step).toFixed(1)} | ` +
        `${median(r.chunk).toFixed(1)} | ${(r.bytes / 2 ** 10).toFixed(1)} KiB |`,
    );
  }
  console.log(`(median of ${iters} after a warm-up, batch ${B})`);
  noise.dispose();
  disposeBatch(batch);
  policy.dispose();
}

void runAndExit(main);
