// `npm run bench` (in packages/tensor-webgpu): our kernels against tfjs-backend-webgpu on the same
// device, one row at a time, printed and written to BENCHMARKS.md at the repository root.
//   --full        GPU sizes even on SwiftShader (default there: cut-down sizes)
//   --only=GROUP  run one group (matmul, linear f16 weights, attention, conv2d, rmsNorm, layerNorm)
//   --out=PATH    where to write the table (default: <repo>/BENCHMARKS.md); --no-write to skip.
//                 Only the generated blocks (between <!-- bench:NAME --> markers) are replaced, so
//                 hand-written sections of the file survive a run.
//   --budget=MS   time per measured batch (default 300 on SwiftShader, 200 otherwise)
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { runAndExit, type Engine } from '../src/index.js';
import { fullCases, swiftShaderCases, type BenchCase, type Prepared } from './cases.js';
import { withBlocks } from './blocks.js';
import { timeInterleaved } from './timing.js';
import { tfjsOnEngine, type Tfjs } from './tfjs.js';

interface Row {
  c: BenchCase;
  ours: number | string;
  tfjs: number | string;
}

function arg(name: string): string | undefined {
  const hit = process.argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (!hit) return undefined;
  return hit.includes('=') ? hit.slice(hit.indexOf('=') + 1) : '';
}

function rate(c: BenchCase, ms: number | string): string {
  if (typeof ms !== 'number') return '—';
  const v = (c.flops ?? c.bytes!) / ms / 1e6;
  return `${v >= 100 ? v.toFixed(0) : v.toPrecision(3)} ${c.flops ? 'GFLOP/s' : 'GB/s'}`;
}

function fmtMs(ms: number | string): string {
  return typeof ms === 'number' ? ms.toFixed(ms < 10 ? 3 : 1) : ms;
}

/** Times our op and tfjs's in alternating batches; a side that cannot run reports why. */
async function measurePair(c: BenchCase, engine: Engine, tfjs: Tfjs, budget: number): Promise<[number | string, number | string]> {
  const sides: (Prepared | string)[] = [];
  for (const prepare of [() => c.ours(engine), () => c.tfjs(tfjs)]) {
    try {
      sides.push(prepare() ?? 'op not available');
    } catch (e) {
      sides.push(`error: ${(e as Error).message.split('\n')[0].slice(0, 80)}`);
    }
  }
  try {
    const ready = sides.filter((s): s is Prepared => typeof s !== 'string');
    const times = await timeInterleaved(ready, budget);
    let k = 0;
    return sides.map((s) => (typeof s === 'string' ? s : times[k++])) as [number | string, number | string];
  } catch (e) {
    const msg = `error: ${(e as Error).message.split('\n')[0].slice(0, 80)}`;
    return [msg, msg];
  } finally {
    for (const s of sides) if (typeof s !== 'string') s.dispose();
  }
}

