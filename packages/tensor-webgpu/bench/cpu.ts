// CPU engine benchmark: GFLOP/s of matmul, conv2d and masked attention on our WebAssembly engine
// (1 and 2 threads), TensorFlow.js's WebAssembly backend (XNNPACK) and numpy's BLAS, and the norms'
// milliseconds against tfjs, with ratios.
// Run: npm run bench:cpu -w @vla/tensor-webgpu
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import {
  conv2d,
  CpuEngine,
  groupNorm,
  layerNorm,
  matmul,
  rmsNorm,
  scaledDotProductAttention,
  sum,
  tidy,
  Tensor,
} from '../src/index.js';

interface MatmulCase {
  kind: 'matmul';
  name: string;
  m: number;
  k: number;
  n: number;
}
interface ConvCase {
  kind: 'conv';
  name: string;
  /** x [n, c, h, w], weight [o, c, k, k], stride 1, padding k/2. */
  x: [number, number, number, number];
  o: number;
  k: number;
}
interface AttentionCase {
  kind: 'attention';
  name: string;
  /** q, k, v [b, h, s, d] with the policy's cumulative segment mask over `segments` equal blocks. */
  b: number;
  h: number;
  s: number;
  d: number;
  segments: number;
  /** Time the backward too (dQ, dK, dV of the sum of the output). */
  backward?: boolean;
}
type Case = MatmulCase | ConvCase | AttentionCase;

interface NormCase {
  name: string;
  kind: 'layer' | 'rms' | 'group';
  shape: number[];
  groups?: number;
}

const NORMS: NormCase[] = [
  { name: 'layerNorm [512, 1024]', kind: 'layer', shape: [512, 1024] },
  { name: 'rmsNorm [512, 1024]', kind: 'rms', shape: [512, 1024] },
  { name: 'groupNorm [1, 128, 32, 32] g32', kind: 'group', shape: [1, 128, 32, 32], groups: 32 },
];

/** The cumulative segment mask (block i attends to blocks ≤ i), 1 = attend. */
function segmentMask(s: number, segments: number): Uint32Array {
  const m = new Uint32Array(s * s);
  const seg = (i: number) => Math.floor((i * segments) / s);
  for (let i = 0; i < s; i++) for (let j = 0; j < s; j++) m[i * s + j] = seg(j) <= seg(i) ? 1 : 0;
  return m;
}

const CASES: Case[] = [
  { kind: 'matmul', name: '256³', m: 256, k: 256, n: 256 },
  { kind: 'matmul', name: '512³', m: 512, k: 512, n: 512 },
  { kind: 'matmul', name: '1024³', m: 1024, k: 1024, n: 1024 },
  { kind: 'matmul', name: '[512,1024]x[1024,1024]', m: 512, k: 1024, n: 1024 },
  { kind: 'matmul', name: '[64,256]x[256,768]', m: 64, k: 256, n: 768 },
  { kind: 'matmul', name: '[128,768]x[768,3072]', m: 128, k: 768, n: 3072 },
  { kind: 'conv', name: '[1,3,64,64]→32 k3', x: [1, 3, 64, 64], o: 32, k: 3 },
  { kind: 'conv', name: '[1,64,32,32]→64 k3', x: [1, 64, 32, 32], o: 64, k: 3 },
  { kind: 'conv', name: '[1,128,16,16]→128 k3', x: [1, 128, 16, 16], o: 128, k: 3 },
  { kind: 'attention', name: 'attention [1,8,256,64] segment mask', b: 1, h: 8, s: 256, d: 64, segments: 3 },
  // The tiny policy's decoder attention in training: batch 8, 4 heads of 16, 163 tokens, 4 blocks.
  { kind: 'attention', name: 'attention [8,4,163,16] segment mask', b: 8, h: 4, s: 163, d: 16, segments: 4 },
  {
    kind: 'attention',
    name: 'attention [8,4,163,16] segment mask, forward + backward',
    b: 8,
    h: 4,
    s: 163,
    d: 16,
    segments: 4,
    backward: true,
  },
];

const flops = (c: Case) =>
  c.kind === 'matmul'
    ? 2 * c.m * c.k * c.n
    : c.kind === 'conv'
      ? 2 * c.x[0] * c.o * c.x[2] * c.x[3] * c.x[1] * c.k * c.k
      : // Dense: 2 matmuls of 2·S²·D per head forward, 4 more backward (dV, dP, dQ, dK).
        (c.backward ? 12 : 4) * c.b * c.h * c.s * c.s * c.d;

