import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tensor, init, shutdown, tensor, tidy } from '@vla/tensor-webgpu';
import {
  ActionTimeMlp,
  actionTimeTokens,
  flowMatchingLoss,
  noisyPath,
  sinusoidalTimeEmbedding,
  timePeriods,
} from '../src/index.js';
import { maxAbsDiff, timeEmbeddingRef } from './reference.js';
import { normals, rng } from './random.js';

beforeAll(async () => {
  await init();
});
afterAll(() => shutdown());

const read = async (t: Tensor) => Array.from(await t.toArray());

describe('sinusoidalTimeEmbedding', () => {
  it('matches the float64 formula from host times (64 dims, and the awkward 6 and 2)', async () => {
    for (const dim of [64, 6, 2]) {
      const ts = [0.001, 0.25, 0.5, 0.73, 1];
      const emb = sinusoidalTimeEmbedding(ts, dim);
      expect(emb.shape).toEqual([ts.length, dim]);
      const want = ts.flatMap((t) => Array.from(timeEmbeddingRef(t, dim)));
      // host float64 then f32 rounding only
      expect(maxAbsDiff(await read(emb), want)).toBeLessThan(1e-6);
      emb.dispose();
    }
  });

  it('matches the formula from a GPU time tensor within the f32 angle error', async () => {
    const r = rng(3);
    const ts = Array.from({ length: 37 }, () => Math.fround(0.001 + 0.999 * r()));
    ts.push(0.001, 1, 0.5);
    const t = tensor(ts, [ts.length]);
    const emb = sinusoidalTimeEmbedding(t, 64);
    const got = await read(emb);
    const want = ts.flatMap((x) => Array.from(timeEmbeddingRef(x, 64)));
    // The largest angle is 2π/4e-3 ≈ 1571 rad; f32 holds it to ~6e-5 relative rounding of each of
    // the 2-3 products, so errors up to ~2e-4 are expected there, far less at low frequencies.
    expect(maxAbsDiff(got, want)).toBeLessThan(3e-4);
    // Low-frequency half (periods >= 0.13): angles <= 48 rad, error ~1e-5.
    const lowFreq = (xs: number[]) => xs.filter((_, i) => i % 32 >= 16);
    expect(maxAbsDiff(lowFreq(got), lowFreq(want))).toBeLessThan(2e-5);
    t.dispose();
    emb.dispose();
  });

  it('uses openpi periods and a number with batch, and rejects odd dims', async () => {
    const p = timePeriods(8);
    expect(p[0]).toBeCloseTo(4e-3, 12);
    expect(p[3]).toBeCloseTo(4.0, 12);
    expect(p[1]).toBeCloseTo(4e-3 * 10, 12);
    const emb = sinusoidalTimeEmbedding(0.3, 8, { batch: 3 });
    expect(emb.shape).toEqual([3, 8]);
    const v = await read(emb);
    expect(v.slice(0, 8)).toEqual(v.slice(16, 24));
    emb.dispose();
    expect(() => sinusoidalTimeEmbedding([0.5], 7)).toThrow(/dim must be a positive even integer, got 7/);
  });
});

