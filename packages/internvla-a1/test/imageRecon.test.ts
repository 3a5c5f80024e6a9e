// The auxiliary image reconstruction (`imageReconWeight` μ, not in the paper): `L_recon` equals a
// float64 reference computed by hand from the understanding expert's prefix output, the head's
// weights and the frames pooled on the host (each image token's region, 4 x 4 cells per channel,
// in merged-grid row-major order); a missing camera is left out; μ scales exactly that term; and a
// policy without it draws the same weights as before the head existed.
import { afterAll, describe, expect, it } from 'vitest';
import { manualSeed, tensor, type Tensor } from '@vla/tensor-webgpu';
import {
  IMAGE_RECON_CELLS,
  InternVLAA1Policy,
  JointSequence,
  PolicyConfigError,
  tinyConfig,
  validatePolicyConfig,
  type InternVLAA1Config,
  type PolicyBatch,
} from '../src/index.js';
import './setup.js';
import { disposeBatch, normals, syntheticBatch } from './synthetic.js';

const B = 2;
// 4 px patches merged 2 x 2: 8 px per token, a 4 x 4 grid per 32 px view, 2 px cells.
const sizes = {
  width: 32,
  layers: 2,
  visionLayers: 1,
  textTokens: 3,
  vocabSize: 64,
  imageSize: 32,
  patchSize: 4,
  views: 2,
  chunkSize: 3,
};
const config: InternVLAA1Config = { ...tinyConfig(sizes), imageReconWeight: 0.7 };
const { chunkSize: H, stateDim: D, imageSize: S, views: V } = config;
const GRID = 4;
const CELL = S / (GRID * IMAGE_RECON_CELLS);

const owned: { dispose(): void }[] = [];
afterAll(() => owned.forEach((o) => o.dispose()));

function makePolicy(cfg: InternVLAA1Config): InternVLAA1Policy {
  manualSeed(13);
  const p = new InternVLAA1Policy(cfg);
  owned.push(p);
  return p;
}

// Sample 1 has its first camera missing.
function makeBatch(): PolicyBatch {
  const b = syntheticBatch(config, B, 29, { missing: [[1, 0]] });
  owned.push({ dispose: () => disposeBatch(b) });
  return b;
}

async function lossesOf(policy: InternVLAA1Policy, batch: PolicyBatch) {
  const noise = tensor(normals(B * H * D, 3), [B, H, D]);
  const out = policy.computeLoss(batch, { noise, time: [0.4, 0.9] });
  const read = async (t: Tensor | null) => (t ? (await t.toArray())[0] : null);
  const res = {
    loss: (await read(out.loss))!,
    actionLoss: (await read(out.actionLoss))!,
    genLoss: await read(out.genLoss),
    reconLoss: await read(out.reconLoss),
  };
  for (const t of [noise, out.loss, out.actionLoss, out.genLoss, out.reconLoss]) t?.dispose();
  return res;
}