function rand(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() * 2 - 1;
  return a;
}

/**
 * Median wall-clock ms of `run` over ~`budgetMs` after a warm-up, and the least process CPU time of
 * one run (what a single-threaded run costs when other processes share the cores: the wall clock then
 * measures the contention, the CPU time does not).
 */
function time(run: () => void, budgetMs = 400): { wall: number; cpu: number } {
  run();
  const t0 = performance.now();
  run();
  const once = Math.max(performance.now() - t0, 0.01);
  const iters = Math.max(5, Math.min(200, Math.floor(budgetMs / once)));
  const samples: number[] = [];
  let cpu = Infinity;
  for (let i = 0; i < iters; i++) {
    const t = performance.now();
    const c = process.cpuUsage();
    run();
    const d = process.cpuUsage(c);
    samples.push(performance.now() - t);
    cpu = Math.min(cpu, (d.user + d.system) / 1000);
  }
  samples.sort((a, b) => a - b);
  return { wall: samples[samples.length >> 1], cpu };
}

type Timing = ReturnType<typeof time>;

function ours(engine: CpuEngine, c: Case): Timing {
  if (c.kind === 'matmul') {
    const a = Tensor.fromData(rand(c.m * c.k), [c.m, c.k], 'f32', engine);
    const b = Tensor.fromData(rand(c.k * c.n), [c.k, c.n], 'f32', engine);
    const ms = time(() => matmul(a, b).dispose());
    a.dispose();
    b.dispose();
    return ms;
  }
  if (c.kind === 'attention') {
    const shape = [c.b, c.h, c.s, c.d];
    const [q, k, v] = [0, 1, 2].map(() => Tensor.fromData(rand(c.b * c.h * c.s * c.d), shape, 'f32', engine));
    const mask = Tensor.fromData(segmentMask(c.s, c.segments), [c.s, c.s], 'bool', engine);
    if (c.backward) for (const t of [q, k, v]) t.requiresGrad = true;
    const ms = time(() => {
      if (!c.backward) return scaledDotProductAttention(q, k, v, { mask }).dispose();
      tidy(() => sum(scaledDotProductAttention(q, k, v, { mask })).backward());
      for (const t of [q, k, v]) {
        t.grad?.dispose();
        t.grad = null;
      }
    });
    for (const t of [q, k, v, mask]) t.dispose();
    return ms;
  }
  const x = Tensor.fromData(rand(c.x.reduce((p, q) => p * q)), c.x, 'f32', engine);
  const w = Tensor.fromData(rand(c.o * c.x[1] * c.k * c.k), [c.o, c.x[1], c.k, c.k], 'f32', engine);
  const ms = time(() => conv2d(x, w, null, { padding: c.k >> 1 }).dispose());
  x.dispose();
  w.dispose();
  return ms;
}

type Tf = typeof import('@tensorflow/tfjs-core');

/** TensorFlow.js on its WebAssembly backend; null (with a note) when it cannot start. */
async function tfjsWasm(threads: number): Promise<{ tf: Tf; threads: number } | null> {
  try {
    const tf = await import('@tensorflow/tfjs-core');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const dir = path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
    wasm.setWasmPaths(dir + path.sep);
    wasm.setThreadsCount?.(threads);
    if (!(await tf.setBackend('wasm'))) throw new Error('setBackend(wasm) failed');
    await tf.ready();
    return { tf, threads: wasm.getThreadsCount?.() ?? 1 };
  } catch (err) {
    console.log(`tfjs-backend-wasm unavailable: ${(err as Error).message}`);
    return null;
  }
}