describe('noisyPath and flowMatchingLoss', () => {
  it('x_t = t·ε + (1 − t)·a and u = ε − a with per-sample t', async () => {
    const [B, H, D] = [3, 5, 7];
    const a = normals(B * H * D, 1);
    const e = normals(B * H * D, 2);
    const ts = [0.001, 0.4, 1];
    const paths = tidy(() => {
      const actions = tensor(a, [B, H, D]);
      const noise = tensor(e, [B, H, D]);
      return [noisyPath(actions, noise, tensor(ts, [B])), noisyPath(actions, noise, ts)];
    });
    const tOf = (i: number) => ts[Math.floor(i / (H * D))];
    const wantX = Array.from(a, (ai, i) => tOf(i) * e[i] + (1 - tOf(i)) * ai);
    const wantU = Array.from(a, (ai, i) => e[i] - ai);
    for (const { xt, target } of paths) {
      expect(maxAbsDiff(await read(xt), wantX)).toBeLessThan(1e-5);
      expect(maxAbsDiff(await read(target), wantU)).toBeLessThan(1e-6);
      xt.dispose();
      target.dispose();
    }
  });

  it('loss is mean((v − u)²), masked: sum(mask·(v − u)²)/sum(mask)', async () => {
    const [B, H, D] = [2, 3, 5];
    const v = normals(B * H * D, 4);
    const u = normals(B * H * D, 5);
    const stepMask = [1, 1, 0, 1, 0, 0]; // [B, H, 1]
    const { plain, masked, none, allMasked } = tidy(() => {
      const tv = tensor(v, [B, H, D]);
      const tu = tensor(u, [B, H, D]);
      return {
        plain: flowMatchingLoss(tv, tu),
        masked: flowMatchingLoss(tv, tu, { mask: tensor(stepMask, [B, H, 1]) }),
        none: flowMatchingLoss(tv, tu, { reduction: 'none' }),
        allMasked: flowMatchingLoss(tv, tu, { mask: tensor([0, 0, 0, 0, 0], [1, 1, D]) }),
      };
    });
    const sq = Array.from(v, (x, i) => (x - u[i]) ** 2);
    expect(await plain.item()).toBeCloseTo(sq.reduce((s, x) => s + x, 0) / sq.length, 5);
    let num = 0;
    let den = 0;
    sq.forEach((x, i) => {
      const m = stepMask[Math.floor(i / D)];
      num += m * x;
      den += m;
    });
    expect(await masked.item()).toBeCloseTo(num / den, 5);
    expect(maxAbsDiff(await read(none), sq)).toBeLessThan(1e-5);
    expect(await allMasked.item()).toBe(0);
    for (const t of [plain, masked, none, allMasked]) t.dispose();
  });

  it('names the problem in shape errors', () => {
    tidy(() => {
      const a = tensor(new Float32Array(6), [2, 3]);
      const b = tensor(new Float32Array(6), [3, 2]);
      expect(() => noisyPath(a, b, [0.5, 0.5])).toThrow(/actions \[2, 3\] and noise \[3, 2\] differ/);
      expect(() => noisyPath(a, a, [0.5])).toThrow(/1 times for a batch of 2/);
      expect(() => flowMatchingLoss(a, b)).toThrow(/prediction \[2, 3\] and target \[3, 2\]/);
      expect(() => flowMatchingLoss(a, a, { mask: tensor([1, 1], [2]) })).toThrow(
        /mask \[2\] does not broadcast to \[2, 3\]/,
      );
    });
  });
});

describe('ActionTimeMlp', () => {
  it('computes mlp_out(SiLU(mlp_in([action_in_proj(x_t), temb(t)]))) with upstream names', async () => {
    const [B, H, A, W] = [2, 3, 5, 8];
    const mlp = new ActionTimeMlp(W, { actionDim: A });
    expect(mlp.namedParameters().map(([n]) => n)).toEqual([
      'action_in_proj.weight',
      'action_in_proj.bias',
      'action_time_mlp_in.weight',
      'action_time_mlp_in.bias',
      'action_time_mlp_out.weight',
      'action_time_mlp_out.bias',
    ]);
    const p = Object.fromEntries(
      await Promise.all(
        mlp.namedParameters().map(async ([n, t]) => [n, Array.from(await t.toArray())] as const),
      ),
    );
    const x = normals(B * H * A, 9);
    const ts = [0.2, 0.9];
    const [fromTensor, fromHost] = tidy(() => {
      const xt = tensor(x, [B, H, A]);
      return [mlp.forward(xt, tensor(ts, [B])), actionTimeTokens(mlp, xt, ts)];
    });
    const lin = (v: number[], w: number[], b: number[], out: number) =>
      Array.from({ length: out }, (_, o) => b[o] + v.reduce((s, vi, i) => s + vi * w[o * v.length + i], 0));
    const want: number[] = [];
    for (let b = 0; b < B; b++) {
      const temb = Array.from(timeEmbeddingRef(ts[b], W));
      for (let h = 0; h < H; h++) {
        const xi = Array.from(x.subarray((b * H + h) * A, (b * H + h + 1) * A));
        const a = lin(xi, p['action_in_proj.weight'], p['action_in_proj.bias'], W);
        const hid = lin([...a, ...temb], p['action_time_mlp_in.weight'], p['action_time_mlp_in.bias'], W).map(
          (z) => z / (1 + Math.exp(-z)),
        );
        want.push(...lin(hid, p['action_time_mlp_out.weight'], p['action_time_mlp_out.bias'], W));
      }
    }
    expect(fromTensor.shape).toEqual([B, H, W]);
    expect(maxAbsDiff(await read(fromTensor), want)).toBeLessThan(1e-4);
    expect(maxAbsDiff(await read(fromHost), want)).toBeLessThan(1e-4);
    fromTensor.dispose();
    fromHost.dispose();
    expect(() => tidy(() => mlp.forward(tensor(new Float32Array(B * H * 4), [B, H, 4]), ts))).toThrow(
      /x_t must be \[B, H, 5\], got \[2, 3, 4\]/,
    );
    mlp.dispose();
  });
});
