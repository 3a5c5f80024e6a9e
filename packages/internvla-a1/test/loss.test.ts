// The training loss as a formula (SPEC §1 "Training objective"): `L = L_action + λ·L_gen` equals a
// float64 reference computed from the network's own outputs (the velocity and the predicted latent
// of `forward` at the same x_t and t) with the masks and λ applied by hand; padded actions and a
// missing camera's pixels do not reach it; λ scales exactly the generation term; the ablation has
// no generation term.
import { afterAll, describe, expect, it } from 'vitest';
import { contiguous, manualSeed, slice, tensor, type Tensor } from '@vla/tensor-webgpu';
import {
  InternVLAA1Policy,
  tinyConfig,
  type InternVLAA1Config,
  type LossOptions,
  type PolicyBatch,
} from '../src/index.js';
import { refActionLoss, refLatentLoss } from './reference.js';
import './setup.js';
import { disposeBatch, normals, syntheticBatch } from './synthetic.js';

const B = 2;
const sizes = {
  width: 32,
  layers: 1,
  visionLayers: 1,
  textTokens: 4,
  vocabSize: 64,
  imageSize: 32,
  views: 2,
  chunkSize: 4,
};
const config = tinyConfig(sizes);
const { chunkSize: H, stateDim: D, imageSize: S } = config;
// Sample 0 has its second camera missing; sample 0 pads its last step, sample 1 its last two.
const IS_PAD = Uint8Array.from([0, 0, 0, 1, 0, 0, 1, 1]);
const TIME = [0.3, 0.8];
const NOISE = normals(B * H * D, 41);

const owned: { dispose(): void }[] = [];
afterAll(() => owned.forEach((o) => o.dispose()));

function makePolicy(cfg: InternVLAA1Config): InternVLAA1Policy {
  manualSeed(9);
  const p = new InternVLAA1Policy(cfg);
  owned.push(p);
  return p;
}

function makeBatch(): PolicyBatch {
  const b = syntheticBatch(config, B, 17, { missing: [[0, 1]] });
  owned.push({ dispose: () => disposeBatch(b) });
  return { ...b, actionIsPad: IS_PAD };
}

/** A GPU tensor owned by the test. */
function gpu(values: Float32Array, shape: number[]): Tensor {
  const t = tensor(values, shape);
  owned.push(t);
  return t;
}

interface Losses {
  loss: number;
  actionLoss: number;
  genLoss: number | null;
}

async function losses(
  policy: InternVLAA1Policy,
  batch: PolicyBatch,
  time = TIME,
  options: LossOptions = {},
): Promise<Losses> {
  const noise = tensor(NOISE, [B, H, D]);
  const out = policy.computeLoss(batch, { noise, time, ...options });
  const read = async (t: Tensor | null) => (t ? (await t.toArray())[0] : null);
  const res = {
    loss: (await read(out.loss))!,
    actionLoss: (await read(out.actionLoss))!,
    genLoss: await read(out.genLoss),
  };
  for (const t of [noise, out.loss, out.actionLoss, out.genLoss]) t?.dispose();
  return res;
}

/** |a − b| relative to the larger magnitude. */
const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-12);

/** The reference loss from the network's outputs at x_t = t·ε + (1 − t)·a (float64 on the host). */
async function reference(
  policy: InternVLAA1Policy,
  batch: PolicyBatch,
  options: LossOptions = {},
): Promise<Losses> {
  const a = await batch.actions.toArray();
  const xtHost = new Float32Array(B * H * D);
  for (let i = 0; i < xtHost.length; i++) {
    const t = TIME[Math.floor(i / (H * D))];
    xtHost[i] = t * NOISE[i] + (1 - t) * a[i];
  }
  const xt = tensor(xtHost, [B, H, D]);
  const out = policy.forward(batch, xt, TIME);
  const isPad = options.maskPaddedActions ? batch.actionIsPad! : null;
  const actionLoss = refActionLoss(await out.velocity.toArray(), NOISE, a, isPad, D, options.actionDim ?? D);
  let genLoss: number | null = null;
  if (out.latent) {
    const frames = policy.encodeFrames(batch, true);
    genLoss = refLatentLoss(await out.latent.toArray(), await frames.targets!.toArray(), batch.imageMasks);
    frames.inputs.dispose();
    frames.targets!.dispose();
  }
  for (const t of [xt, out.velocity, out.latent]) t?.dispose();
  const loss = actionLoss + (genLoss === null ? 0 : policy.config.genLossWeight * genLoss);
  return { loss, actionLoss, genLoss };
}

