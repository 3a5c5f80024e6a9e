// The policy's I/O layer: robot units → network → robot units is the identity (delta dims get the
// state back, grippers stay absolute), each normalisation matches a hand computation, camera frames
// become the network's [-1, 1] NCHW images as a plain-TS bilinear reference says, and the processor
// survives a checkpoint round trip while a malformed one is refused by field.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import CRC32 from 'crc-32';
import { describe, expect, it } from 'vitest';
import { manualSeed } from '@vla/tensor-webgpu';
import {
  CheckpointError,
  InternVLAA1Policy,
  loadPolicy,
  loadPolicyBundle,
  PolicyProcessor,
  PolicyProcessorError,
  readPolicyProcessor,
  savePolicy,
  tinyConfig,
  type PolicyProcessorJson,
} from '../src/index.js';
import './setup.js';

// A two-arm toy: 2 joints + 1 gripper per side; joints are deltas, grippers absolute.
const stateNames = ['l0', 'l1', 'lg', 'r0', 'r1', 'rg'];
const deltaMask = [true, true, false, true, true, false];
const stats = {
  state: {
    mean: [0.1, -0.2, 0.5, 0.3, 0, 0.4],
    std: [0.5, 0.25, 0.3, 1, 2, 0.1],
    q01: [-1, -1, 0, -2, -3, 0],
    q99: [1, 0.5, 1, 2, 3, 1],
  },
  action: {
    mean: [0.01, -0.02, 0.5, 0, 0.03, 0.6],
    std: [0.1, 0.2, 0.4, 0.05, 0.3, 0.45],
    q01: [-0.2, -0.4, 0, -0.1, -0.5, 0],
    q99: [0.2, 0.3, 1, 0.1, 0.6, 1],
  },
};

function toy(
  normalization: 'mean_std' | 'quantile',
  extra: Partial<PolicyProcessorJson> = {},
): PolicyProcessor {
  return PolicyProcessor.fromJSON({
    ...PolicyProcessor.fromStats({
      robotType: 'toy',
      stateNames,
      actionNames: stateNames,
      deltaMask,
      cameras: ['head', 'wrist'],
      stats,
      normalization,
      imageSize: 4,
      textLength: 4,
      chunkSize: 3,
    }).toJSON(),
    ...extra,
  });
}

const state = [0.3, -0.1, 0.8, 1.2, -0.7, 0.2];
const actions = [
  [0.35, -0.05, 1, 1.1, -0.6, 0],
  [0.4, 0, 0.9, 1.0, -0.5, 1],
  [0.45, 0.05, 0.2, 0.9, -0.4, 0.7],
];

