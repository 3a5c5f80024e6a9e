// data.randomShift: a shifted frame equals an explicit replicate-pad-then-crop of it (written out
// here); only the current frame of each present camera moves, by its own draw within the bound, the
// cached originals untouched; and vla-train applies it (same seed, same first batch: the loss moves
// only when the shift is on).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Sample } from '@vla/lerobot';
import { parseTrainConfig, shiftCurrentFrames, shiftFrame, train, withPreset } from '../src/index.js';
import { MetricsLog } from '../src/report/metricsLog.js';
import { cutCr5, MICRO_MODEL } from './fixtures.js';
import './setup.js';

/** Pads by `p` on every side repeating the edge, then crops the H×W window at (p − dy, p − dx). */
function padCrop(data: Uint8Array, H: number, W: number, dx: number, dy: number, p: number): Uint8Array {
  const PH = H + 2 * p;
  const PW = W + 2 * p;
  const padded = new Uint8Array(PH * PW * 3);
  for (let y = 0; y < PH; y++)
    for (let x = 0; x < PW; x++)
      for (let c = 0; c < 3; c++) {
        const sy = Math.min(H - 1, Math.max(0, y - p));
        const sx = Math.min(W - 1, Math.max(0, x - p));
        padded[(y * PW + x) * 3 + c] = data[(sy * W + sx) * 3 + c];
      }
  const out = new Uint8Array(H * W * 3);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      for (let c = 0; c < 3; c++)
        out[(y * W + x) * 3 + c] = padded[((y + p - dy) * PW + (x + p - dx)) * 3 + c];
  return out;
}

const randomBytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(Math.random() * 256));

describe('shiftFrame', () => {
  it('equals replicate padding then a crop, for every shift within the pad, on odd sizes', () => {
    const [H, W, p] = [7, 5, 3];
    const data = randomBytes(H * W * 3);
    for (let dy = -p; dy <= p; dy++)
      for (let dx = -p; dx <= p; dx++)
        expect(Array.from(shiftFrame({ height: H, width: W, data }, dx, dy).data), `(${dx}, ${dy})`).toEqual(
          Array.from(padCrop(data, H, W, dx, dy, p)),
        );
    // Moving right by 2: pixel (y, x) shows what was at (y, x − 2).
    const moved = shiftFrame({ height: H, width: W, data }, 2, 0).data;
    expect(Array.from(moved.subarray((3 * W + 4) * 3, (3 * W + 4) * 3 + 3))).toEqual(
      Array.from(data.subarray((3 * W + 2) * 3, (3 * W + 2) * 3 + 3)),
    );
  });

  it('names a frame whose bytes do not match its size, and fractional shifts', () => {
    expect(() => shiftFrame({ height: 2, width: 2, data: new Uint8Array(11) }, 0, 0)).toThrow(
      /11 bytes do not hold 2x2/,
    );
    expect(() => shiftFrame({ height: 2, width: 2, data: new Uint8Array(12) }, 0.5, 0)).toThrow(
      /whole pixels/,
    );
  });
});

