/**
 * The tiny policy on each backend: training step (loss + backward + AdamW) and sampling chunk
 * (prefill + 10 cached Euler steps) at batch 1, 8 and 32, as samples/s, with the CPU engine's speed-up
 * over WebGPU on the same machine (SwiftShader where there is no GPU). Prints a table; asserts nothing.
 *
 *   npm run bench:backends -w @vla/internvla-a1
 *   ... -- --batches 1,8,32 --webgpu-batches 1 --iters 3 --threads 2
 *
 * WebGPU on SwiftShader needs ~9 s per batch-1 training step and minutes at batch 32, so by default it
 * runs at batch 1 only (`--webgpu-batches 1,8` adds more).
 */
import { AdamW, CpuEngine, Engine, manualSeed, setEngine, shutdown, tidy, type Backend } from '@vla/tensor-webgpu';
import { InternVLAA1Policy, policyConfig } from '../src/index';
import { disposeBatch, syntheticBatch } from '../test/synthetic';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const list = (s: string) => (s ? s.split(',').map(Number) : []);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Row {
  backend: string;
  batch: number;
  trainMs: number;
  chunkMs: number;
}

async function measure(engine: Backend, batch: number, iters: number): Promise<Row> {
  setEngine(engine);
  manualSeed(0);
  const config = policyConfig('tiny');
  const policy = InternVLAA1Policy.create(config);
  const data = syntheticBatch(config, batch, 1);
  const time = async (fn: () => Promise<void>) => {
    // Warm-up: pipelines and pool growth, and V8 tiering the WebAssembly and JS up (it compiles hot
    // functions with its optimising compiler in the background: the first seconds run slower code).
    const t0 = performance.now();
    do await fn();
    while (performance.now() - t0 < 3000);
    const out: number[] = [];
    for (let i = 0; i < iters; i++) {
      const t0 = performance.now();
      await fn();
      out.push(performance.now() - t0);
    }
    return median(out);
  };
  policy.eval();
  const chunkMs = await time(async () => {
    const { actions } = policy.sampleActions(data, { steps: 10, seed: 1 });
    await actions.toArray();
    actions.dispose();
  });
  policy.train();
  const opt = new AdamW(policy.parameters(), { lr: 1e-4, maxGradNorm: 1 });
  let seed = 0;
  const trainMs = await time(async () => {
    const loss = tidy(() => {
      const l = policy.computeLoss(data, { seed: seed++ });
      l.loss.backward();
      opt.step();
      opt.zeroGrad();
      return l.loss;
    });
    await loss.item();
    loss.dispose();
  });
  opt.dispose();
  disposeBatch(data);
  policy.dispose();
  return { backend: engine.description, batch, trainMs, chunkMs };
}

async function main(): Promise<void> {
  const batches = list(arg('batches', '1,8,32'));
  const gpuBatches = list(arg('webgpu-batches', '1'));
  const iters = Number(arg('iters', '3'));
  const threads = process.argv.includes('--threads') ? Number(arg('threads', '0')) : undefined;
  const cpu = await CpuEngine.create(threads ? { threads } : {});
  const rows: Row[] = [];
  for (const b of batches) {
    rows.push(await measure(cpu, b, iters));
    console.error(`cpu batch ${b}: train ${rows.at(-1)!.trainMs.toFixed(0)} ms`);
  }
  let gpu: Engine | undefined;
  const gpuRows: Row[] = [];
  if (gpuBatches.length) {
    gpu = await Engine.create();
    for (const b of gpuBatches) {
      gpuRows.push(await measure(gpu, b, Math.min(iters, 2)));
      console.error(`webgpu batch ${b}: train ${gpuRows.at(-1)!.trainMs.toFixed(0)} ms`);
    }
  }
  const sps = (b: number, ms: number) => ((b * 1000) / ms).toFixed(b * 1000 < ms ? 3 : 2);
  console.log(`\ntiny InternVLA-A1, ${new Date().toISOString().slice(0, 10)}`);
  console.log('| backend | batch | train step | train samples/s | sample chunk | chunk samples/s | CPU speed-up (train, chunk) |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of [...rows, ...gpuRows]) {
    const peer = gpuRows.find((g) => g.batch === r.batch);
    const ratio = r.backend === cpu.description && peer ? `${(peer.trainMs / r.trainMs).toFixed(0)}×, ${(peer.chunkMs / r.chunkMs).toFixed(0)}×` : '—';
    console.log(
      `| ${r.backend} | ${r.batch} | ${r.trainMs.toFixed(1)} ms | ${sps(r.batch, r.trainMs)} | ${r.chunkMs.toFixed(1)} ms | ${sps(r.batch, r.chunkMs)} | ${ratio} |`,
    );
  }
  cpu.destroy();
  gpu?.destroy();
  shutdown();
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