describe('PolicyProcessor vectors', () => {
  for (const mode of ['mean_std', 'quantile'] as const) {
    it(`${mode}: robot units → policy → robot units is the identity`, () => {
      const p = toy(mode);
      const net = p.actionsToPolicy(actions, state);
      expect(net.length).toBe(3 * 32);
      for (let h = 0; h < 3; h++) for (let i = 6; i < 32; i++) expect(net[h * 32 + i]).toBe(0);
      const back = p.actionsToRobot(net, state);
      expect(back.length).toBe(3);
      back.forEach((row, h) => {
        expect(row.length).toBe(6);
        row.forEach((x, i) => expect(Math.abs(x - actions[h][i])).toBeLessThan(1e-6));
      });
    });
  }

  it('delta dims are relative to the state, grippers absolute (by hand, mean/std)', () => {
    const p = toy('mean_std');
    const net = p.actionsToPolicy(actions, state);
    // Joint l0 of action 0: (0.35 − 0.3 − 0.01) / (0.1 + 1e-6).
    expect(net[0]).toBeCloseTo((0.35 - 0.3 - 0.01) / (0.1 + 1e-6), 5);
    // Gripper lg of action 0 is absolute: (1 − 0.5) / (0.4 + 1e-6).
    expect(net[2]).toBeCloseTo((1 - 0.5) / (0.4 + 1e-6), 5);
    // A zero network output is the mean delta added to the state on joints, the mean on grippers.
    const zero = p.actionsToRobot(new Float32Array(32), state)[0];
    expect(zero[0]).toBeCloseTo(0.3 + 0.01, 12);
    expect(zero[2]).toBeCloseTo(0.5, 12);
    // Another state moves the joints by the same amount and leaves the grippers where they are.
    const moved = p.actionsToRobot(
      new Float32Array(32),
      state.map((s) => s + 1),
    )[0];
    expect(moved[0] - zero[0]).toBeCloseTo(1, 12);
    expect(moved[2]).toBe(zero[2]);
  });

  it('quantile normalisation by hand: 2 (x − q01) / (q99 − q01 + ε) − 1', () => {
    const p = toy('quantile');
    const s = p.stateToPolicy(state);
    expect(s[1]).toBeCloseTo((2 * (-0.1 + 1)) / (0.5 + 1 + 1e-6) - 1, 6);
    expect(p.stateToPolicy(stats.state.q01)[0]).toBeCloseTo(-1, 6);
    expect(p.stateToPolicy(stats.state.q99)[0]).toBeCloseTo(1, 5);
    const m = toy('mean_std').stateToPolicy(state);
    expect(m[3]).toBeCloseTo((1.2 - 0.3) / (1 + 1e-6), 6);
    expect(m.length).toBe(32);
  });

  it('a gripper rule snaps gripper dims to 0/1', () => {
    const p = toy('mean_std', { gripper: { dims: [2, 5], threshold: 0.5 } });
    const back = p.actionsToRobot(p.actionsToPolicy(actions, state), state);
    expect(back.map((r) => [r[2], r[5]])).toEqual([
      [1, 0],
      [1, 1],
      [0, 1],
    ]);
  });

  it('wrong sizes are errors', () => {
    const p = toy('mean_std');
    expect(() => p.stateToPolicy([1, 2])).toThrow(/expected 6 values, got 2/);
    expect(() => p.actionsToPolicy([[1]], state)).toThrow(/actions\[0\]/);
    expect(() => p.actionsToRobot(new Float32Array(33), state)).toThrow(/whole rows of 32/);
  });
});

// Fixtures are found without machine paths: VLA_FIXTURES, else shared/ beside the checkout.
function fixtures(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    process.env.VLA_FIXTURES && join(process.env.VLA_FIXTURES, 'lerobot'),
    resolve(here, '../../../../shared/fixtures/lerobot'),
  ].filter((p): p is string => !!p);
  const found = candidates.find((p) => existsSync(join(p, 'cr5_grasp_cube_v21', 'meta', 'info.json')));
  if (!found)
    throw new Error(`LeRobot fixtures not found; looked in: ${candidates.join(', ')} (set VLA_FIXTURES)`);
  return found;
}