describe('InternVLAA1Policy.computeLoss as a formula', () => {
  const policy = makePolicy(config);
  const batch = makeBatch();

  it.each([
    ['every step and dim (upstream)', {}],
    ['only non-padded steps of the first 5 dims', { maskPaddedActions: true, actionDim: 5 }],
  ] as const)(
    'equals L_action + λ·L_gen computed by hand from the velocity and the predicted latent: %s',
    async (_, options: LossOptions) => {
      const got = await losses(policy, batch, TIME, options);
      const want = await reference(policy, batch, options);
      expect(rel(got.actionLoss, want.actionLoss)).toBeLessThan(1e-5);
      expect(rel(got.genLoss!, want.genLoss!)).toBeLessThan(1e-5);
      expect(rel(got.loss, want.loss)).toBeLessThan(1e-5);
      // Both terms are large enough for a changed mask or weight to show.
      expect(want.actionLoss).toBeGreaterThan(0.1);
      expect(want.genLoss).toBeGreaterThan(1e-3);
    },
  );

  it('padded actions do not reach the loss; non-padded ones do', async () => {
    // At t = 1, x_t = ε: the actions enter only through the target u = ε − a.
    const ones = [1, 1];
    const a = await batch.actions.toArray();
    const perturbed = (steps: number[]): PolicyBatch => {
      const x = Float32Array.from(a);
      for (const s of steps) for (let d = 0; d < D; d++) x[s * D + d] += 3;
      return { ...batch, actions: gpu(x, [B, H, D]) };
    };
    const masked = { maskPaddedActions: true };
    const base = await losses(policy, batch, ones, masked);
    const padded = [...IS_PAD.keys()].filter((s) => IS_PAD[s]);
    const padChanged = await losses(policy, perturbed(padded), ones, masked);
    expect(rel(padChanged.loss, base.loss)).toBeLessThan(1e-5);
    expect(rel(padChanged.actionLoss, base.actionLoss)).toBeLessThan(1e-5);
    const realChanged = await losses(policy, perturbed([0, 5]), ones, masked);
    expect(rel(realChanged.actionLoss, base.actionLoss)).toBeGreaterThan(1e-2);
    // Upstream's default trains on padded steps (they carry the clamped final pose).
    const unmasked = await losses(policy, batch, ones);
    const padCounts = await losses(policy, perturbed(padded), ones);
    expect(rel(padCounts.actionLoss, unmasked.actionLoss)).toBeGreaterThan(1e-2);
  });

  it('dims past actionDim do not reach the loss; those before it do', async () => {
    const ones = [1, 1];
    const a = await batch.actions.toArray();
    const perturbed = (dims: number[]): PolicyBatch => {
      const x = Float32Array.from(a);
      for (let s = 0; s < B * H; s++) for (const d of dims) x[s * D + d] += 3;
      return { ...batch, actions: gpu(x, [B, H, D]) };
    };
    const opts = { actionDim: 4 };
    const base = await losses(policy, batch, ones, opts);
    expect(
      rel((await losses(policy, perturbed([4, D - 1]), ones, opts)).actionLoss, base.actionLoss),
    ).toBeLessThan(1e-6);
    expect(
      rel((await losses(policy, perturbed([3]), ones, opts)).actionLoss, base.actionLoss),
    ).toBeGreaterThan(1e-2);
    expect(() => policy.computeLoss(batch, { actionDim: D + 1 })).toThrow(
      `actionDim must be an integer in [1, ${D}], got ${D + 1}`,
    );
  });

  it("a missing camera's pixels (frames t−15, t, t+15) do not reach the loss; a present one's do", async () => {
    const base = await losses(policy, batch);
    // Every frame of one view of one sample becomes a random image (a missing one is all ones).
    const withNewPixels = async (view: number, sample: number): Promise<PolicyBatch> => {
      const n = 3 * S * S;
      const frame = async (t: Tensor, seed: number) => {
        const x = Float32Array.from(await t.toArray());
        x.set(normals(n, seed, 0.5), sample * n);
        return gpu(x, [...t.shape]);
      };
      const images = await Promise.all(
        batch.images.map(async (v, i) =>
          i !== view
            ? v
            : {
                past: await frame(v.past, 1),
                current: await frame(v.current, 2),
                future: await frame(v.future!, 3),
              },
        ),
      );
      return { ...batch, images };
    };
    const missing = await losses(policy, await withNewPixels(1, 0));
    // Unchanged up to f32 rounding (a changed mask moves L_gen by ~1e-2 relative here).
    expect(rel(missing.genLoss!, base.genLoss!)).toBeLessThan(1e-6);
    expect(rel(missing.loss, base.loss)).toBeLessThan(1e-6);
    const present = await losses(policy, await withNewPixels(1, 1));
    // Small (the new experts start at N(0, 0.02²)) but far above the rounding bound above.
    expect(rel(present.genLoss!, base.genLoss!)).toBeGreaterThan(1e-4);
  });

  it('λ scales exactly the generation term', async () => {
    const half = makePolicy({ ...config, genLossWeight: 0.5 });
    const one = makePolicy({ ...config, genLossWeight: 1 });
    // The same weights for both λ.
    await half.loadStateDict(policy.stateDict());
    await one.loadStateDict(policy.stateDict());
    const [l1, l2] = [await losses(half, batch), await losses(one, batch)];
    expect(l2.actionLoss).toBe(l1.actionLoss);
    expect(l2.genLoss).toBe(l1.genLoss);
    expect(l2.loss - l1.loss).toBeCloseTo(0.5 * l1.genLoss!, 5);
    expect(rel(l1.loss, l1.actionLoss + 0.5 * l1.genLoss!)).toBeLessThan(1e-6);
    expect(0.5 * l1.genLoss!).toBeGreaterThan(1e-3);
  });

  it('the ablation without the generation expert has no generation term and no generation weights', async () => {
    const ablation = makePolicy(tinyConfig({ ...sizes, generation: false }));
    expect(ablation.foresight).toBeNull();
    expect(ablation.parameterCounts().generation).toBe(0);
    expect(
      [...ablation.namedParameters()].filter(([n]) =>
        /^(gen_expert\.|cosmos_in_proj|downsample_conv|upsample_conv|cosmos_out_)/.test(n),
      ),
    ).toEqual([]);
    // No t+15 frames needed: nothing predicts them.
    const noFuture = { ...batch, images: batch.images.map((v) => ({ past: v.past, current: v.current })) };
    const got = await losses(ablation, noFuture);
    const want = await reference(ablation, noFuture);
    expect(got.genLoss).toBeNull();
    expect(want.genLoss).toBeNull();
    expect(got.loss).toBe(got.actionLoss);
    expect(rel(got.loss, want.actionLoss)).toBeLessThan(1e-5);
  });

  it('ranks that split a batch with batchRows draw what one process with the whole batch draws', async () => {
    const whole = syntheticBatch(config, 4, 23);
    owned.push({ dispose: () => disposeBatch(whole) });
    const rows = (t: Tensor, a: number) => {
      const r = contiguous(slice(t, 0, a, a + 2));
      owned.push(r);
      return r;
    };
    const half = (a: number): PolicyBatch => ({
      images: whole.images.map((v) => ({
        past: rows(v.past, a),
        current: rows(v.current, a),
        future: rows(v.future!, a),
      })),
      imageMasks: Array.from(whole.imageMasks).slice(a * config.views, (a + 2) * config.views),
      tokens: whole.tokens.slice(a * config.textTokens, (a + 2) * config.textTokens),
      textMask: Array.from(whole.textMask).slice(a * config.textTokens, (a + 2) * config.textTokens),
      state: rows(whole.state, a),
      actions: rows(whole.actions, a),
    });
    const read = async (options: LossOptions, b: PolicyBatch) => {
      const out = policy.computeLoss(b, options);
      const v = [(await out.actionLoss.toArray())[0], (await out.genLoss!.toArray())[0]];
      for (const t of [out.loss, out.actionLoss, out.genLoss]) t?.dispose();
      return v;
    };
    const all = await read({ seed: 5 }, whole);
    const first = await read({ seed: 5, batchRows: { start: 0, total: 4 } }, half(0));
    const second = await read({ seed: 5, batchRows: { start: 2, total: 4 } }, half(2));
    // Equal halves: the mean of the two means is the whole batch's mean, term by term.
    expect(rel((first[0] + second[0]) / 2, all[0])).toBeLessThan(1e-5);
    expect(rel((first[1] + second[1]) / 2, all[1])).toBeLessThan(1e-5);
    // Without batchRows both halves draw rows 0–1 of their own: a different loss.
    const plain = await read({ seed: 5 }, half(2));
    expect(rel(plain[0], second[0])).toBeGreaterThan(1e-3);
    expect(() => policy.computeLoss(half(2), { seed: 5, batchRows: { start: 3, total: 4 } })).toThrow(
      /batchRows \[3, 3 \+ 2\) must lie inside a global batch of 4 rows/,
    );
  });
});