function versionOf(pkg: string): string {
  try {
    const path = fileURLToPath(new URL(`../../../node_modules/${pkg}/package.json`, import.meta.url));
    return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

function table(rows: Row[]): string {
  const lines = [
    '| op | shape | ours (ms) | ours | tfjs-webgpu (ms) | tfjs-webgpu | ours / tfjs |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const { c, ours, tfjs } of rows) {
    const ratio = typeof ours === 'number' && typeof tfjs === 'number' ? `${(tfjs / ours).toFixed(2)}x` : '—';
    lines.push(
      `| ${c.group} | ${c.shape} | ${fmtMs(ours)} | ${rate(c, ours)} | ${fmtMs(tfjs)} | ${rate(c, tfjs)} | ${ratio} |`,
    );
  }
  return lines.join('\n');
}

async function main(engine: Engine): Promise<void> {
  const info = engine.gpu.adapterInfo;
  const swiftShader = /swiftshader/i.test(`${info.architecture} ${info.device} ${info.description}`);
  const full = arg('full') !== undefined || !swiftShader;
  const only = arg('only');
  const budget = Number(arg('budget') ?? (swiftShader ? 300 : 200));
  let cases = full ? fullCases() : swiftShaderCases();
  if (only) cases = cases.filter((c) => c.group === only);
  const tfjs: Tfjs = await tfjsOnEngine(engine);

  const device = `${info.vendor || '?'} / ${info.architecture || '?'} / ${info.device || '?'} (${info.description || 'no description'})`;
  console.log(`device: ${device}; driver: ${engine.gpu.driver?.kind ?? 'browser'}; f16: ${engine.hasF16}`);
  console.log(
    `${cases.length} rows (${full ? 'full GPU sizes' : 'cut down for SwiftShader; --full for GPU sizes'})\n`,
  );
  const rows: Row[] = [];
  for (const c of cases) {
    const [ours, tf] = await measurePair(c, engine, tfjs, budget);
    const row = { c, ours, tfjs: tf };
    rows.push(row);
    console.log(table([row]).split('\n')[2]);
  }
  const md = table(rows);
  console.log(`\n${md}`);

  const measured = new Set(rows.map((r) => `${r.c.group} ${r.c.shape}`));
  const unmeasured = fullCases().filter((c) => !measured.has(`${c.group} ${c.shape}`));
  const head = `# Benchmarks: @vla/tensor-webgpu vs @tensorflow/tfjs-backend-webgpu

Generated by \`npm run bench\` in \`packages/tensor-webgpu\` (bench/run.ts) on ${new Date().toISOString()}.

- device: ${device}${swiftShader ? ' — **SwiftShader, a CPU implementation of Vulkan: no GPU was available in this session**' : ''}
- driver: ${engine.gpu.driver?.kind ?? 'browser'}${engine.gpu.driver?.icd ? ` (${engine.gpu.driver.icd})` : ''}; features: shader-f16 ${engine.hasF16}, subgroups ${engine.hasSubgroups}, timestamp-query ${engine.hasTimestamps}
- host: ${cpus().length} CPUs, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ')} at the end of the run (shared with other jobs)
- software: Node ${process.versions.node}, Dawn via npm \`webgpu\` ${versionOf('webgpu')}, @tensorflow/tfjs-backend-webgpu ${versionOf('@tensorflow/tfjs-backend-webgpu')} on the same GPUDevice
- sizes: ${full ? 'full (GPU) sizes' : 'cut down for SwiftShader'}
- method: f32 inputs; one warm-up run (compilation) and one timing run per library to size its batches, then 5 rounds in which a batch of ours and a batch of tfjs alternate (each batch about the budget, at least one run, between full GPU syncs (\`engine.sync()\`; tfjs: end its open pass, \`submitQueue()\`, \`onSubmittedWorkDone()\`); the median batch time per run is reported. GFLOP/s use dense FLOPs (attention 4·H·S²·D even where the mask skips blocks); GB/s count one read of x and one write of y. tfjs attention and norms are composed from tfjs ops; tfjs conv2d runs in its native NHWC layout, ours in NCHW. "ours / tfjs" > 1 means ours is faster.

${md}`;
  const pending = `## Not yet measured on a GPU

${
  swiftShader || unmeasured.length
    ? `${swiftShader ? 'No GPU was available in this session, so every figure above comes from SwiftShader on a shared 2-core CPU and says nothing about GPU speed. ' : ''}These rows still need a run on a machine with a GPU (\`npm run bench -- --full\`):\n\n${(swiftShader ? fullCases() : unmeasured).map((c) => `- ${c.group} ${c.shape}`).join('\n')}`
    : 'None: every row ran on this device.'
}`;
  const out = arg('out') || fileURLToPath(new URL('../../../BENCHMARKS.md', import.meta.url));
  if (arg('no-write') === undefined) {
    if (only) console.log(`\n--only runs part of the table; not writing ${out} (record the rows by hand)`);
    else {
      writeFileSync(out, withBlocks(existsSync(out) ? readFileSync(out, 'utf8') : '', { table: head, pending }));
      console.log(`\nwrote ${out}`);
    }
  }
}

// The WGSL kernels against tfjs-webgpu: always on the WebGPU engine.
void runAndExit(main, { backend: 'webgpu' });