describe('PolicyProcessor from the cr5 fixture', () => {
  it('fromStats takes LeRobot feature stats as they are (episodes pooled)', () => {
    const meta = join(fixtures(), 'cr5_grasp_cube_v21', 'meta');
    const info = JSON.parse(readFileSync(join(meta, 'info.json'), 'utf8')) as {
      robot_type: string;
      features: Record<string, { names: string[] }>;
    };
    type F = { mean: number[]; std: number[]; count: number[] };
    const episodes = readFileSync(join(meta, 'episodes_stats.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { stats: Record<string, F> }).stats);
    // Pooled mean and variance over episodes (count-weighted), as LeRobot aggregates them.
    const pool = (key: string) => {
      const n = episodes.reduce((a, e) => a + e[key].count[0], 0);
      const mean = episodes[0][key].mean.map(
        (_, i) => episodes.reduce((a, e) => a + e[key].count[0] * e[key].mean[i], 0) / n,
      );
      const std = mean.map((m, i) =>
        Math.sqrt(
          episodes.reduce(
            (a, e) => a + e[key].count[0] * (e[key].std[i] ** 2 + (e[key].mean[i] - m) ** 2),
            0,
          ) / n,
        ),
      );
      return { ...episodes[0][key], mean, std, count: [n] };
    };
    const stateStats = pool('observation.state');
    const actionStats = pool('action');
    const p = PolicyProcessor.fromStats({
      robotType: info.robot_type,
      stateNames: info.features['observation.state'].names,
      actionNames: info.features.action.names,
      cameras: ['top', 'wrist', 'side'],
      stats: { state: stateStats, action: actionStats },
      imageSize: 256,
      textLength: 48,
      chunkSize: 50,
      gripper: { dims: [6], threshold: 0.5 },
    });
    expect(p.json.robotType).toBe('cr5');
    expect([p.stateDim, p.actionDim]).toEqual([6, 7]);
    const s = p.stateToPolicy(stateStats.mean);
    for (let i = 0; i < 32; i++) expect(Math.abs(s[i])).toBeLessThan(1e-5);
    const x = stateStats.mean.map((m, i) => m + stateStats.std[i]);
    const sx = p.stateToPolicy(x);
    for (let i = 0; i < 6; i++) expect(sx[i]).toBeCloseTo(stateStats.std[i] / (stateStats.std[i] + 1e-6), 5);
    expect(PolicyProcessor.fromJSON(JSON.parse(JSON.stringify(p))).toJSON()).toEqual(p.toJSON());
    expect(() =>
      PolicyProcessor.fromStats({
        ...p.json,
        stats: { state: stateStats, action: actionStats },
        normalization: 'quantile',
      }),
    ).toThrow(/stats\.state\.q01 is required by quantile normalization/);
  });
});

/** Plain-TS bilinear (half-pixel centres clamped at 0, PyTorch align_corners=False) of one channel. */
function bilinear(src: Float64Array, H: number, W: number, outH: number, outW: number): Float64Array {
  const out = new Float64Array(outH * outW);
  const coord = (d: number, inSize: number, outSize: number) => {
    const x = Math.max(((d + 0.5) * inSize) / outSize - 0.5, 0);
    const i0 = Math.min(Math.floor(x), inSize - 1);
    const i1 = Math.min(i0 + 1, inSize - 1);
    return [i0, i1, x - i0] as const;
  };
  for (let y = 0; y < outH; y++) {
    const [y0, y1, fy] = coord(y, H, outH);
    for (let x = 0; x < outW; x++) {
      const [x0, x1, fx] = coord(x, W, outW);
      const at = (r: number, c: number) => src[r * W + c];
      out[y * outW + x] =
        (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) + fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1));
    }
  }
  return out;
}

/** Mean of k×k boxes (stride k, the remainder rows/columns dropped), one channel. */
function boxMean(src: Float64Array, H: number, W: number, k: number): [Float64Array, number, number] {
  const h = Math.floor(H / k);
  const w = Math.floor(W / k);
  const out = new Float64Array(h * w);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let sum = 0;
      for (let dy = 0; dy < k; dy++) for (let dx = 0; dx < k; dx++) sum += src[(y * k + dy) * W + x * k + dx];
      out[y * w + x] = sum / (k * k);
    }
  return [out, h, w];
}

/**
 * Independent resize-with-pad of one RGB8 frame into an S×S canvas (openpi layout written out by hand:
 * inner size from the larger ratio, truncated; centred, extra pixel bottom/right; black border = -1),
 * box prefilter for integer downscales ≥ 2, then bilinear; [-1, 1].
 */
