// Our forward pass against upstream's own (fixtures/upstream: upstream's PyTorch code at tiny sizes
// with random weights, f32): the training loss and velocity for given noise and time, the predicted
// t+15 latent, the rotary positions, the 10-step sampled actions and the sampled foresight, including
// a missing camera. Tolerance: |ours − upstream| ≤ 2e-5 · max|upstream| per tensor (upstream's own
// f32 result is within 3e-6 of its float64 result).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noGrad, tensor, tidy } from '@vla/tensor-webgpu';
import { JointSequence, type InternVLAA1Policy, type PolicyBatch } from '../src/index.js';
import {
  UPSTREAM_CASES,
  batchOf,
  disposeBatch,
  openUpstreamCase,
  policyOf,
  relativeError,
  type UpstreamCase,
} from './upstreamCases.js';
import './setup.js';

const TOL = 2e-5;

describe.each(UPSTREAM_CASES)('upstream parity: %s', (name) => {
  let c: UpstreamCase;
  let policy: InternVLAA1Policy;
  let batch: PolicyBatch;
  /** Per latent element: does it belong to a present view? */
  let presentView: (i: number) => boolean;

  beforeAll(async () => {
    c = await openUpstreamCase(name);
    policy = await policyOf(c);
    batch = await batchOf(c);
    const per = 16 * (c.meta.image_size / 8) ** 2; // latent channels · side²
    const masks = batch.imageMasks;
    presentView = (i) => Boolean(masks[Math.floor(i / per)]);
  });
  afterAll(async () => {
    if (batch) disposeBatch(batch);
    policy?.dispose();
    await c?.file.close();
  });

  it('numbers every token as get_rope_index does (training) and as sample_actions does (cached)', async () => {
    const { batch: B } = c.meta;
    const seq = new JointSequence(c.config, B, batch.imageMasks, batch.textMask);
    const cached = new JointSequence(c.config, B, batch.imageMasks, batch.textMask, 'upstream-inference');
    const ref = await c.host('out.position_ids'); // [3, B, S]
    const S = seq.layout.length;
    const L = seq.layout.prefix.end;
    const G = seq.layout.generation.end;
    const mid = await c.host('out.sample_middle_positions');
    const suf = await c.host('out.sample_suffix_positions');
    for (let a = 0; a < 3; a++) {
      for (let b = 0; b < B; b++) {
        expect(Array.from(seq.ids[b][a]), `axis ${a} sample ${b}`).toEqual(
          Array.from(ref.data).slice((a * B + b) * S, (a * B + b + 1) * S),
        );
        const ours = Array.from(cached.ids[b][a]);
        expect(ours.slice(L, G)).toEqual(
          Array.from(mid.data).slice((a * B + b) * (G - L), (a * B + b + 1) * (G - L)),
        );
        expect(ours.slice(G)).toEqual(
          Array.from(suf.data).slice((a * B + b) * (S - G), (a * B + b + 1) * (S - G)),
        );
      }
    }
  });

  it('embeds the prefix, the generation tokens and the suffix as upstream', async () => {
    const time = Array.from((await c.host('input.time')).data);
    const xt = await noisyActions(c);
    const { prefix, middle, suffix, image } = noGrad(() =>
      tidy(() => ({
        image: policy.und_expert.visual.forwardPatches(batch.visionPatches!, gridsOf(c)).tokens,
        prefix: policy.embedPrefix(batch),
        middle: policy.embedGeneration(policy.encodeFrames(batch, false).inputs),
        suffix: policy.embedSuffix(batch.state, tensor(xt.data, xt.shape), time),
      })),
    );
    expect(relativeError(await image.toArray(), (await c.host('out.image_embs')).data)).toBeLessThan(TOL);
    expect(relativeError(await prefix.toArray(), (await c.host('out.prefix_embs')).data)).toBeLessThan(TOL);
    expect(relativeError(await middle.toArray(), (await c.host('out.middle_embs')).data)).toBeLessThan(TOL);
    expect(relativeError(await suffix.toArray(), (await c.host('out.suffix_embs')).data)).toBeLessThan(TOL);
    for (const t of [image, prefix, middle, suffix]) t.dispose();
  });

  it('gives upstream training loss, velocity and predicted latent for the same noise and time', async () => {
    const noise = await c.host('input.noise');
    const time = Array.from((await c.host('input.time')).data);
    const lossAction = await c.host('out.loss_action');
    const refAction = mean(lossAction.data);
    const refGen = (await c.host('out.loss_gen')).data[0];
    const out = noGrad(() =>
      tidy(() => {
        const n = tensor(Float32Array.from(noise.data), noise.shape);
        const losses = policy.computeLoss(batch, { noise: n, time });
        return { ...losses };
      }),
    );
    const [action] = await out.actionLoss.toArray();
    const [gen] = await out.genLoss!.toArray();
    const [total] = await out.loss.toArray();
    expect(Math.abs(action - refAction) / refAction).toBeLessThan(TOL);
    expect(Math.abs(gen - refGen) / refGen).toBeLessThan(TOL);
    expect(Math.abs(total - (refAction + 0.01 * refGen)) / total).toBeLessThan(TOL);
    for (const t of [out.loss, out.actionLoss, out.genLoss!]) t.dispose();
  });

  it('gives upstream velocity and t+15 latent from the full forward pass', async () => {
    const time = Array.from((await c.host('input.time')).data);
    const xt = await noisyActions(c);
    const out = noGrad(() => tidy(() => policy.forward(batch, tensor(xt.data, xt.shape), time)));
    expect(relativeError(await out.velocity.toArray(), (await c.host('out.v_t')).data)).toBeLessThan(TOL);
    const latent = await out.latent!.toArray();
    expect(relativeError(latent, (await c.host('out.pred_latent')).data, presentView)).toBeLessThan(TOL);
    out.velocity.dispose();
    out.latent!.dispose();
  });

  it('samples upstream actions and foresight latent (10 Euler steps, upstream cached positions)', async () => {
    const noise = await c.host('input.sample_noise');
    const res = noGrad(() =>
      tidy(() =>
        policy.sampleActions(batch, {
          noise: tensor(Float32Array.from(noise.data), noise.shape),
          steps: 10,
          positions: 'upstream-inference',
          foresight: true,
        }),
      ),
    );
    expect(
      relativeError(await res.actions.toArray(), (await c.host('out.sample_actions')).data),
    ).toBeLessThan(TOL);
    const latent = await res.latent!.toArray();
    expect(relativeError(latent, (await c.host('out.sample_latent')).data, presentView)).toBeLessThan(TOL);
    for (const t of [res.actions, res.latent, res.images]) t?.dispose();
  });
});

/** One processor grid per view image, `[t, h, w]` in patches. */
function gridsOf(c: UpstreamCase): [number, number, number][] {
  const v = c.meta.vision;
  const side = c.meta.image_size / v.patch_size;
  return Array.from({ length: c.meta.batch * c.meta.views }, () => [1, side, side]);
}

/** `x_t = t·ε + (1 − t)·a` in f32, as upstream forms it from the case's noise, time and actions. */
async function noisyActions(c: UpstreamCase): Promise<{ data: Float32Array; shape: number[] }> {
  const noise = await c.host('input.noise');
  const actions = await c.host('input.actions');
  const time = (await c.host('input.time')).data;
  const per = noise.data.length / c.meta.batch;
  const f = Math.fround;
  const data = Float32Array.from(noise.data, (e, i) => {
    const t = f(time[Math.floor(i / per)]);
    return f(f(t * e) + f(f(1 - t) * actions.data[i]));
  });
  return { data, shape: noise.shape };
}

function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s / xs.length;
}