function tfjs(tf: Tf, c: Case): Timing | null {
  if (c.kind === 'matmul') {
    const a = tf.tensor2d(rand(c.m * c.k), [c.m, c.k]);
    const b = tf.tensor2d(rand(c.k * c.n), [c.k, c.n]);
    const ms = time(() => tf.matMul(a, b).dataSync());
    tf.dispose([a, b]);
    return ms;
  }
  if (c.kind === 'attention') {
    // No peer for the backward: tfjs-core's Node build registers no gradients.
    if (c.backward) return null;
    // tfjs has no fused attention: the same maths as its ops (scores, additive mask, softmax, values).
    const shape: [number, number, number, number] = [c.b, c.h, c.s, c.d];
    const [q, k, v] = [0, 1, 2].map(() => tf.tensor4d(rand(c.b * c.h * c.s * c.d), shape));
    const bias = tf.tensor2d(
      Float32Array.from(segmentMask(c.s, c.segments), (m) => (m ? 0 : -1e9)),
      [c.s, c.s],
    );
    const scale = 1 / Math.sqrt(c.d);
    const ms = time(() =>
      tf.tidy(() => tf.matMul(tf.softmax(tf.add(tf.mul(tf.matMul(q, k, false, true), scale), bias)), v)).dataSync(),
    );
    tf.dispose([q, k, v, bias]);
    return ms;
  }
  // tfjs convolves NHWC with [k, k, cin, cout] filters; same FLOPs.
  const [n, ci, h, w] = c.x;
  const x = tf.tensor4d(rand(n * ci * h * w), [n, h, w, ci]);
  const f = tf.tensor4d(rand(c.k * c.k * ci * c.o), [c.k, c.k, ci, c.o]);
  const ms = time(() => tf.conv2d(x, f, 1, 'same').dataSync());
  tf.dispose([x, f]);
  return ms;
}

function oursNorm(engine: CpuEngine, c: NormCase): Timing {
  const n = c.shape.reduce((a, b) => a * b);
  const x = Tensor.fromData(rand(n), c.shape, 'f32', engine);
  const ch = c.kind === 'group' ? c.shape[1] : c.shape[c.shape.length - 1];
  const w = Tensor.fromData(rand(ch), [ch], 'f32', engine);
  const b = Tensor.fromData(rand(ch), [ch], 'f32', engine);
  const run =
    c.kind === 'layer'
      ? () => layerNorm(x, w, b)
      : c.kind === 'rms'
        ? () => rmsNorm(x, w)
        : () => groupNorm(x, c.groups!, w, b);
  const ms = time(() => run().dispose());
  for (const t of [x, w, b]) t.dispose();
  return ms;
}

/** The norms in tfjs ops (tfjs has no fused norm kernels). */
function tfjsNorm(tf: Tf, c: NormCase): Timing {
  const n = c.shape.reduce((a, b) => a * b);
  const ch = c.kind === 'group' ? c.shape[1] : c.shape[c.shape.length - 1];
  const w = tf.tensor1d(rand(ch));
  const b = tf.tensor1d(rand(ch));
  let x: ReturnType<Tf['tensor']>;
  let run: () => ReturnType<Tf['tensor']>;
  if (c.kind === 'group') {
    const [N, C, H, W] = c.shape;
    const g = c.groups!;
    x = tf.tensor(rand(n), [N, g, (C / g) * H * W]);
    run = () => {
      const { mean, variance } = tf.moments(x, -1, true);
      const y = tf.reshape(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), [N, C, H * W]);
      return tf.add(tf.mul(y, tf.reshape(w, [C, 1])), tf.reshape(b, [C, 1]));
    };
  } else {
    x = tf.tensor(rand(n), c.shape);
    run =
      c.kind === 'layer'
        ? () => {
            const { mean, variance } = tf.moments(x, -1, true);
            return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), w), b);
          }
        : () => tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), 1e-6))), w);
  }
  const ms = time(() => tf.tidy(run).dataSync());
  tf.dispose([x, w, b]);
  return ms;
}

/**
 * numpy's matmul GFLOP/s per matmul case at `threads` BLAS threads: wall clock, and per CPU second
 * (process time); its BLAS. Null when numpy is missing.
 */
function numpy(
  cases: MatmulCase[],
  threads: number,
): { gflops: number[]; cpu: number[]; blas: string } | null {
  const script = `
import sys, time, json
import numpy as np
np.ones((64, 64), np.float32) @ np.ones((64, 64), np.float32)
# The BLAS library numpy loaded (from this process's memory map).
blas = sorted({l.split()[-1].split('/')[-1] for l in open('/proc/self/maps') if 'blas' in l.lower()})
blas = ', '.join(blas) or 'unknown'
out = []; cpu = []
for m, k, n in json.loads(sys.argv[1]):
    a = np.random.rand(m, k).astype(np.float32); b = np.random.rand(k, n).astype(np.float32)
    a @ b
    t0 = time.perf_counter(); c0 = time.process_time(); it = 0
    while time.perf_counter() - t0 < 0.4: a @ b; it += 1
    out.append(2 * m * k * n * it / (time.perf_counter() - t0) / 1e9)
    cpu.append(2 * m * k * n * it / (time.process_time() - c0) / 1e9)
print(json.dumps({'gflops': out, 'cpu': cpu, 'blas': blas}))
`;
  const env = { ...process.env, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) };
  const r = spawnSync('/usr/bin/python3', ['-c', script, JSON.stringify(cases.map((c) => [c.m, c.k, c.n]))], {
    env,
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    console.log(
      `numpy skipped: ${(r.stderr || r.error?.message || 'python3 failed').trim().split('\n').pop()}`,
    );
    return null;
  }
  return JSON.parse(r.stdout) as { gflops: number[]; cpu: number[]; blas: string };
}

