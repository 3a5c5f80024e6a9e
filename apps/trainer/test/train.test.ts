// The whole path a user takes, on the shared LeRobot fixtures (v2.1 with a camera, v3.0 without):
// dataset → processor → batches → training steps → checkpoint → loadPolicySource → actions in robot
// units for a fresh observation, checked against a hand computation (statistics recomputed here
// from the raw columns, un-normalisation and the state added back on delta dims by hand). Also: the
// latent cache means no encoder call after it is built, across epochs; a NaN gradient stops the run
// naming the tensor and keeps the last good checkpoint.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadPolicyBundle, type InternVLAA1Policy } from '@vla/internvla-a1';
import { FfmpegDecoder, openLocalDataset } from '@vla/lerobot';
import { loadPolicySource } from '@vla/policy-runtime';
import { full, noGrad, tensor, tidy } from '@vla/tensor-webgpu';
import { CosmosImageTokenizer } from '@vla/vae';
import { parseTrainConfig, TrainingDivergedError, train, withPreset } from '../src/index.js';
import { MetricsLog } from '../src/report/metricsLog.js';
import { readTrainState } from '../src/trainerCheckpoint.js';
import { cutCr5, MICRO_MODEL, so101 } from './fixtures.js';
import './setup.js';

const root = mkdtempSync(join(tmpdir(), 'vla-train-e2e-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
// The v2.1 fixture's first episode (107 frames): every frame is decoded and encoded once for the
// latent cache, which SwiftShader makes slow; the runs share one cache folder.
let cr5Copy = '';
const cr5 = () => (cr5Copy ||= cutCr5(join(root, 'cr5'), 1));
const latents = join(root, 'latents');

function config(dataset: string, extra: Record<string, unknown> = {}) {
  return parseTrainConfig(
    withPreset('tiny', {
      model: { tiny: MICRO_MODEL },
      data: { datasets: [{ path: dataset }], concurrency: 2, latentCache: latents },
      steps: 3,
      batchSize: 2,
      checkpointEvery: 3,
      foresightEvery: 3,
      optim: { lr: 1e-3 },
      seed: 11,
      ...extra,
    }),
  );
}

/** Per-dim mean and population std in float64. */
function meanStd(rows: number[][]): { mean: number[]; std: number[] } {
  const n = rows.length;
  const d = rows[0].length;
  const mean = Array.from({ length: d }, (_, j) => rows.reduce((s, r) => s + r[j], 0) / n);
  const std = mean.map((m, j) => Math.sqrt(rows.reduce((s, r) => s + (r[j] - m) ** 2, 0) / n));
  return { mean, std };
}

/** Raw state/action columns of every episode of a dataset, through lerobot's parquet reader only. */
async function rawColumns(path: string) {
  const ds = await openLocalDataset(path, { decoder: new FfmpegDecoder() });
  const episodes: { state: number[][]; action: number[][] }[] = [];
  for (const e of ds.episodes) {
    const ep = await ds.readEpisode(e.episodeIndex);
    const col = (k: string) => {
      const c = ep.columns[k];
      return Array.from({ length: ep.length }, (_, r) =>
        Array.from(c.values.subarray(r * c.width, (r + 1) * c.width), Number),
      );
    };
    episodes.push({ state: col('observation.state'), action: col('action') });
  }
  return { ds, episodes };
}

describe.each([
  {
    name: 'v2.1 cr5 (camera, absolute actions)',
    dataset: cr5,
    deltaMask: undefined as boolean[] | undefined,
  },
  {
    name: 'v3.0 so101 (no camera, joint deltas)',
    dataset: so101,
    deltaMask: [true, true, true, true, true, false],
  },
])('train → checkpoint → actions in robot units: $name', ({ dataset, deltaMask }) => {
  it('trains, saves, reloads and acts as a hand computation says', async () => {
    const out = join(root, `run-${dataset().split('/').pop()}`);
    const c = config(dataset(), {
      data: {
        datasets: [{ path: dataset(), ...(deltaMask ? { mapping: { deltaMask } } : {}) }],
        concurrency: 2,
        latentCache: latents,
      },
    });
    const result = await train(c, { out });
    expect(result).toMatchObject({ step: 3, samples: 6, status: 'done' });
    for (const f of ['policy.safetensors', 'report.html', 'metrics.jsonl', 'train-config.json'])
      expect(existsSync(join(out, f)), f).toBe(true);
    const records = await MetricsLog.read(join(out, 'metrics.jsonl'));
    const steps = records.filter((r) => r.kind === 'train');
    expect(steps.map((r) => r.step)).toEqual([1, 2, 3]);
    expect(steps.every((r) => r.kind === 'train' && Number.isFinite(r.loss) && r.genLoss !== null)).toBe(
      true,
    );
    expect((await readTrainState(result.checkpoint)).step).toBe(3);

    // The processor's statistics, recomputed from the raw columns: the state over frames, actions
    // over every in-episode position of every 10-step chunk, minus the state on delta dims.
    const { ds, episodes } = await rawColumns(dataset());
    const H = MICRO_MODEL.chunkSize;
    const states = episodes.flatMap((e) => e.state);
    const deltas: number[][] = [];
    for (const e of episodes)
      e.state.forEach((s, t) => {
        for (let k = 0; k < H && t + k < e.state.length; k++)
          deltas.push(e.action[t + k].map((a, i) => (deltaMask?.[i] ? a - s[i] : a)));
      });
    const stateStats = meanStd(states);
    const actionStats = meanStd(deltas);

    // A fresh observation: the middle frame of the last episode (and its camera frame, if any).
    const loaded = await loadPolicySource(result.policyPath, { seed: 5 });
    const { processor } = loaded;
    for (const [got, want] of [
      [processor.json.stats.state, stateStats],
      [processor.json.stats.action, actionStats],
    ] as const) {
      got.mean.forEach((m, i) => expect(m).toBeCloseTo(want.mean[i], 5));
      got.std.forEach((s, i) => expect(Math.abs(s - want.std[i])).toBeLessThan(1e-4 * (1 + want.std[i])));
    }
    const last = ds.episodes[ds.episodes.length - 1];
    const ep = episodes[episodes.length - 1];
    const row = Math.floor(ep.state.length / 2);
    const state = ep.state[row];
    const images: Record<string, { width: number; height: number; data: Uint8Array; timestampMs: number }> =
      {};
    if (processor.json.robotType && ds.info.features['observation.images.top']) {
      const [frame] = await ds.decodeFrames(last.episodeIndex, 'observation.images.top', [row / ds.fps]);
      const [h, w] = ds.imageShape('observation.images.top');
      images.head = { width: w, height: h, data: frame as Uint8Array, timestampMs: 0 };
    }
    const padded = new Float32Array(32);
    padded.set(state);
    const chunk = await loaded.source({
      robotType: processor.json.robotType,
      state: padded,
      images,
      prompt: 'grasp the cube',
      timestampMs: 0,
    });
    expect([chunk.horizon, chunk.dim, chunk.absolute]).toEqual([H, 32, true]);

    // The same network output by hand: the policy run directly on the processor's inputs.
    const { policy } = await loadPolicyBundle(result.policyPath);
    const raw = await sampleByHand(policy, processor, state, images, 'grasp the cube');
    const A = ep.action[0].length;
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < 32; i++) {
        const got = chunk.actions[h * 32 + i];
        if (i >= A) {
          expect(got).toBe(0);
          continue;
        }
        const s = processor.json.stats.action;
        const want = raw[h * 32 + i] * (s.std[i] + 1e-6) + s.mean[i] + (deltaMask?.[i] ? state[i] : 0);
        expect(Math.abs(got - want), `row ${h} dim ${i}`).toBeLessThan(1e-4 * (1 + Math.abs(want)));
      }
    }
    policy.dispose();
    loaded.dispose();
  });
});

