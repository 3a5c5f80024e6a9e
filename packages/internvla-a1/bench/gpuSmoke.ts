// GPU smoke check for a machine where vitest cannot run (no node_modules, no network): the kernels
// whose GPU paths CI never executes — large GEMM tiles, D=128 flash attention, native f16 with
// shader-f16 — and the policy's cached = uncached property, each against a float64 reference or an
// independent computation, on fresh random inputs. Bundled by scripts/gpu-bundle.sh, run by
// scripts/gpu-run.sh (docs/gpu-runbook.md); `npm run gpu-smoke` runs it here. Prints one line per
// check, writes gpu-smoke.json ($OUT when set) and exits 1 if any fails.
import { writeFileSync } from 'node:fs';
import * as T from '@vla/tensor-webgpu';
import { attention as refAttention, segmentMask } from '../../tensor-webgpu/test/reference/attention.js';
import { linear as refLinear, matmul as refMatmul } from '../../tensor-webgpu/test/reference/matmul.js';
import { nd } from '../../tensor-webgpu/test/reference/ndarray.js';
import { rmsNorm as refRmsNorm } from '../../tensor-webgpu/test/reference/norm.js';
import { InternVLAA1Policy, tinyConfig } from '../src/index.js';
import { syntheticBatch } from '../test/synthetic.js';

interface Check {
  name: string;
  maxErr: number;
  tol: number;
  ok: boolean;
  note?: string;
}

let seed = 12345;
function random(n: number, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((seed >>> 8) / 2 ** 24) * (hi - lo);
  }
  return out;
}

function maxRelErr(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let scale = 1e-6;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  let m = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.abs(actual[i] - expected[i]);
    m = Math.max(m, Number.isNaN(e) ? Infinity : e);
  }
  return m / scale;
}

const checks: Check[] = [];
async function check(name: string, tol: number, run: () => Promise<number>): Promise<void> {
  try {
    const maxErr = await run();
    checks.push({ name, maxErr, tol, ok: maxErr <= tol });
  } catch (e) {
    checks.push({ name, maxErr: Infinity, tol, ok: false, note: (e as Error).message.split('\n')[0] });
  }
  const c = checks[checks.length - 1];
  console.log(`${c.ok ? 'PASS' : 'FAIL'}  ${name}  max error ${c.maxErr.toExponential(2)} (tol ${tol})${c.note ? `  ${c.note}` : ''}`);
}

