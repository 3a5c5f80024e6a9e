/**
 * Policy speed: training step time and KV-cached sampling latency (10 Euler steps per 50-action
 * chunk), plus the peak bytes the buffer pool held. Prints a table; asserts nothing.
 *
 *   npm run bench                       # tiny configuration (runs on SwiftShader)
 *   npm run bench -- --config a1-3b     # released sizes, random weights, sampling only; needs a GPU
 *   npm run bench -- --weights f16      # weight-only f16 (default for a1-3b; inference only)
 *
 * Options: --config NAME, --batch N, --iters N, --steps N (Euler steps), --weights f32|f16.
 */
import { AdamW, manualSeed, runAndExit, tidy, type Backend } from '@vla/tensor-webgpu';
import { InternVLAA1Policy, policyConfig, type InternVLAA1Config } from '../src/index';
import { disposeBatch, syntheticBatch } from '../test/synthetic';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

function isSwiftShader(engine: Backend): boolean {
  return engine.kind === 'webgpu' && engine.isCpuAdapter;
}

function poolBytes(engine: Backend): number {
  const s = engine.poolStats();
  return s.inUseBytes + s.freeBytes + s.parkedBytes;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

async function timeIt(iters: number, fn: () => Promise<void>): Promise<number[]> {
  await fn(); // warm-up: pipeline compilation, pool growth
  const out: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

async function main(engine: Backend): Promise<void> {
  const name = arg('config', 'tiny');
  const B = Number(arg('batch', '1'));
  const iters = Number(arg('iters', '3'));
  const steps = Number(arg('steps', '10'));
  const config: InternVLAA1Config = policyConfig(name);
  const device = engine.description;
  const big = config.vlm.text.numLayers > 8;
  const weightDtype = arg('weights', big ? 'f16' : 'f32');
  if (weightDtype !== 'f32' && weightDtype !== 'f16') throw new Error(`--weights must be f32 or f16, got ${weightDtype}`);
  if (big && isSwiftShader(engine)) {
    console.log(
      `| config | device | chunk latency | peak pool |\n|---|---|---|---|\n| ${name} | ${device} (SwiftShader) | unmeasured (needs a GPU) | — |`,
    );
    return;
  }
  manualSeed(0);
  const t0 = performance.now();
  const policy = InternVLAA1Policy.create(config, { weightDtype });
  const buildMs = performance.now() - t0;
  policy.eval();
  const batch = syntheticBatch(config, B, 1);
  const rows: [string, string][] = [
    ['config', `${name} (${(policy.parameterCounts().trainable / 1e6).toFixed(2)}M trainable)`],
    ['device', device],
    ['batch', String(B)],
    ['weights', `${weightDtype} storage, f32 arithmetic (${mib(policy.weightBytes().total)})`],
    ['build (random init)', `${buildMs.toFixed(0)} ms`],
  ];

  let peak = poolBytes(engine);
  const chunk = await timeIt(iters, async () => {
    const { actions } = policy.sampleActions(batch, { steps, seed: 1 });
    peak = Math.max(peak, poolBytes(engine));
    await actions.toArray();
    actions.dispose();
  });
  rows.push([
    `sample chunk (${steps} Euler steps, KV cache)`,
    `${median(chunk).toFixed(1)} ms (median of ${iters})`,
  ]);

  // The two parts of a chunk: prefill (prefix + generation, once) and one cached denoising step.
  const prefill = await timeIt(iters, async () => {
    const c = policy.prefill(batch);
    await c.cache.layer(c.cache.numLayers - 1)!.v.toArray();
    c.dispose();
  });
  rows.push(['prefill (prefix + generation → KV cache)', `${median(prefill).toFixed(1)} ms`]);
  const ctx = policy.prefill(batch);
  const step = await timeIt(iters, async () => {
    const v = policy.denoiseStep(ctx, batch.actions, 0.5);
    await v.toArray();
    v.dispose();
  });
  ctx.dispose();
  rows.push(['one denoise step (action expert vs cache)', `${median(step).toFixed(1)} ms`]);

  // Weight-only f16 is for inference; training runs in f32.
  if (!big && weightDtype === 'f32') {
    policy.train();
    const opt = new AdamW(policy.parameters(), { lr: 1e-4, maxGradNorm: 1 });
    let seed = 0;
    const train = await timeIt(iters, async () => {
      const loss = tidy(() => {
        const l = policy.computeLoss(batch, { seed: seed++ });
        l.loss.backward();
        opt.step();
        opt.zeroGrad();
        return l.loss;
      });
      peak = Math.max(peak, poolBytes(engine));
      await loss.item();
      loss.dispose();
    });
    rows.push([
      'train step (loss + backward + AdamW)',
      `${median(train).toFixed(1)} ms (median of ${iters})`,
    ]);
    opt.dispose();
  }
  rows.push(['peak pool bytes', mib(Math.max(peak, poolBytes(engine)))]);
  console.log('| measure | value |\n|---|---|');
  for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
  disposeBatch(batch);
  policy.dispose();
}

void runAndExit(main);