/** L_recon in float64 from the prefix's understanding output (the prefix sees nothing after it). */
async function referenceRecon(policy: InternVLAA1Policy, batch: PolicyBatch): Promise<number> {
  const seq = new JointSequence(config, B, batch.imageMasks, batch.textMask);
  const hidden = policy.mot.experts.map((_, i) => (i === 0 ? policy.embedPrefix(batch) : null));
  const out = policy.mot.forward(hidden, {
    mask: seq.mask(seq.layout.prefix),
    rope: seq.rope(seq.layout.prefix),
  });
  const und = await out[0]!.toArray();
  out.forEach((t) => t?.dispose());
  const W = config.vlm.text.hiddenSize;
  const P = seq.layout.prefix.end;
  const weight = await policy.und_recon_proj!.weight.toArray();
  const bias = await policy.und_recon_proj!.bias!.toArray();
  const K = 3 * IMAGE_RECON_CELLS ** 2;
  let sum = 0;
  let count = 0;
  for (let v = 0; v < V; v++) {
    const frames = await batch.images[v].current.toArray(); // [B, 3, S, S]
    for (let b = 0; b < B; b++) {
      if (!batch.imageMasks[b * V + v]) continue;
      for (let row = 0; row < GRID; row++)
        for (let col = 0; col < GRID; col++) {
          const token = v * (GRID * GRID + 2) + 1 + row * GRID + col;
          const h = und.subarray((b * P + token) * W, (b * P + token + 1) * W);
          for (let ch = 0; ch < 3; ch++)
            for (let cy = 0; cy < IMAGE_RECON_CELLS; cy++)
              for (let cx = 0; cx < IMAGE_RECON_CELLS; cx++) {
                let target = 0;
                for (let i = 0; i < CELL; i++)
                  for (let j = 0; j < CELL; j++) {
                    const y = (row * IMAGE_RECON_CELLS + cy) * CELL + i;
                    const x = (col * IMAGE_RECON_CELLS + cx) * CELL + j;
                    target += frames[((b * 3 + ch) * S + y) * S + x];
                  }
                target /= CELL * CELL;
                const k = (ch * IMAGE_RECON_CELLS + cy) * IMAGE_RECON_CELLS + cx;
                let predicted = bias[k];
                for (let w = 0; w < W; w++) predicted += weight[k * W + w] * h[w];
                sum += (predicted - target) ** 2;
                count++;
              }
        }
    }
  }
  expect(count).toBe(3 * GRID * GRID * K); // three valid views of 16 tokens
  return sum / count;
}

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-12);

describe('imageReconWeight: the understanding expert reconstructs its frames', () => {
  const policy = makePolicy(config);
  const batch = makeBatch();

  it('L_recon equals the hand computation, and L = L_action + λ·L_gen + μ·L_recon', async () => {
    const got = await lossesOf(policy, batch);
    const want = await referenceRecon(policy, batch);
    expect(rel(got.reconLoss!, want)).toBeLessThan(1e-5);
    expect(want).toBeGreaterThan(0.01);
    const total = got.actionLoss + config.genLossWeight * got.genLoss! + 0.7 * got.reconLoss!;
    expect(rel(got.loss, total)).toBeLessThan(1e-5);
  });

  it("a missing camera's pixels do not reach it; a present one's do", async () => {
    const base = (await lossesOf(policy, batch)).reconLoss!;
    const edited = async (v: number, b: number) => {
      const host = await batch.images[v].current.toArray();
      const copy = Float32Array.from(host);
      for (let i = b * 3 * S * S; i < (b + 1) * 3 * S * S; i++) copy[i] = -copy[i];
      const current = tensor(copy, [B, 3, S, S]);
      const images = batch.images.map((view, i) => (i === v ? { ...view, current } : view));
      const r = (await lossesOf(policy, { ...batch, images })).reconLoss!;
      current.dispose();
      return r;
    };
    expect(await edited(0, 1)).toBeCloseTo(base, 6); // sample 1's first camera is missing
    expect(Math.abs((await edited(1, 1)) - base)).toBeGreaterThan(1e-3);
  });

  it('without it: no head, no term, and every other weight drawn as with it', async () => {
    const plain = makePolicy(tinyConfig(sizes));
    expect(plain.und_recon_proj).toBeNull();
    expect((await lossesOf(plain, batch)).reconLoss).toBeNull();
    const a = policy.stateDict();
    for (const [name, t] of Object.entries(plain.stateDict()))
      expect(Array.from(await t.toArray()), name).toEqual(Array.from(await a[name].toArray()));
    expect(Object.keys(a).filter((k) => !(k in plain.stateDict()))).toEqual([
      'und_recon_proj.weight',
      'und_recon_proj.bias',
    ]);
  });

  it('a configuration it cannot serve is refused, naming the field', () => {
    const bad = (c: object, re: RegExp) => {
      expect(() => validatePolicyConfig({ ...config, ...c })).toThrow(PolicyConfigError);
      expect(() => validatePolicyConfig({ ...config, ...c })).toThrow(re);
    };
    bad({ imageReconWeight: -1 }, /imageReconWeight must be a finite number >= 0/);
    bad({ visionSize: [32, 32] }, /imageReconWeight needs the vision tower to see imageSize² frames/);
  });
});
