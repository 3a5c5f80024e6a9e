// nn layers: state-dict names and shapes, save/load round trips, strict loading errors, default
// initialisation statistics, and each layer's forward against a float64 host reference.
import { describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import {
  Conv2d,
  ConvTranspose2d,
  Embedding,
  GroupNorm,
  LayerNorm,
  Linear,
  loadSafetensors,
  manualSeed,
  meta,
  Module,
  ModuleList,
  relu,
  RMSNorm,
  saveSafetensors,
  Sequential,
  SwiGLU,
  Tensor,
  tidy,
} from '../src/index.js';
import { refConv2d, refConvTranspose2d, refGroupNorm, refLinear, refRowNorm } from './nnReference.js';
import { eng } from './setup.js';
import { expectClose, randomArray, randomInts } from './util.js';

class Attention extends Module {
  readonly qProj = this.module('q_proj', new Linear(8, 8));
  readonly oProj = this.module('o_proj', new Linear(8, 8, { bias: false }));
}

class DecoderLayer extends Module {
  readonly selfAttn = this.module('self_attn', new Attention());
  readonly mlp = this.module('mlp', new SwiGLU(8, 12));
  readonly inputLayernorm = this.module('input_layernorm', new RMSNorm(8));
}

class TinyDecoder extends Module {
  readonly embedTokens = this.module('embed_tokens', new Embedding(11, 8));
  readonly layers = this.module('layers', new ModuleList([new DecoderLayer(), new DecoderLayer()]));
  readonly norm = this.module('norm', new LayerNorm(8));
}

const EXPECTED_KEYS: [string, number[]][] = [
  ['embed_tokens.weight', [11, 8]],
  ...[0, 1].flatMap((i): [string, number[]][] => [
    [`layers.${i}.self_attn.q_proj.weight`, [8, 8]],
    [`layers.${i}.self_attn.q_proj.bias`, [8]],
    [`layers.${i}.self_attn.o_proj.weight`, [8, 8]],
    [`layers.${i}.mlp.gate_proj.weight`, [12, 8]],
    [`layers.${i}.mlp.up_proj.weight`, [12, 8]],
    [`layers.${i}.mlp.down_proj.weight`, [8, 12]],
    [`layers.${i}.input_layernorm.weight`, [8]],
  ]),
  ['norm.weight', [8]],
  ['norm.bias', [8]],
];

async function values(t: Tensor): Promise<number[]> {
  return Array.from(await t.toArray());
}

describe('Module state dicts', () => {
  it('names parameters like PyTorch/Hugging Face and gives tensors their full names', () => {
    const start = eng.poolStats().inUseBytes;
    const model = new TinyDecoder();
    const sd = model.stateDict();
    expect(Object.entries(sd).map(([k, t]) => [k, [...t.shape]])).toEqual(EXPECTED_KEYS);
    for (const [k, t] of Object.entries(sd)) expect(t.name).toBe(k);
    expect(model.parameters().length).toBe(EXPECTED_KEYS.length);
    expect(model.numParameters()).toBe(
      EXPECTED_KEYS.reduce((a, [, s]) => a + s.reduce((x, y) => x * y, 1), 0),
    );
    expect(model.parameters().every((p) => p.requiresGrad)).toBe(true);
    model.dispose();
    expect(eng.poolStats().inUseBytes).toBe(start);
  });

  it('builds inside meta() without allocating and counts the same parameters', () => {
    const start = eng.poolStats().inUseBytes;
    const m = meta(() => new TinyDecoder());
    expect(m.numParameters()).toBe(EXPECTED_KEYS.reduce((a, [, s]) => a + s.reduce((x, y) => x * y, 1), 0));
    expect(m.namedSpecs().map(([k]) => k)).toEqual(EXPECTED_KEYS.map(([k]) => k));
    expect(eng.poolStats().inUseBytes).toBe(start);
  });

  it('round-trips through safetensors into a differently initialised model', async () => {
    manualSeed(1);
    const a = new TinyDecoder();
    manualSeed(2);
    const b = new TinyDecoder();
    const wa = await values(a.layers.at(1).mlp.downProj.weight);
    expect(await values(b.layers.at(1).mlp.downProj.weight)).not.toEqual(wa);
    const bytes = await saveSafetensors(undefined, a.stateDict());
    const loaded = await loadSafetensors(bytes);
    const refs = new Map([...Object.values(b.stateDict())].map((t) => [t.name, t]));
    await b.loadStateDict(loaded);
    // In place: the layer's fields still point at the same tensors.
    for (const t of Object.values(b.stateDict())) expect(refs.get(t.name)).toBe(t);
    for (const [k, t] of Object.entries(a.stateDict()))
      expect(await values(b.stateDict()[k]), k).toEqual(await values(t));
    const ids = Tensor.fromData(Int32Array.of(3, 1, 10, 0), [2, 2], 'i32');
    const run = (m: TinyDecoder) =>
      tidy(() => m.norm.forward(m.layers.at(0).mlp.forward(m.embedTokens.forward(ids))));
    const ya = run(a);
    const yb = run(b);
    expect(await values(yb)).toEqual(await values(ya));
    for (const t of [ids, ya, yb, ...loaded.values()]) t.dispose();
    a.dispose();
    b.dispose();
  });

  it('rejects missing, unexpected and mis-shaped keys with one clear error, copying nothing', async () => {
    const model = new TinyDecoder();
    const before = await values(model.norm.weight!);
    const sd = new Map(
      Object.entries(model.stateDict()).map(([k, t]) => [
        k,
        Tensor.fromData(new Float32Array(t.size).fill(7), t.shape),
      ]),
    );
    sd.get('norm.weight')!.dispose();
    sd.delete('norm.weight');
    sd.set('lm_head.weight', Tensor.fromData([1], [1]));
    const badShape = sd.get('layers.1.mlp.up_proj.weight')!;
    sd.set('layers.1.mlp.up_proj.weight', Tensor.fromData(new Float32Array(96), [8, 12]));
    badShape.dispose();
    await expect(model.loadStateDict(sd)).rejects.toThrow(
      /missing keys: norm\.weight; unexpected keys: lm_head\.weight; layers\.1\.mlp\.up_proj\.weight has shape \[8,12\] in the state dict but \[12,8\] in the module/,
    );
    expect(await values(model.norm.bias!)).not.toContain(7);
    // Non-strict: missing/unexpected tolerated, the mismatch still throws.
    await expect(model.loadStateDict(sd, { strict: false })).rejects.toThrow(
      /up_proj\.weight has shape \[8,12\]/,
    );
    sd.get('layers.1.mlp.up_proj.weight')!.dispose();
    sd.set('layers.1.mlp.up_proj.weight', Tensor.fromData(new Float32Array(96).fill(7), [12, 8]));
    await model.loadStateDict(sd, { strict: false });
    expect(await values(model.norm.weight!)).toEqual(before);
    expect(new Set(await values(model.norm.bias!))).toEqual(new Set([7]));
    const ints = new Map([['norm.bias', Tensor.fromData(new Int32Array(8), [8], 'i32')]]);
    await expect(model.loadStateDict(ints, { strict: false })).rejects.toThrow(
      /norm\.bias has dtype i32 in the state dict but f32 in the module/,
    );
    for (const t of [...sd.values(), ...ints.values()]) t.dispose();
    model.dispose();
  });

  it('train()/eval() reach every descendant', () => {
    const model = new TinyDecoder();
    model.eval();
    expect(model.layers.at(1).selfAttn.qProj.training).toBe(false);
    model.train();
    expect(model.layers.at(0).mlp.gateProj.training).toBe(true);
    model.dispose();
  });

  it('toDtype(f16) converts parameters and re-points layer fields', async () => {
    const lin = new Linear(5, 3);
    const w = await values(lin.weight);
    lin.toDtype('f16');
    expect(lin.weight.dtype).toBe('f16');
    expect(lin.stateDict().weight).toBe(lin.weight);
    expectClose(await values(lin.weight), w, { atol: 1e-3, rtol: 1e-3 });
    lin.dispose();
  });

  it.skipIf(eng.hasF16)('an all-f16 layer explains that the device lacks shader-f16', () => {
    const lin = new Linear(5, 3).toDtype('f16');
    const x = T.cast(T.tensor(randomArray(10, 7), [2, 5]), 'f16');
    expect(() => lin.forward(x)).toThrow(
      /linear \[2,5\]x\[3,5\]ᵀ: f16 arithmetic needs the shader-f16 feature/,
    );
    expect(() => lin.toDtype('i32')).toThrow(/i32 is not a float dtype/);
    x.dispose();
    lin.dispose();
  });

  it('Sequential names layers by position', async () => {
    const seq = new Sequential(new Linear(4, 6), relu, new Linear(6, 2));
    expect(Object.keys(seq.stateDict())).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    const x = randomArray(8, 3);
    const y = tidy(() => seq.forward(Tensor.fromData(x, [2, 4])));
    const sd = seq.stateDict();
    const h = refLinear(x, await sd['0.weight'].toArray(), await sd['0.bias'].toArray(), 2, 4, 6).map((v) =>
      Math.max(v, 0),
    );
    expectClose(
      await y.toArray(),
      refLinear(h, await sd['2.weight'].toArray(), await sd['2.bias'].toArray(), 2, 6, 2),
      { atol: 1e-5 },
    );
    y.dispose();
    seq.dispose();
  });
});

describe('default initialisation', () => {
  it('Linear: weight and bias ~ U(±1/√in), deterministic per seed, different streams', async () => {
    manualSeed(42);
    const a = new Linear(256, 64);
    manualSeed(42);
    const b = new Linear(256, 64);
    const w = await values(a.weight);
    const bias = await values(a.bias!);
    expect(await values(b.weight)).toEqual(w);
    const bound = 1 / 16;
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(bound * 0.99);
    const mean = w.reduce((s, v) => s + v, 0) / w.length;
    const variance = w.reduce((s, v) => s + (v - mean) ** 2, 0) / w.length;
    expect(Math.abs(mean)).toBeLessThan(0.002);
    expect(variance / (bound ** 2 / 3)).toBeGreaterThan(0.95);
    expect(variance / (bound ** 2 / 3)).toBeLessThan(1.05);
    expect(Math.max(...bias.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(bias.slice(0, 8)).not.toEqual(w.slice(0, 8));
    const c = new Linear(256, 64, { seed: 7 });
    const d = new Linear(256, 64, { seed: 7 });
    expect(await values(c.weight)).toEqual(await values(d.weight));
    expect(await values(c.weight)).not.toEqual(w);
    for (const m of [a, b, c, d]) m.dispose();
  });

  it('Linear with initStd: weight ~ N(0, initStd²), zero bias (HF _init_weights); SwiGLU passes it on', async () => {
    const l = new Linear(96, 200, { initStd: 0.02, seed: 5 });
    const w = await values(l.weight);
    const mean = w.reduce((s, x) => s + x, 0) / w.length;
    const std = Math.sqrt(w.reduce((s, x) => s + (x - mean) ** 2, 0) / w.length);
    expect(Math.abs(mean)).toBeLessThan(0.002);
    expect(Math.abs(std / 0.02 - 1)).toBeLessThan(0.05);
    // A normal, not a uniform: values beyond the uniform's bound √3·std occur.
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(Math.sqrt(3) * 0.02 * 1.2);
    expect(await values(l.bias!)).toEqual(new Array(200).fill(0));
    const mlp = new SwiGLU(64, 128, { initStd: 0.5, seed: 2 });
    const g = await values(mlp.gateProj.weight);
    const gStd = Math.sqrt(g.reduce((s, x) => s + x * x, 0) / g.length);
    expect(Math.abs(gStd / 0.5 - 1)).toBeLessThan(0.05);
    expect(() => new Linear(4, 4, { initStd: -1 })).toThrow(/initStd must be/);
    for (const m of [l, mlp]) m.dispose();
  });

  it('Embedding ~ N(0, 1); norms start at ones/zeros; conv fan-in follows PyTorch', async () => {
    const e = new Embedding(100, 64, { seed: 3 });
    const v = await values(e.weight);
    const mean = v.reduce((s, x) => s + x, 0) / v.length;
    const std = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length);
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(Math.abs(std - 1)).toBeLessThan(0.05);
    const ln = new LayerNorm(5);
    const rms = new RMSNorm(5);
    const gn = new GroupNorm(2, 6);
    expect(await values(ln.weight!)).toEqual([1, 1, 1, 1, 1]);
    expect(await values(ln.bias!)).toEqual([0, 0, 0, 0, 0]);
    expect(await values(rms.weight)).toEqual([1, 1, 1, 1, 1]);
    expect(await values(gn.bias!)).toEqual([0, 0, 0, 0, 0, 0]);
    // Conv2d fan_in = in/groups·kh·kw = 4/2·3·3 = 18; ConvTranspose2d uses dim 1: out/groups·kh·kw = 6/2·2·2 = 12.
    const conv = new Conv2d(4, 6, 3, { groups: 2, seed: 1 });
    const convT = new ConvTranspose2d(4, 6, 2, { groups: 2, seed: 1 });
    expect(conv.weight.shape).toEqual([6, 2, 3, 3]);
    expect(convT.weight.shape).toEqual([4, 3, 2, 2]);
    const cw = await values(conv.weight);
    const tw = await values(convT.weight);
    expect(Math.max(...cw.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(18));
    expect(Math.max(...cw.map(Math.abs))).toBeGreaterThan(0.8 / Math.sqrt(18));
    expect(Math.max(...tw.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(12));
    expect(Math.max(...tw.map(Math.abs))).toBeGreaterThan(1 / Math.sqrt(18));
    expect(() => new GroupNorm(4, 6)).toThrow(/6 channels cannot be split into 4 groups/);
    expect(() => new Conv2d(4, 6, 3, { groups: 4 })).toThrow(/divisible by groups 4/);
    for (const m of [e, ln, rms, gn, conv, convT]) m.dispose();
  });
});

describe('layers against float64 references', () => {
  it('Linear on a batched input, with and without bias', async () => {
    for (const bias of [true, false]) {
      const lin = new Linear(7, 5, { bias, seed: 11 });
      const x = randomArray(2 * 3 * 7, 12);
      const y = tidy(() => lin.forward(Tensor.fromData(x, [2, 3, 7])));
      expect(y.shape).toEqual([2, 3, 5]);
      const ref = refLinear(x, await lin.weight.toArray(), bias ? await lin.bias!.toArray() : null, 6, 7, 5);
      expectClose(await y.toArray(), ref, { atol: 1e-5, what: `Linear bias=${bias}` });
      y.dispose();
      lin.dispose();
    }
  });

  it('Embedding gathers rows', async () => {
    const emb = new Embedding(9, 4, { seed: 5 });
    const ids = randomInts(6, 1, 0, 9);
    const y = tidy(() => emb.forward(Tensor.fromData(ids, [3, 2], 'i32')));
    const w = await emb.weight.toArray();
    expect(y.shape).toEqual([3, 2, 4]);
    expect(Array.from(await y.toArray())).toEqual(
      Array.from(ids).flatMap((i) => Array.from(w.slice(i * 4, i * 4 + 4))),
    );
    y.dispose();
    emb.dispose();
  });

  it('LayerNorm, RMSNorm and GroupNorm', async () => {
    const x = randomArray(3 * 6 * 5, 21, -2, 3);
    const ln = new LayerNorm(5, { eps: 1e-5 });
    const rms = new RMSNorm(5, { eps: 1e-6 });
    const gn = new GroupNorm(3, 6);
    // Non-trivial affine parameters.
    await ln.loadStateDict({
      weight: Tensor.fromData(randomArray(5, 1), [5]),
      bias: Tensor.fromData(randomArray(5, 2), [5]),
    });
    await rms.loadStateDict({ weight: Tensor.fromData(randomArray(5, 3), [5]) });
    const gw = randomArray(6, 4);
    const gb = randomArray(6, 5);
    await gn.loadStateDict({ weight: Tensor.fromData(gw, [6]), bias: Tensor.fromData(gb, [6]) });
    const [yl, yr, yg] = tidy(() => {
      const t = Tensor.fromData(x, [3, 6, 5]);
      return [ln.forward(t), rms.forward(t), gn.forward(Tensor.fromData(x, [3, 6, 5, 1]))];
    });
    expectClose(
      await yl.toArray(),
      refRowNorm(x, 5, 'layer', 1e-5, await ln.weight!.toArray(), await ln.bias!.toArray()),
      { atol: 2e-5, what: 'LayerNorm' },
    );
    expectClose(await yr.toArray(), refRowNorm(x, 5, 'rms', 1e-6, await rms.weight.toArray()), {
      atol: 2e-5,
      what: 'RMSNorm',
    });
    expectClose(await yg.toArray(), refGroupNorm(x, 3, 6, 5, 3, 1e-5, gw, gb), {
      atol: 2e-5,
      what: 'GroupNorm',
    });
    for (const t of [yl, yr, yg]) t.dispose();
    for (const m of [ln, rms, gn]) m.dispose();
  });

  it('Conv2d with stride, padding, dilation and groups', async () => {
    const conv = new Conv2d(4, 6, [3, 2], {
      stride: [2, 1],
      padding: [1, 2],
      dilation: [1, 2],
      groups: 2,
      seed: 9,
    });
    const x = randomArray(2 * 4 * 7 * 6, 8);
    const y = tidy(() => conv.forward(Tensor.fromData(x, [2, 4, 7, 6])));
    const ref = refConv2d(
      x,
      [2, 4, 7, 6],
      await conv.weight.toArray(),
      [6, 2, 3, 2],
      await conv.bias!.toArray(),
      {
        stride: [2, 1],
        padding: [1, 2],
        dilation: [1, 2],
        groups: 2,
      },
    );
    expect(y.shape).toEqual(ref.shape);
    expectClose(await y.toArray(), ref.data, { atol: 1e-5, what: 'Conv2d' });
    y.dispose();
    conv.dispose();
  });

  it('ConvTranspose2d with stride, padding, output padding and groups', async () => {
    const convT = new ConvTranspose2d(4, 6, 3, {
      stride: 2,
      padding: 1,
      outputPadding: 1,
      groups: 2,
      seed: 10,
    });
    const x = randomArray(1 * 4 * 5 * 3, 13);
    const y = tidy(() => convT.forward(Tensor.fromData(x, [1, 4, 5, 3])));
    const ref = refConvTranspose2d(
      x,
      [1, 4, 5, 3],
      await convT.weight.toArray(),
      [4, 3, 3, 3],
      await convT.bias!.toArray(),
      {
        stride: [2, 2],
        padding: [1, 1],
        outputPadding: [1, 1],
        groups: 2,
      },
    );
    expect(y.shape).toEqual(ref.shape);
    expectClose(await y.toArray(), ref.data, { atol: 1e-5, what: 'ConvTranspose2d' });
    y.dispose();
    convT.dispose();
  });

  it('SwiGLU = down(silu(gate x) * up x), and its GeGLU variant', async () => {
    for (const activation of ['silu', 'gelu_tanh'] as const) {
      const mlp = new SwiGLU(6, 10, { activation, seed: 4 });
      const x = randomArray(3 * 6, 14);
      const y = tidy(() => mlp.forward(Tensor.fromData(x, [3, 6])));
      const g = refLinear(x, await mlp.gateProj.weight.toArray(), null, 3, 6, 10);
      const u = refLinear(x, await mlp.upProj.weight.toArray(), null, 3, 6, 10);
      const act = (v: number) =>
        activation === 'silu'
          ? v / (1 + Math.exp(-v))
          : 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
      const h = g.map((v, i) => act(v) * u[i]);
      expectClose(await y.toArray(), refLinear(h, await mlp.downProj.weight.toArray(), null, 3, 10, 6), {
        atol: 1e-5,
        what: `SwiGLU ${activation}`,
      });
      expect(Object.keys(mlp.stateDict())).toEqual([
        'gate_proj.weight',
        'up_proj.weight',
        'down_proj.weight',
      ]);
      y.dispose();
      mlp.dispose();
    }
  });
});