async function main(): Promise<void> {
  const e1 = await CpuEngine.create({ threads: 1 });
  const e2 = await CpuEngine.create({ threads: 2 });
  const tf = await tfjsWasm(2);
  const mm = CASES.filter((c): c is MatmulCase => c.kind === 'matmul');
  const np2 = numpy(mm, 2);
  const np1 = numpy(mm, 1);
  if (tf) console.log(`tfjs-backend-wasm: ${tf.tf.getBackend()}, ${tf.threads} thread(s)`);
  if (np2) console.log(`numpy BLAS: ${np2.blas}`);
  const g = (c: Case, ms: number) => flops(c) / ms / 1e6;
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '-');
  const r = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}x` : '-');
  // V8 first runs WebAssembly on its baseline compiler and tiers hot functions up in the background:
  // run every library for a while before measuring anything.
  const warm = (f: () => void) => {
    const t = performance.now();
    while (performance.now() - t < 1500) f();
  };
  for (const e of [e1, e2]) warm(() => ours(e, CASES[0]));
  if (tf) warm(() => tfjs(tf.tf, CASES[0]));
  const wall: Record<string, string>[] = [];
  const cpu: Record<string, string>[] = [];
  for (const c of CASES) {
    const o1 = ours(e1, c);
    const o2 = ours(e2, c);
    const t = tf ? tfjs(tf.tf, c) : null;
    const i = c.kind === 'matmul' ? mm.indexOf(c) : -1;
    const b2 = i >= 0 && np2 ? np2.gflops[i] : NaN;
    const b1 = i >= 0 && np1 ? np1.cpu[i] : NaN;
    // tfjs at the thread count it actually ran with (Node loads its single-threaded build).
    const oT = tf?.threads === 1 ? o1 : o2;
    wall.push({
      case: c.name,
      'ours 1T': f(g(c, o1.wall)),
      'ours 2T': f(g(c, o2.wall)),
      [`tfjs ${tf?.threads ?? ''}T`]: f(t ? g(c, t.wall) : NaN),
      'openblas 2T': f(b2),
      'ours/tfjs': r(t ? g(c, oT.wall) / g(c, t.wall) : NaN),
      'ours 2T/openblas 2T': r(g(c, o2.wall) / b2),
    });
    cpu.push({
      case: c.name,
      'ours 1T': f(g(c, o1.cpu)),
      'tfjs 1T': f(t && tf?.threads === 1 ? g(c, t.cpu) : NaN),
      'openblas 1T': f(b1),
      'ours/tfjs': r(t && tf?.threads === 1 ? g(c, o1.cpu) / g(c, t.cpu) : NaN),
      'ours/openblas': r(g(c, o1.cpu) / b1),
    });
  }
  const norms: Record<string, string>[] = [];
  for (const c of NORMS) {
    const o1 = oursNorm(e1, c);
    const o2 = oursNorm(e2, c);
    const t = tf ? tfjsNorm(tf.tf, c) : null;
    const oT = tf?.threads === 1 ? o1 : o2;
    norms.push({
      case: c.name,
      'ours 1T ms': o1.wall.toFixed(2),
      'ours 2T ms': o2.wall.toFixed(2),
      [`tfjs ${tf?.threads ?? ''}T ms`]: t ? t.wall.toFixed(2) : '-',
      'tfjs/ours (same threads)': r(t ? t.wall / oT.wall : NaN),
    });
  }
  const os = await import('node:os');
  console.log(`load average ${os.loadavg()[0].toFixed(1)} on ${os.availableParallelism()} cores`);
  console.log('GFLOP/s, f32, wall-clock medians');
  console.table(wall);
  console.log('GFLOP/s per CPU second, one thread (insensitive to other processes on the cores)');
  console.table(cpu);
  console.log('Norms, ms (wall-clock medians)');
  console.table(norms);
  e1.destroy();
  e2.destroy();
}

await main();