async function main(engine: T.Engine): Promise<void> {
  const info = engine.gpu.adapterInfo;
  console.log(`device: ${info.vendor} / ${info.architecture} / ${info.device} (${info.description}); f16 ${engine.hasF16}, subgroups ${engine.hasSubgroups}`);

  // GEMMs large enough for the 128x128 tile, ragged edges, a transposed operand.
  for (const [m, k, n, tB] of [
    [1024, 1024, 1024, false],
    [393, 2048, 1000, true],
    [777, 333, 555, false],
  ] as const) {
    await check(`matmul [${m}x${k}]x[${k}x${n}]${tB ? 'ᵀ' : ''} f32`, 1e-5, async () => {
      const a = random(m * k);
      const b = random(k * n);
      const bShape = tB ? [n, k] : [k, n];
      const c = T.tidy(() => T.matmul(T.tensor(a, [m, k]), T.tensor(b, bShape), { transB: tB }));
      const err = maxRelErr(await c.toArray(), refMatmul(nd(a, [m, k]), nd(b, bShape), false, tB).data);
      c.dispose();
      return err;
    });
  }

  // Flash attention, D = 128, GQA 16/8, SPEC's cumulative segment mask with padding.
  await check('attention B1 H16/8 S300 D128 segment mask', 1e-4, async () => {
    const [H, Hk, S, D] = [16, 8, 300, 128];
    const ar = Array.from({ length: S }, (_, i) => (i === 180 || i === 260 || i === 261 ? 1 : 0));
    const pad = Array.from({ length: S }, (_, i) => i >= 170 && i < 180);
    const allowed = segmentMask(ar, pad);
    const [q, k, v] = [random(H * S * D), random(Hk * S * D), random(Hk * S * D)];
    const mask = T.tensor(Uint32Array.from(allowed.flat(), (x) => (x ? 1 : 0)), [1, 1, S, S], 'bool');
    const o = T.tidy(() =>
      T.scaledDotProductAttention(T.tensor(q, [1, H, S, D]), T.tensor(k, [1, Hk, S, D]), T.tensor(v, [1, Hk, S, D]), { mask }),
    );
    const ref = refAttention(nd(q, [1, H, S, D]), nd(k, [1, Hk, S, D]), nd(v, [1, Hk, S, D]), 1 / Math.sqrt(D), (_b, _h, i, j) => !allowed[i][j]);
    const err = maxRelErr(await o.toArray(), ref.data);
    o.dispose();
    mask.dispose();
    return err;
  });

  // Weight-only f16 (every device) and native f16 (shader-f16 only).
  await check('linear f32 x f16 weights [393x1024]x[3072x1024]ᵀ', 1e-5, async () => {
    const x = random(393 * 1024);
    const w = Float32Array.from(random(3072 * 1024), (e) => T.fromHalfBits(T.toHalfBits(e)));
    const y = T.tidy(() => T.linear(T.tensor(x, [393, 1024]), T.tensor(w, [3072, 1024], 'f16')));
    const err = maxRelErr(await y.toArray(), refLinear(nd(x, [393, 1024]), nd(w, [3072, 1024])).data);
    y.dispose();
    return err;
  });
  if (engine.hasF16) {
    await check('native f16: linear [257x512]x[384x512]ᵀ', 2e-2, async () => {
      const x = random(257 * 512);
      const w = random(384 * 512);
      const y = T.tidy(() => T.cast(T.linear(T.tensor(x, [257, 512], 'f16'), T.tensor(w, [384, 512], 'f16')), 'f32'));
      const err = maxRelErr(await y.toArray(), refLinear(nd(x, [257, 512]), nd(w, [384, 512])).data);
      y.dispose();
      return err;
    });
    await check('native f16: rmsNorm [393x2048]', 1e-2, async () => {
      const x = random(393 * 2048, -3, 3);
      const w = random(2048, 0.5, 1.5);
      const y = T.tidy(() => T.cast(T.rmsNorm(T.tensor(x, [393, 2048], 'f16'), T.tensor(w, [2048], 'f16'), 1e-6), 'f32'));
      const err = maxRelErr(await y.toArray(), refRmsNorm(nd(x, [393, 2048]), nd(w, [2048]), 1e-6).data);
      y.dispose();
      return err;
    });
    await check('native f16: attention B1 H8 S200 D128', 2e-2, async () => {
      const [H, S, D] = [8, 200, 128];
      const [q, k, v] = [random(H * S * D), random(H * S * D), random(H * S * D)];
      const o = T.tidy(() =>
        T.cast(T.scaledDotProductAttention(T.tensor(q, [1, H, S, D], 'f16'), T.tensor(k, [1, H, S, D], 'f16'), T.tensor(v, [1, H, S, D], 'f16')), 'f32'),
      );
      const err = maxRelErr(await o.toArray(), refAttention(nd(q, [1, H, S, D]), nd(k, [1, H, S, D]), nd(v, [1, H, S, D]), 1 / Math.sqrt(D)).data);
      o.dispose();
      return err;
    });
  } else {
    console.log('SKIP  native f16 checks (no shader-f16 on this adapter)');
  }

  // The policy: KV-cached denoising equals the uncached forward (f32 and f16 weights).
  for (const weightDtype of ['f32', 'f16'] as const) {
    await check(`tiny policy (${weightDtype} weights): cached denoise step = uncached forward`, 1e-4, async () => {
      const config = tinyConfig({ width: 64, layers: 2, visionLayers: 1, textTokens: 8, vocabSize: 128, imageSize: 64 });
      T.manualSeed(3);
      const policy = InternVLAA1Policy.create(config, { weightDtype });
      const batch = syntheticBatch(config, 2, 5, { missing: [[1, 2]] });
      const xt = T.tensor(random(2 * config.chunkSize * config.stateDim), [2, config.chunkSize, config.stateDim]);
      const ctx = policy.prefill(batch);
      const step = policy.denoiseStep(ctx, xt, 0.3);
      const full = policy.forward(batch, xt, 0.3);
      const err = maxRelErr(await step.toArray(), await full.velocity.toArray());
      ctx.dispose();
      policy.dispose();
      return err;
    });
  }

  const out = process.env.OUT ? `${process.env.OUT}/gpu-smoke.json` : 'gpu-smoke.json';
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), device: info, hasF16: engine.hasF16, checks }, null, 2));
  const failed = checks.filter((c) => !c.ok).length;
  console.log(`\n${checks.length - failed} passed, ${failed} failed; wrote ${out}`);
  if (failed) throw new Error(`${failed} GPU smoke checks failed`);
}

void T.runAndExit(main, { backend: 'webgpu' });