function referenceImage(data: Uint8Array, H: number, W: number, S: number): Float64Array {
  const ratio = Math.max(W / S, H / S);
  const ih = Math.max(1, Math.min(S, Math.trunc(H / ratio)));
  const iw = Math.max(1, Math.min(S, Math.trunc(W / ratio)));
  const top = Math.floor((S - ih) / 2);
  const left = Math.floor((S - iw) / 2);
  const k = Math.floor(Math.min(H / ih, W / iw));
  const out = new Float64Array(3 * S * S).fill(-1);
  for (let c = 0; c < 3; c++) {
    let plane: Float64Array = Float64Array.from({ length: H * W }, (_, i) => data[i * 3 + c]);
    let [h, w] = [H, W];
    if (k >= 2) [plane, h, w] = boxMean(plane, H, W, k);
    const r = h === ih && w === iw ? plane : bilinear(plane, h, w, ih, iw);
    for (let y = 0; y < ih; y++)
      for (let x = 0; x < iw; x++) out[c * S * S + (top + y) * S + left + x] = (r[y * iw + x] * 2) / 255 - 1;
  }
  return out;
}

function frame(H: number, W: number, seed: number) {
  return {
    width: W,
    height: H,
    data: Uint8Array.from({ length: H * W * 3 }, (_, i) => (i * 37 + seed * 101 + 11) % 256),
  };
}

