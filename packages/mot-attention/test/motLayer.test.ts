import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, shutdown, tensor, tidy, type Tensor } from '@vla/tensor-webgpu';
import { MASK_VALUE, MoTLayer, segmentMask, segmentMaskTensor, type ExpertConfig } from '../src/index.js';
import { normals } from './random.js';
import { motLayerRef, type RefExpert } from './reference.js';
import {
  EXPERTS,
  HEAD,
  THETA,
  maxDiffValid,
  randomize,
  refExpert,
  ropeTables,
  smallLayout,
  type MropeIds,
} from './setup.js';

beforeAll(async () => {
  await init();
});
afterAll(() => shutdown());

async function compareWithReference(experts: ExpertConfig[], present: boolean[], seed: number) {
  const { layout, valid, ids } = smallLayout();
  // Drop the tokens of absent experts from the layout (the ablation without a generation expert).
  const seg = [layout.prefix, layout.generation, layout.suffix];
  const keep: number[] = [];
  seg.forEach((r, e) => {
    if (present[e]) for (let i = r.start; i < r.end; i++) keep.push(i);
  });
  const pick = <T extends ArrayLike<number>>(xs: T) => keep.map((i) => xs[i]);
  const validK = valid.map((v) => pick(v));
  const idsK: MropeIds[] = ids.map((p) => [
    Int32Array.from(pick(p[0])),
    Int32Array.from(pick(p[1])),
    Int32Array.from(pick(p[2])),
  ]);
  const mask = segmentMask({ ar: pick(layout.ar), valid: validK });
  const B = 2;
  const S = keep.length;

  const layer = new MoTLayer(experts);
  await randomize(layer, seed);
  const sd = layer.stateDict();
  const refs: RefExpert[] = await Promise.all(experts.map((e) => refExpert(sd, `${e.name}.`, e)));
  const lens = seg.map((r) => r.end - r.start);
  const inputs = experts.map((e, i) => (present[i] ? normals(B * lens[i] * e.width, seed + 100 + i) : null));

  const out = tidy(() => {
    const hidden = inputs.map((x, i) => (x ? tensor(x, [B, lens[i], experts[i].width]) : null));
    const rope = ropeTables(idsK, HEAD.headDim, THETA);
    return layer.forward(hidden, { mask: segmentMaskTensor(mask), rope }).hidden;
  });
  expect(out.map((o) => o !== null)).toEqual(present);

  let offset = 0;
  for (let i = 0; i < experts.length; i++) {
    if (!present[i]) continue;
    const got = await (out[i] as Tensor).toArray();
    const want = new Float64Array(B * lens[i] * experts[i].width);
    for (let b = 0; b < B; b++) {
      const xs = inputs.map((x, e) =>
        x
          ? Float64Array.from(
              x.subarray(b * lens[e] * experts[e].width, (b + 1) * lens[e] * experts[e].width),
            )
          : null,
      );
      const allowed = mask.allowed.subarray(b * S * S, (b + 1) * S * S);
      const ref = motLayerRef({ ...HEAD, theta: THETA, maskValue: MASK_VALUE }, refs, xs, idsK[b], allowed);
      want.set(ref[i]!, b * lens[i] * experts[i].width);
    }
    // Padding rows attend to nothing; their (finite, meaningless) values are not compared.
    expect(
      maxDiffValid(got, want, B, lens[i], experts[i].width, validK, offset),
      `expert ${experts[i].name}`,
    ).toBeLessThan(1e-4);
    offset += lens[i];
  }
  out.forEach((o) => o?.dispose());
  layer.dispose();
}

describe('MoTLayer', () => {
  it('matches a float64 reference of the whole layer (3 experts, GQA, M-RoPE, padding)', async () => {
    await compareWithReference(EXPERTS, [true, true, true], 10);
  });

  it('matches the reference without the generation expert (ablation)', async () => {
    await compareWithReference(EXPERTS, [true, false, true], 20);
  });

  it('gives finite padding rows, and the same result with a bool mask', async () => {
    const layer = new MoTLayer([EXPERTS[2]]);
    const [additive, bool] = tidy(() => {
      const x = tensor(normals(2 * 3 * 40, 5), [1, 6, 40]);
      // Token 2 is padding: its query row has no valid key.
      const input = { ar: [0, 0, 0, 1, 0, 0], valid: [[1, 1, 0, 1, 1, 1]] };
      const pos = Int32Array.from([0, 1, 1, 2, 3, 4]);
      const rope = ropeTables([[pos, pos, pos]] as MropeIds[], 16, THETA);
      return [
        layer.forward([x], { mask: segmentMaskTensor(input), rope }).hidden[0]!,
        layer.forward([x], { mask: segmentMaskTensor(input, { kind: 'bool' }), rope }).hidden[0]!,
      ];
    });
    const a = await additive.toArray();
    expect(Array.from(a).every(Number.isFinite)).toBe(true);
    const b = await bool.toArray();
    expect(Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])))).toBeLessThan(1e-6);
    additive.dispose();
    bool.dispose();
    layer.dispose();
  });

  it('checks configs and shapes', () => {
    expect(() => new MoTLayer([EXPERTS[0], { ...EXPERTS[1], kvHeads: 1 }])).toThrow(
      /experts share kvHeads, but "gen" has 1 and "und" has 2/,
    );
    expect(() => new MoTLayer([{ ...EXPERTS[0], qHeads: 3 }])).toThrow(
      /qHeads 3 is not a multiple of kvHeads 2/,
    );
    expect(() => new MoTLayer([EXPERTS[0], EXPERTS[0]])).toThrow(/name "und" is used twice/);
    const layer = new MoTLayer([EXPERTS[2]]);
    tidy(() => {
      const x = tensor(new Float32Array(3 * 40), [1, 3, 40]);
      const ids = Int32Array.from([0, 1, 2]);
      const rope = ropeTables([[ids, ids, ids]] as MropeIds[], 16, THETA);
      expect(() => layer.forward([x], { mask: segmentMaskTensor({ ar: [0, 0] }), rope })).toThrow(
        /mask \[1, 1, 2, 2\] does not fit 3 queries x 3 keys/,
      );
      expect(() =>
        layer.forward([tensor(new Float32Array(3 * 8), [1, 3, 8])], {
          mask: segmentMaskTensor({ ar: [0, 0, 0] }),
          rope,
        }),
      ).toThrow(/must be \[B, S, 40\], got \[1, 3, 8\]/);
      expect(() => layer.forward([null], { mask: segmentMaskTensor({ ar: [0] }), rope })).toThrow(
        /every expert input is null/,
      );
    });
    layer.dispose();
  });
});