describe('shiftCurrentFrames', () => {
  const H = 9;
  const W = 6;
  /** A raw sample with two present cameras and one missing, three frames each (past, current, future). */
  const sample = (): Sample =>
    ({
      meta: {
        imageOffsets: [-15, 0, 15],
        imageShapes: { head: [H, W], hand_left: [H, W], hand_right: [H, W] },
      },
      images: {
        head: [0, 1, 2].map(() => randomBytes(H * W * 3)),
        hand_left: [0, 1, 2].map(() => randomBytes(H * W * 3)),
        hand_right: [0, 1, 2].map(() => new Uint8Array(H * W * 3)),
      },
      imageMasks: { head: true, hand_left: true, hand_right: false },
    }) as unknown as Sample;

  it('moves only the current frame of present cameras, each by its own uniform draw in the bound; originals untouched', () => {
    const p = 2;
    const samples = Array.from({ length: 400 }, sample);
    const copies = samples.map((s) => Object.values(s.images).map((f) => f.map((x) => Array.from(x))));
    const views = new Set<string>();
    const draw = (row: number, view: number): [number, number] => {
      views.add(`${row}/${view}`);
      return [Math.floor(Math.random() * 2 ** 32), Math.floor(Math.random() * 2 ** 32)];
    };
    const out = shiftCurrentFrames(samples, p, draw);
    // Which shift of the 5 × 5 window each output is: found by comparing with every pad-and-crop.
    const counts = new Map<string, number>();
    out.forEach((s, row) => {
      (['head', 'hand_left'] as const).forEach((slot) => {
        const original = samples[row].images[slot];
        const got = Array.from(s.images[slot][1]);
        const matches: string[] = [];
        for (let dy = -p; dy <= p; dy++)
          for (let dx = -p; dx <= p; dx++)
            if (Array.from(padCrop(original[1] as Uint8Array, H, W, dx, dy, p)).every((v, i) => v === got[i]))
              matches.push(`${dx},${dy}`);
        expect(matches, `row ${row} ${slot}`).toHaveLength(1);
        counts.set(matches[0], (counts.get(matches[0]) ?? 0) + 1);
        expect(s.images[slot][0]).toBe(original[0]);
        expect(s.images[slot][2]).toBe(original[2]);
      });
      expect(s.images.hand_right).toBe(samples[row].images.hand_right);
    });
    // One draw per row and present view; the missing camera draws nothing.
    expect(views.size).toBe(800);
    expect([...views].some((v) => v.endsWith('/2'))).toBe(false);
    // 800 shifts over 25 cells: 32 expected per cell, standard deviation about 5.5.
    expect(counts.size).toBe(25);
    for (const [cell, n] of counts) {
      expect(n, cell).toBeGreaterThan(32 - 4.5 * 5.5);
      expect(n, cell).toBeLessThan(32 + 4.5 * 5.5);
    }
    samples.forEach((s, i) =>
      expect(Object.values(s.images).map((f) => f.map((x) => Array.from(x)))).toEqual(copies[i]),
    );
  });

  it('returns the samples as they are for 0 pixels', () => {
    const samples = [sample()];
    const out = shiftCurrentFrames(samples, 0, () => {
      throw new Error('no draw for 0 pixels');
    });
    expect(out[0]).toBe(samples[0]);
  });
});

describe('vla-train with data.randomShift', () => {
  const root = mkdtempSync(join(tmpdir(), 'vla-shift-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('changes what the first step sees; off, the same weights and seed give the same loss', async () => {
    const dataset = cutCr5(join(root, 'cr5'), 1);
    const run = async (name: string, extra: Record<string, unknown>, randomShift?: number) => {
      const c = parseTrainConfig(
        withPreset('tiny', {
          model: { tiny: MICRO_MODEL, generation: false },
          data: {
            datasets: [{ path: dataset }],
            concurrency: 2,
            ...(randomShift === undefined ? {} : { randomShift }),
          },
          steps: 1,
          batchSize: 2,
          checkpointEvery: 1,
          foresightEvery: 0,
          seed: 5,
          ...extra,
        }),
      );
      await train(c, { out: join(root, name) });
      const [r] = (await MetricsLog.read(join(root, name, 'metrics.jsonl'))).filter(
        (x) => x.kind === 'train',
      );
      return r.kind === 'train' ? r.loss : NaN;
    };
    // The initialisation is not seeded: every compared run starts from the same checkpoint.
    await run('init', { mode: 'pretrain' });
    const from = { mode: 'finetune', init: join(root, 'init'), optim: { lr: 1e-3, warmupSteps: 0 } };
    const plain = await run('plain', from);
    expect(await run('zero', from, 0)).toBe(plain);
    const shifted = await run('shift', from, 4);
    expect(Number.isFinite(shifted)).toBe(true);
    expect(Math.abs(shifted - plain)).toBeGreaterThan(1e-6);
  });
});