describe('PolicyProcessor images', () => {
  it('a 3x5 RGB8 frame is resized with padding into [1, 3, S, S] in [-1, 1]; a missing camera is ones with mask 0', async () => {
    const p = toy('mean_std');
    const f = frame(3, 5, 0);
    const { images, masks } = p.imagesToPolicy({ head: f });
    expect(Array.from(masks)).toEqual([1, 0]);
    expect(images.map((t) => t.shape)).toEqual([
      [1, 3, 4, 4],
      [1, 3, 4, 4],
    ]);
    const got = (await images[0].toArray()) as Float32Array;
    const ref = referenceImage(f.data, 3, 5, 4);
    // 3x5 into 4x4 keeps the aspect: a 2x4 band with one black row above and below.
    expect(Array.from(got.subarray(0, 4))).toEqual([-1, -1, -1, -1]);
    for (let k = 0; k < ref.length; k++) expect(got[k]).toBeCloseTo(ref[k], 5);
    expect(Array.from(await images[1].toArray())).toEqual(new Array(48).fill(1));
    for (const t of images) t.dispose();
  });

  it('a batch of mixed sizes (tall, wide, a 5x downscale through box means) matches the reference item by item', async () => {
    const p = toy('mean_std');
    const items = [
      { head: frame(12, 20, 1), wrist: frame(7, 3, 2) },
      { wrist: frame(7, 3, 3) },
      { head: frame(4, 4, 4), wrist: undefined },
      { head: frame(12, 20, 5), wrist: frame(9, 13, 6) },
    ];
    const { images, masks } = p.imageBatchToPolicy(items);
    expect(Array.from(masks)).toEqual([1, 1, 0, 1, 1, 0, 1, 1]);
    const S = 4;
    for (const [v, cam] of (['head', 'wrist'] as const).entries()) {
      expect(images[v].shape).toEqual([4, 3, S, S]);
      const got = (await images[v].toArray()) as Float32Array;
      items.forEach((item, b) => {
        const f = (item as Record<string, ReturnType<typeof frame> | undefined>)[cam];
        const ref = f ? referenceImage(f.data, f.height, f.width, S) : new Float64Array(3 * S * S).fill(1);
        for (let k = 0; k < ref.length; k++) expect(got[b * ref.length + k]).toBeCloseTo(ref[k], 4);
      });
      images[v].dispose();
    }
  });

  it("the upstream pipeline: float resize-with-pad, the Qwen3-VL processor's patches (item-major) and the tokenizer's bilinear copy", async () => {
    const { resizeWithPadPlanar } = await import('@vla/lerobot/browser');
    const { preprocessQwen3VLImage } = await import('@vla/qwen3-vl');
    const p = toy('mean_std', { imagePipeline: 'upstream', padSize: 40, imageSize: 16 });
    const items = [{ head: frame(30, 50, 1), wrist: frame(41, 23, 2) }, { wrist: frame(30, 50, 3) }];
    const { images, masks, visionPatches } = p.imageBatchToPolicy(items);
    expect(Array.from(masks)).toEqual([1, 1, 0, 1]);
    // The references: upstream's rules as lerobot and qwen3-vl implement them (each tested against torch).
    const unit = (f: ReturnType<typeof frame>) => {
      const n = f.width * f.height;
      return Float32Array.from({ length: 3 * n }, (_, k) => f.data[3 * (k % n) + Math.floor(k / n)] / 255);
    };
    const padded = (f: ReturnType<typeof frame> | undefined) =>
      f
        ? resizeWithPadPlanar(unit(f), 3, f.height, f.width, 40, 40, { method: 'upstream' })
        : new Float32Array(3 * 40 * 40).fill(1);
    const want: number[] = [];
    items.forEach((item) =>
      (['head', 'wrist'] as const).forEach((cam) => {
        const pv = preprocessQwen3VLImage(
          padded((item as Record<string, ReturnType<typeof frame>>)[cam]),
          3,
          40,
          40,
        );
        // 40² is smart-resized up to the processor's 256² minimum: 16x16 patches of 3·2·16².
        expect(pv.gridThw).toEqual([1, 16, 16]);
        for (const x of pv.pixelValues) want.push(x);
      }),
    );
    expect(visionPatches!.shape).toEqual([2 * 2 * 256, 1536]);
    const got = await visionPatches!.toArray();
    let worst = 0;
    for (let k = 0; k < want.length; k++) worst = Math.max(worst, Math.abs(got[k] - want[k]));
    expect(worst).toBe(0);
    // Tokenizer input: [B, 3, 16, 16] = bilinear 40 → 16 of the padded frame, ×2 − 1 (a missing view: ones).
    expect(images[0].shape).toEqual([2, 3, 16, 16]);
    const head = await images[0].toArray();
    expect(Array.from(head.subarray(3 * 256))).toEqual(new Array(3 * 256).fill(1));
    const { cosmosTokenizerInput } = await import('@vla/vae');
    const { tensor } = await import('@vla/tensor-webgpu');
    const ref = cosmosTokenizerInput(tensor(padded(items[0].head), [1, 3, 40, 40]), { size: 16 });
    expect(Array.from(head.subarray(0, 3 * 256))).toEqual(Array.from(await ref.toArray()));
    ref.dispose();
    // The patches must be the grid the policy's vision tower takes (here 16², the processor gives 256²).
    const { tinyConfig } = await import('../src/index.js');
    expect(() =>
      p.checkFits({ ...tinyConfig(), imageSize: 16, textTokens: 4, chunkSize: 3, views: 2 }),
    ).toThrow(
      /padSize 40 gives the vision tower 256x256 pixels \(Qwen3-VL processor\), but the policy's visionSize is 16x16/,
    );
    const noPatches = p.imageBatchToPolicy(items, { vision: false });
    expect(noPatches.visionPatches).toBeUndefined();
    for (const t of [...images, ...noPatches.images, visionPatches!]) t.dispose();
  });

  it('refuses unknown cameras, frames of the wrong size and an empty batch', () => {
    const p = toy('mean_std');
    expect(() => p.imagesToPolicy({ top: undefined })).toThrow(/unknown camera "top"/);
    expect(() => p.imagesToPolicy({ head: { width: 2, height: 2, data: new Uint8Array(5) } })).toThrow(
      /5 bytes/,
    );
    expect(() => p.imageBatchToPolicy([])).toThrow(/empty/);
  });
});