/** `policy.sampleActions` on inputs built with the processor's pieces, seed 5, read back. */
async function sampleByHand(
  policy: InternVLAA1Policy,
  processor: Awaited<ReturnType<typeof loadPolicySource>>['processor'],
  state: number[],
  images: Record<string, { width: number; height: number; data: Uint8Array }>,
  prompt: string,
): Promise<Float32Array> {
  const { tokens, textMask } = processor.encodePrompts(policy.config, [prompt]);
  const actions = noGrad(() =>
    tidy(() => {
      const cur = processor.imagesToPolicy(images);
      const past = processor.imagesToPolicy(images);
      const obs = {
        images: cur.images.map((current, v) => ({ past: past.images[v], current })),
        imageMasks: cur.masks,
        tokens,
        textMask,
        state: tensor(processor.stateToPolicy(state), [1, 32]),
      };
      return policy.sampleActions(obs, { seed: 5 }).actions;
    }),
  );
  const out = (await actions.toArray()) as Float32Array;
  actions.dispose();
  return out;
}

describe('training with the latent cache', () => {
  it('encodes each frame once: no encoder call after the cache is built, across epochs', async () => {
    const encode = vi.spyOn(CosmosImageTokenizer.prototype, 'encode');
    const messages: string[] = [];
    const c = config(cr5(), {
      steps: 5,
      foresightEvery: 0,
      data: { datasets: [{ path: cr5() }], samplesPerEpoch: 4, concurrency: 2 },
    });
    await train(c, { out: join(root, 'cache'), log: (m) => messages.push(m) });
    const built = messages.map((m) => /built \((\d+) encoder calls\)/.exec(m)).find((m) => m);
    expect(built, messages.join('\n')).toBeTruthy();
    // 5 steps of 2 over epochs of 4 samples: epochs 0, 1 and 2 were served.
    expect(encode.mock.calls.length).toBe(Number(built![1]));
    encode.mockRestore();
  });
});