describe('PolicyProcessor prompts', () => {
  it('encodes with the Qwen3 tokenizer and the compact vocabulary it stores, and needs the tokenizer loaded', async () => {
    const { Qwen3Tokenizer, VocabRemap } = await import('@vla/qwen3-vl');
    const { encodePrompts } = await import('../src/index.js');
    const tokenizer = await Qwen3Tokenizer.load();
    const prompts = ['pick up the cube', 'put the red block in the bin'];
    const remap = VocabRemap.fromTexts(tokenizer, prompts);
    const config = tinyConfig({
      width: 32,
      layers: 1,
      visionLayers: 1,
      imageSize: 32,
      views: 2,
      textTokens: 8,
      vocabSize: 64,
    });
    const json = toy('mean_std').toJSON();
    const p = PolicyProcessor.fromStats({
      ...json,
      stats: { state: json.stats.state, action: json.stats.action },
      imageSize: 32,
      textLength: 8,
      vocab: remap,
    });
    expect(p.json.vocab).toEqual(Array.from(remap.fullIds.subarray(1)));
    expect(() => p.encodePrompts(config, prompts)).toThrow(/loadTokenizer/);
    await p.loadTokenizer();
    // The processor's JSON alone rebuilds the same map: compare with encodePrompts given the remap.
    const q = await PolicyProcessor.fromJSON(JSON.parse(JSON.stringify(p.toJSON()))).loadTokenizer();
    const got = q.encodePrompts(config, [...prompts, 'unseen words']);
    const want = encodePrompts(config, tokenizer, [...prompts, 'unseen words'], remap);
    expect(Array.from(got.tokens)).toEqual(Array.from(want.tokens));
    expect(Array.from(got.textMask)).toEqual(Array.from(want.textMask));
    expect(Math.max(...got.tokens)).toBeLessThan(remap.size);
    // Known words map to kept ids, unseen ones to 0 (unknown).
    expect(got.tokens.subarray(16, 24).some((id) => id === 0)).toBe(true);
    expect(() => q.encodePrompts({ ...config, textTokens: 9 }, prompts)).toThrow(
      /textLength 8.*textTokens 9/,
    );
    expect(() => PolicyProcessor.fromJSON({ ...p.toJSON(), vocab: [5, 7, 5] })).toThrow(
      /vocab\[2\] repeats token id 5/,
    );
  });
});