describe('divergence', () => {
  it('a NaN gradient stops the run naming the tensor and the step; the last good checkpoint stays', async () => {
    const out = join(root, 'nan');
    const c = config(so101(), { steps: 4, checkpointEvery: 1, foresightEvery: 0 });
    const err = await train(c, {
      out,
      afterBackward: (step, policy) => {
        if (step !== 3) return;
        const w = policy.action_in_proj.weight;
        w.grad?.dispose();
        w.grad = full(w.shape, Number.NaN);
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrainingDivergedError);
    expect(err).toMatchObject({ step: 3, tensor: 'grad:action_in_proj.weight' });
    expect((err as Error).message).toMatch(
      /training diverged at step 3: grad:action_in_proj\.weight is not finite/,
    );
    expect(readFileSync(join(out, 'checkpoints', 'latest'), 'utf8').trim()).toBe('step-00000002');
    const state = await readTrainState(join(out, 'checkpoints', 'step-00000002'));
    expect(state.step).toBe(2);
    const steps = (await MetricsLog.read(join(out, 'metrics.jsonl')))
      .filter((r) => r.kind === 'train')
      .map((r) => r.step);
    expect(steps).toEqual([1, 2]);
    // The kept checkpoint still loads and its weights are finite.
    const { policy } = await loadPolicyBundle(join(out, 'policy.safetensors'));
    expect((await policy.action_in_proj.weight.toArray()).every(Number.isFinite)).toBe(true);
    policy.dispose();
  });
});

describe('recipes', () => {
  it('fine-tuning starts from a checkpoint with warmup + cosine; λ scales the generation term; the ablation has none', async () => {
    // λ = 0.5: every logged loss is actionLoss + 0.5 · genLoss.
    const base = join(root, 'lambda');
    await train(config(so101(), { steps: 2, checkpointEvery: 2, foresightEvery: 0, genLossWeight: 0.5 }), {
      out: base,
    });
    const lambda = (await MetricsLog.read(join(base, 'metrics.jsonl'))).filter((r) => r.kind === 'train');
    for (const r of lambda)
      if (r.kind === 'train') expect(r.loss).toBeCloseTo(r.actionLoss + 0.5 * r.genLoss!, 5);

    // Fine-tune from it: lr follows linear warmup (3 steps) then cosine to the floor at step 6.
    const ft = join(root, 'finetune');
    const c = config(so101(), {
      mode: 'finetune',
      init: base,
      steps: 6,
      checkpointEvery: 6,
      foresightEvery: 0,
      optim: { lr: 1e-3, warmupSteps: 3, floorLr: 1e-4 },
    });
    await train(c, { out: ft });
    const lrs = (await MetricsLog.read(join(ft, 'metrics.jsonl'))).flatMap((r) =>
      r.kind === 'train' ? [r.lr] : [],
    );
    const [peak, floor, W, D] = [1e-3, 1e-4, 3, 6];
    const want = [0, 1, 2, 3, 4, 5].map((s) =>
      s < W
        ? s === 0
          ? peak / (W + 1)
          : peak * ((1 / (W + 1) - 1) * (1 - s / W) + 1)
        : floor + (peak - floor) * 0.5 * (1 + Math.cos((Math.PI * s) / D)),
    );
    lrs.forEach((lr, i) => expect(lr).toBeCloseTo(want[i], 12));

    // The ablation: no generation expert, no generation loss.
    const nogen = join(root, 'nogen');
    await train(
      config(so101(), {
        steps: 2,
        checkpointEvery: 2,
        foresightEvery: 0,
        model: { tiny: MICRO_MODEL, generation: false },
      }),
      { out: nogen },
    );
    const records = (await MetricsLog.read(join(nogen, 'metrics.jsonl'))).filter((r) => r.kind === 'train');
    expect(records.map((r) => r.kind === 'train' && r.genLoss)).toEqual([null, null]);
    const { policy } = await loadPolicyBundle(join(nogen, 'policy.safetensors'));
    expect(policy.config.generation).toBeNull();
    policy.dispose();
  });

  it('imageReconWeight μ: fine-tuning adds the reconstruction head and term, and the saved policy keeps them', async () => {
    // cr5: so101 has no camera, so nothing to reconstruct (its term would be 0).
    const base = join(root, 'recon-base');
    await train(config(cr5(), { steps: 1, checkpointEvery: 1, foresightEvery: 0 }), { out: base });
    const ft = join(root, 'recon');
    await train(
      config(cr5(), {
        mode: 'finetune',
        init: base,
        steps: 2,
        checkpointEvery: 2,
        foresightEvery: 0,
        genLossWeight: 0.5,
        imageReconWeight: 0.25,
        optim: { lr: 1e-3, warmupSteps: 1, floorLr: 1e-4 },
      }),
      { out: ft },
    );
    const records = (await MetricsLog.read(join(ft, 'metrics.jsonl'))).filter((r) => r.kind === 'train');
    expect(records).toHaveLength(2);
    for (const r of records) {
      if (r.kind !== 'train') continue;
      expect(r.reconLoss).toBeGreaterThan(1e-3);
      expect(r.loss).toBeCloseTo(r.actionLoss + 0.5 * r.genLoss! + 0.25 * r.reconLoss!, 5);
    }
    const [{ policy: before }, { policy: after }] = await Promise.all([
      loadPolicyBundle(join(base, 'policy.safetensors')),
      loadPolicyBundle(join(ft, 'policy.safetensors')),
    ]);
    expect(before.und_recon_proj).toBeNull();
    expect(after.config.imageReconWeight).toBe(0.25);
    expect(after.und_recon_proj?.weight.shape).toEqual([48, before.config.vlm.text.hiddenSize]);
    before.dispose();
    after.dispose();
  });
});