describe('PolicyProcessor validation', () => {
  const good = toy('quantile').toJSON();
  const cases: [string, (j: Record<string, unknown>) => void, RegExp][] = [
    ['robotType missing', (j) => delete j.robotType, /robotType must be a string, got undefined/],
    [
      'normalization unknown',
      (j) => (j.normalization = 'minmax'),
      /normalization must be "mean_std" or "quantile"/,
    ],
    ['deltaMask too short', (j) => (j.deltaMask = [true]), /deltaMask has 1 entries, actionNames 6/],
    [
      'std as a string',
      (j) => ((j.stats as { action: { std: unknown[] } }).action.std[3] = '1'),
      /stats\.action\.std\[3\] must be a finite number/,
    ],
    [
      'negative std',
      (j) => ((j.stats as { state: { std: number[] } }).state.std[1] = -1),
      /stats\.state\.std\[1\] must be >= 0/,
    ],
    [
      'q01 missing',
      (j) => delete (j.stats as { action: { q01?: unknown } }).action.q01,
      /stats\.action\.q01 is required/,
    ],
    ['repeated camera', (j) => (j.cameras = ['a', 'a']), /cameras\[1\] repeats "a"/],
    ['unknown field', (j) => (j.extra = 1), /^PolicyProcessor has unknown field\(s\) extra$/],
  ];
  for (const [what, edit, message] of cases) {
    it(what, () => {
      const j = JSON.parse(JSON.stringify(good)) as Record<string, unknown>;
      edit(j);
      let err: unknown;
      try {
        PolicyProcessor.fromJSON(j);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(PolicyProcessorError);
      expect((err as Error).message).toMatch(message);
    });
  }
});

describe('PolicyProcessor in checkpoints', () => {
  const config = tinyConfig({
    width: 32,
    layers: 1,
    visionLayers: 1,
    textTokens: 4,
    vocabSize: 48,
    imageSize: 32,
  });
  const processor = () =>
    PolicyProcessor.fromJSON({
      ...toy('quantile').toJSON(),
      imageSize: config.imageSize,
      textLength: config.textTokens,
      chunkSize: config.chunkSize,
      policyDim: config.stateDim,
      cameras: Array.from({ length: config.views }, (_, i) => `cam${i}`),
    });

  type Header = Record<string, unknown> & { __metadata__: Record<string, string> };
  function rewrite(bytes: Uint8Array, edit: (meta: Record<string, string>) => void): Uint8Array {
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Header;
    edit(header.__metadata__);
    const json = new TextEncoder().encode(JSON.stringify(header));
    const out = new Uint8Array(8 + json.length + bytes.length - 8 - n);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    out.set(bytes.subarray(8 + n), 8 + json.length);
    return out;
  }
  /** Edits the processor JSON and writes a consistent CRC, so the field check is what fails. */
  const editProcessor = (bytes: Uint8Array, edit: (j: Record<string, unknown>) => void) =>
    rewrite(bytes, (m) => {
      const j = JSON.parse(m.processor) as Record<string, unknown>;
      edit(j);
      m.processor = JSON.stringify(j);
      m.processor_crc32 = crcOf(m.processor);
    });
  const crcOf = (s: string) => (CRC32.buf(new TextEncoder().encode(s)) >>> 0).toString(16).padStart(8, '0');

  it('save → load keeps the processor; malformed processors are CheckpointErrors naming the field', async () => {
    manualSeed(3);
    const policy = InternVLAA1Policy.create(config);
    const p = processor();
    const bytes = await savePolicy(undefined, policy, { processor: p });
    const plain = await savePolicy(undefined, policy);
    policy.dispose();

    expect((await readPolicyProcessor(bytes))!.toJSON()).toEqual(p.toJSON());
    expect(await readPolicyProcessor(plain)).toBeNull();
    const bundle = await loadPolicyBundle(bytes);
    expect(bundle.processor!.toJSON()).toEqual(p.toJSON());
    bundle.policy.dispose();
    (await loadPolicy(bytes)).dispose();

    const bad: [string, Uint8Array, RegExp][] = [
      [
        'a std that is a string',
        editProcessor(bytes, (j) => ((j.stats as { action: { std: unknown[] } }).action.std[2] = 'x')),
        /__metadata__\.processor\.stats\.action\.std\[2\] must be a finite number/,
      ],
      [
        'deltaMask null',
        editProcessor(bytes, (j) => (j.deltaMask = null)),
        /__metadata__\.processor\.deltaMask must be a list of booleans, got null/,
      ],
      [
        'an image size the network does not take',
        editProcessor(bytes, (j) => (j.imageSize = 64)),
        /__metadata__\.processor\.imageSize is 64 but the policy's imageSize is 32/,
      ],
      [
        'not JSON',
        rewrite(bytes, (m) => ((m.processor = '{"a":'), (m.processor_crc32 = crcOf('{"a":')))),
        /__metadata__\.processor is not valid JSON/,
      ],
      [
        'a flipped digit (CRC)',
        rewrite(bytes, (m) => (m.processor = m.processor.replace('"imageSize":32', '"imageSize":33'))),
        /__metadata__\.processor is corrupted/,
      ],
      [
        'a CRC without a processor',
        rewrite(bytes, (m) => delete m.processor),
        /__metadata__\.processor is missing/,
      ],
    ];
    for (const [what, file, message] of bad) {
      for (const load of [
        () => loadPolicyBundle(file),
        () => loadPolicy(file),
        () => readPolicyProcessor(file),
      ]) {
        const err = await load().then(
          (r) => {
            if (r && 'dispose' in r) r.dispose();
            else if (r && 'policy' in r) r.policy.dispose();
            return `loaded (${what})`;
          },
          (e: unknown) => e,
        );
        expect(err, what).toBeInstanceOf(CheckpointError);
        expect((err as Error).message, what).toMatch(message);
      }
    }
    // savePolicy refuses a processor the network cannot take.
    const other = InternVLAA1Policy.create(config);
    await expect(
      savePolicy(undefined, other, { processor: PolicyProcessor.fromJSON({ ...p.toJSON(), chunkSize: 7 }) }),
    ).rejects.toThrow(/__metadata__\.processor\.chunkSize is 7 but the policy's chunkSize is/);
    other.dispose();
  });
});
