// CPU engine specifics of the attention and rotary kernels (csrc/attention.c, csrc/rope.c): the
// same bits on 1 and 3 threads, odd head dims, strided and offset operands read in place, every mask
// kind, the cached prefix, the backward stages against a float64 reference, and the (M-)RoPE tables.
// Inputs are fresh random data on every run (the seed is in the failure message).
import { describe, expect, it } from 'vitest';
import { CpuEngine } from '../src/cpu/cpuEngine.js';
import {
  launchAttention,
  type AttentionLaunch,
  type AttentionStage,
  type AttnMask,
  type AttnOperand,
} from '../src/kernels/attention.js';
import { launchRotary, type RotaryLayout } from '../src/kernels/rope.js';
import * as T from '../src/index.js';
import { Tensor } from '../src/index.js';
import * as R from './reference/attention.js';
import { nd } from './reference/ndarray.js';
import * as RR from './reference/rope.js';
import { expectClose, randomArray, randomInts } from './util.js';
import { cpuEngines, runSeed } from './cpuEngines.js';

const { rand, fresh, what } = runSeed();

let e1: CpuEngine;
let e3: CpuEngine;
cpuEngines((one, three) => ((e1 = one), (e3 = three)));

/** A [B, H, S, D] array placed in a larger store by `layout`, as an operand description. */
interface Placed {
  store: Float32Array;
  offset: number;
  strides: [number, number, number];
}

/**
 * Lays `data` [B, H, S, D] out in a store: `dense`, `bshd` ([B, S, H, D] storage viewed as
 * [B, H, S, D]), or `padded` (an offset, rows of D + 3 and a gap after every head). Other store
 * entries hold large garbage that would show in any sum.
 */
function place(data: Float32Array, [B, H, S, D]: number[], layout: 'dense' | 'bshd' | 'padded'): Placed {
  let offset = 0;
  let strides: [number, number, number];
  let size: number;
  if (layout === 'dense') {
    strides = [H * S * D, S * D, D];
    size = B * H * S * D;
  } else if (layout === 'bshd') {
    strides = [S * H * D, D, H * D];
    size = B * H * S * D;
  } else {
    offset = 5;
    const row = D + 3;
    const head = S * row + 7;
    strides = [H * head + 2, head, row];
    size = offset + B * strides[0];
  }
  const store = randomArray(Math.max(size, 1), fresh(), 900, 1000);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let s = 0; s < S; s++)
        for (let d = 0; d < D; d++)
          store[offset + b * strides[0] + h * strides[1] + s * strides[2] + d] =
            data[((b * H + h) * S + s) * D + d];
  return { store, offset, strides };
}

/** Uploads a placed operand to an engine. */
function operand(e: CpuEngine, p: Placed, keep: Tensor[]): AttnOperand {
  const t = Tensor.fromData(p.store, [p.store.length], 'f32', e);
  keep.push(t);
  return { buffer: t.buffer, offset: p.offset, strides: p.strides };
}

interface Problem {
  B: number;
  Hq: number;
  Hkv: number;
  Sq: number;
  Sk: number;
  D: number;
  scale: number;
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  dO: Float32Array;
  /** [B, Sq, Sk] additive (f32, −inf / −1e30 masked) or bool (u32) mask, broadcast over heads. */
  mask?: { kind: 'add-f32' | 'bool'; data: Float32Array | Uint32Array };
}

function problem(
  B: number,
  Hq: number,
  Hkv: number,
  Sq: number,
  Sk: number,
  D: number,
  mask?: 'add-f32' | 'bool',
) {
  const p: Problem = {
    B,
    Hq,
    Hkv,
    Sq,
    Sk,
    D,
    scale: 0.2 + rand() * 0.3,
    q: randomArray(B * Hq * Sq * D, fresh(), -2, 2),
    k: randomArray(B * Hkv * Sk * D, fresh(), -2, 2),
    v: randomArray(B * Hkv * Sk * D, fresh()),
    dO: randomArray(B * Hq * Sq * D, fresh()),
  };
  if (mask === 'bool') {
    p.mask = { kind: 'bool', data: new Uint32Array(B * Sq * Sk).map(() => (rand() < 0.3 ? 0 : 1)) };
    p.mask.data.fill(0, Sk, 2 * Sk); // query row 1 sees nothing
  } else if (mask === 'add-f32') {
    const data = new Float32Array(B * Sq * Sk).map(() => {
      const r = rand();
      return r < 0.1 ? -Infinity : r < 0.2 ? -1e30 : r < 0.25 ? -3.4e38 : rand() - 0.5;
    });
    data.fill(-Infinity, 2 * Sk, 3 * Sk); // query row 2 sees nothing
    p.mask = { kind: 'add-f32', data };
  }
  return p;
}

const masked = (p: Problem) => (b: number, _h: number, i: number, j: number) => {
  if (!p.mask) return false;
  const m = p.mask.data[(b * p.Sq + i) * p.Sk + j];
  return p.mask.kind === 'bool' ? m === 0 : m <= -1e30;
};
const bias = (p: Problem) => (b: number, _h: number, i: number, j: number) =>
  p.mask?.kind === 'add-f32' ? p.mask.data[(b * p.Sq + i) * p.Sk + j] : 0;

/** Float64 gradients of Σ dO·attention(q, k, v): dQ, dK, dV (dK/dV summed over each GQA group). */
function referenceGrads(p: Problem) {
  const { B, Hq, Hkv, Sq, Sk, D, scale } = p;
  const G = Hq / Hkv;
  const gq = new Float64Array(p.q.length);
  const gk = new Float64Array(p.k.length);
  const gv = new Float64Array(p.v.length);
  const isMasked = masked(p);
  const add = bias(p);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < Hq; h++) {
      const hk = Math.floor(h / G);
      const qi = (i: number, d: number) => ((b * Hq + h) * Sq + i) * D + d;
      const kj = (j: number, d: number) => ((b * Hkv + hk) * Sk + j) * D + d;
      for (let i = 0; i < Sq; i++) {
        const s = new Float64Array(Sk).fill(-Infinity);
        for (let j = 0; j < Sk; j++) {
          if (isMasked(b, h, i, j)) continue;
          let acc = 0;
          for (let d = 0; d < D; d++) acc += p.q[qi(i, d)] * p.k[kj(j, d)];
          s[j] = acc * scale + add(b, h, i, j);
        }
        const m = Math.max(...s);
        if (m === -Infinity) continue;
        const e = s.map((x) => Math.exp(x - m));
        const z = e.reduce((a, c) => a + c, 0);
        const P = e.map((x) => x / z);
        const dP = new Float64Array(Sk);
        for (let j = 0; j < Sk; j++) for (let d = 0; d < D; d++) dP[j] += p.dO[qi(i, d)] * p.v[kj(j, d)];
        const delta = P.reduce((a, pj, j) => a + pj * dP[j], 0);
        for (let j = 0; j < Sk; j++) {
          const dS = P[j] * (dP[j] - delta);
          for (let d = 0; d < D; d++) {
            gv[kj(j, d)] += P[j] * p.dO[qi(i, d)];
            gq[qi(i, d)] += scale * dS * p.k[kj(j, d)];
            gk[kj(j, d)] += scale * dS * p.q[qi(i, d)];
          }
        }
      }
    }
  return { gq, gk, gv };
}

/**
 * Runs every attention stage of `p` on `e` with q/k/v/dO placed by `layout`: the forward (O, LSE),
 * then dK/dV and dQ with Δ = rowsum(dO·O) from the forward's own output. Returns host copies.
 */
async function runStages(e: CpuEngine, p: Problem, layout: 'dense' | 'bshd' | 'padded') {
  const keep: Tensor[] = [];
  const { B, Hq, Hkv, Sq, Sk, D } = p;
  const q = operand(e, place(p.q, [B, Hq, Sq, D], layout), keep);
  const k = operand(e, place(p.k, [B, Hkv, Sk, D], layout), keep);
  const v = operand(e, place(p.v, [B, Hkv, Sk, D], layout === 'padded' ? 'bshd' : 'padded'), keep);
  const dout = operand(e, place(p.dO, [B, Hq, Sq, D], layout), keep);
  let mask: (AttnMask & { kind: 'add-f32' | 'bool' }) | undefined;
  if (p.mask) {
    // Stored after a few unused entries, broadcast over heads (stride 0).
    const data =
      p.mask.kind === 'bool'
        ? new Uint32Array(3 + p.mask.data.length)
        : new Float32Array(3 + p.mask.data.length);
    data.set(p.mask.data, 3);
    const t = Tensor.fromData(data, [data.length], p.mask.kind === 'bool' ? 'bool' : 'f32', e);
    keep.push(t);
    mask = { kind: p.mask.kind, buffer: t.buffer, offset: 3, strides: [Sq * Sk, 0, Sk, 1] };
  }
  const o = Tensor.empty([B, Hq, Sq, D], 'f32', e);
  const lse = Tensor.empty([B, Hq, Sq], 'f32', e);
  const shape = { batch: B, hq: Hq, hkv: Hkv, sq: Sq, sk: Sk, d: D, scale: p.scale };
  const base = { dtype: 'f32' as const, shape, q, k, v, mask, lse: lse.buffer, label: 'attention test' };
  launchAttention(e, { ...base, stage: 'fwd', outputs: [o.buffer] });
  const out = (await o.toArray()) as Float32Array;
  const deltaHost = new Float32Array(B * Hq * Sq);
  for (let r = 0; r < deltaHost.length; r++) {
    let acc = 0;
    for (let d = 0; d < D; d++) acc += out[r * D + d] * p.dO[r * D + d];
    deltaHost[r] = acc;
  }
  const delta = Tensor.fromData(deltaHost, [B, Hq, Sq], 'f32', e);
  const gq = Tensor.empty([B, Hq, Sq, D], 'f32', e);
  const gk = Tensor.empty([B, Hkv, Sk, D], 'f32', e);
  const gv = Tensor.empty([B, Hkv, Sk, D], 'f32', e);
  const bwd = { ...base, dout, delta: delta.buffer };
  launchAttention(e, { ...bwd, stage: 'dkdv', outputs: [gk.buffer, gv.buffer] });
  launchAttention(e, { ...bwd, stage: 'dq', outputs: [gq.buffer] });
  const result = {
    out,
    lse: (await lse.toArray()) as Float32Array,
    gq: (await gq.toArray()) as Float32Array,
    gk: (await gk.toArray()) as Float32Array,
    gv: (await gv.toArray()) as Float32Array,
  };
  for (const t of [...keep, o, lse, delta, gq, gk, gv]) t.dispose();
  return result;
}

const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

describe('CPU attention kernels', () => {
  it.each([
    // B, Hq, Hkv, Sq, Sk, D, mask, layout
    [2, 6, 2, 45, 77, 37, 'add-f32', 'padded'],
    [1, 4, 1, 70, 130, 64, 'bool', 'bshd'],
    [2, 2, 2, 17, 9, 5, undefined, 'dense'],
    [1, 8, 2, 1, 301, 128, 'add-f32', 'bshd'],
  ] as const)(
    'B=%i Hq=%i Hkv=%i Sq=%i Sk=%i D=%i mask %s, %s operands: all stages equal the reference, same bits on 1 and 3 threads',
    async (B, Hq, Hkv, Sq, Sk, D, maskKind, layout) => {
      const p = problem(B, Hq, Hkv, Sq, Sk, D, maskKind);
      const [a, b] = [await runStages(e1, p, layout), await runStages(e3, p, layout)];
      for (const key of ['out', 'lse', 'gq', 'gk', 'gv'] as const)
        expect(bits(b[key]), what(`${key}: 3 threads vs 1`)).toEqual(bits(a[key]));
      const ref = R.attention(
        nd(p.q, [B, Hq, Sq, D]),
        nd(p.k, [B, Hkv, Sk, D]),
        nd(p.v, [B, Hkv, Sk, D]),
        p.scale,
        masked(p),
        bias(p),
      );
      expectClose(a.out, ref.data, { atol: 2e-5, rtol: 1e-4, what: what('forward') });
      const g = referenceGrads(p);
      expectClose(a.gq, g.gq, { atol: 1e-4, rtol: 1e-3, what: what('dQ') });
      expectClose(a.gk, g.gk, { atol: 1e-4, rtol: 1e-3, what: what('dK') });
      expectClose(a.gv, g.gv, { atol: 1e-4, rtol: 1e-3, what: what('dV') });
      if (p.mask) {
        // The fully masked row: output, dQ exactly 0, and LSE the "masked" marker.
        const row = p.mask.kind === 'bool' ? 1 : 2;
        if (row < Sq)
          for (let h = 0; h < Hq; h++) {
            const r = h * Sq + row;
            expect(a.out.subarray(r * D, (r + 1) * D).every((x) => x === 0)).toBe(true);
            expect(a.gq.subarray(r * D, (r + 1) * D).every((x) => x === 0)).toBe(true);
            expect(a.lse[r]).toBeLessThan(-1e38);
          }
      }
    },
  );

  it('the op: GQA with a cached prefix in a larger store, a bool segment mask and a [B,S,H,D] q, same bits on 1 and 3 threads', async () => {
    const [B, Hq, Hkv, Sq, Sp, D, cap] = [2, 6, 3, 13, 90, 24, 100];
    const Sk = Sp + Sq;
    const q = randomArray(B * Sq * Hq * D, fresh(), -2, 2);
    const pk = randomArray(B * Hkv * Sp * D, fresh(), -2, 2);
    const pv = randomArray(B * Hkv * Sp * D, fresh());
    const k = randomArray(B * Hkv * Sq * D, fresh(), -2, 2);
    const v = randomArray(B * Hkv * Sq * D, fresh());
    const masks = [0, 1].map(() => {
      const ar = Array.from({ length: Sk }, (_, i) => (i === 0 ? 0 : rand() < 0.1 ? 1 : 0));
      const pad = Array.from({ length: Sk }, () => rand() < 0.1);
      return R.segmentMask(ar, pad).slice(Sp);
    });
    const allow = new Uint32Array(B * Sq * Sk);
    masks.forEach((m, b) =>
      m.forEach((row, i) => row.forEach((ok, j) => (allow[(b * Sq + i) * Sk + j] = ok ? 1 : 0))),
    );
    const run = async (e: CpuEngine) => {
      const ts: Tensor[] = [];
      const up = (data: Float32Array | Uint32Array, shape: number[], dtype: 'f32' | 'bool' = 'f32') => {
        const t = Tensor.fromData(data, shape, dtype, e);
        ts.push(t);
        return t;
      };
      // The cache: rows [0, Sp) of a [B, Hkv, cap, D] store whose other rows hold garbage.
      const store = (data: Float32Array) => {
        const host = randomArray(B * Hkv * cap * D, fresh(), 50, 60);
        for (let bh = 0; bh < B * Hkv; bh++)
          host.set(data.subarray(bh * Sp * D, (bh + 1) * Sp * D), bh * cap * D);
        const s = up(host, [B, Hkv, cap, D]);
        return s.view([B, Hkv, Sp, D], s.strides, 0);
      };
      const Q = T.permute(up(q, [B, Sq, Hq, D]), [0, 2, 1, 3]);
      const out = T.scaledDotProductAttention(Q, up(k, [B, Hkv, Sq, D]), up(v, [B, Hkv, Sq, D]), {
        mask: up(allow, [B, 1, Sq, Sk], 'bool'),
        past: { k: store(pk), v: store(pv) },
      });
      const data = (await out.toArray()) as Float32Array;
      out.dispose();
      for (const t of ts) t.dispose();
      return data;
    };
    const [a, b] = [await run(e1), await run(e3)];
    expect(bits(b), what('3 threads vs 1')).toEqual(bits(a));
    const hostConcat = (x: Float32Array, y: Float32Array) => {
      const out = new Float32Array(B * Hkv * Sk * D);
      for (let bh = 0; bh < B * Hkv; bh++) {
        out.set(x.subarray(bh * Sp * D, (bh + 1) * Sp * D), bh * Sk * D);
        out.set(y.subarray(bh * Sq * D, (bh + 1) * Sq * D), (bh * Sk + Sp) * D);
      }
      return out;
    };
    const qBHSD = Float32Array.from({ length: q.length }, (_, e) => {
      const d = e % D;
      const s = Math.floor(e / D) % Sq;
      const h = Math.floor(e / (D * Sq)) % Hq;
      const bb = Math.floor(e / (D * Sq * Hq));
      return q[((bb * Sq + s) * Hq + h) * D + d];
    });
    const ref = R.attention(
      nd(qBHSD, [B, Hq, Sq, D]),
      nd(hostConcat(pk, k), [B, Hkv, Sk, D]),
      nd(hostConcat(pv, v), [B, Hkv, Sk, D]),
      1 / Math.sqrt(D),
      (bb, _h, i, j) => allow[(bb * Sq + i) * Sk + j] === 0,
    );
    expectClose(a, ref.data, { atol: 2e-5, rtol: 1e-4, what: what('past + segment mask') });
  });

  it('no keys give zero outputs; f16 operands are storage only', async () => {
    const keep: Tensor[] = [];
    const o = Tensor.fromData(new Float32Array(2 * 3 * 4).fill(7), [1, 2, 3, 4], 'f32', e3);
    const lse = Tensor.empty([1, 2, 3], 'f32', e3);
    const q = Tensor.fromData(randomArray(24, fresh()), [1, 2, 3, 4], 'f32', e3);
    keep.push(o, lse, q);
    const op: AttnOperand = { buffer: q.buffer, offset: 0, strides: [24, 12, 4] };
    const launch = (stage: AttentionStage, extra: Partial<AttentionLaunch> = {}) =>
      launchAttention(e3, {
        stage,
        dtype: 'f32',
        shape: { batch: 1, hq: 2, hkv: 1, sq: 3, sk: 0, d: 4, scale: 0.5 },
        q: op,
        k: op,
        v: op,
        lse: lse.buffer,
        outputs: [o.buffer],
        label: 'empty keys',
        ...extra,
      });
    launch('fwd');
    expect(Array.from(await o.toArray())).toEqual(new Array(24).fill(0));
    expect(() => launch('fwd', { dtype: 'f16' })).toThrow(/f16 tensors here are storage only/);
    for (const t of keep) t.dispose();
  });
});

describe('CPU rotary kernels', () => {
  /** Host rotary: forward or transposed, tables [S, tw] per position (tw = D/2 or D). */
  function hostRotary(
    x: Float32Array,
    S: number,
    D: number,
    c: Float32Array,
    s: Float32Array,
    tw: number,
    transpose: boolean,
  ) {
    const h = D / 2;
    const y = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const j = i % D;
      const p = Math.floor(i / D) % S;
      const jp = j < h ? j + h : j - h;
      const row = i - j;
      const cj = c[p * tw + (j % tw)];
      const sIdx = transpose ? jp % tw : j % tw;
      const sign = j < h ? (transpose ? 1 : -1) : transpose ? -1 : 1;
      y[i] = x[i] * cj + sign * x[row + jp] * s[p * tw + sIdx];
    }
    return y;
  }

  it.each([
    // D, table width, x layout, transpose
    [64, 'half', 'bshd', false],
    [64, 'full', 'dense', true],
    [22, 'half', 'dense', true],
    [22, 'full', 'bshd', false],
  ] as const)(
    'D=%i %s tables, %s x, transposed %s: equals the host formula, same bits on 1 and 3 threads',
    async (D, width, layout, transpose) => {
      const [B, H, S] = [2, 5, 97];
      const tw = width === 'half' ? D / 2 : D;
      const x = randomArray(B * H * S * D, fresh());
      const c = randomArray(S * tw, fresh());
      const s = randomArray(S * tw, fresh());
      const run = async (e: CpuEngine) => {
        const px = place(x, [B, H, S, D], layout);
        const X = Tensor.fromData(px.store, [px.store.length], 'f32', e);
        // Tables [S, tw] after 2 unused entries, broadcast over B and H.
        const C = Tensor.fromData(Float32Array.from([9, 9, ...c]), [2 + c.length], 'f32', e);
        const Sn = Tensor.fromData(Float32Array.from([9, 9, ...s]), [2 + s.length], 'f32', e);
        const y = Tensor.empty([B, H, S, D], 'f32', e);
        const layoutDesc: RotaryLayout = {
          shape: [B, H, S, D],
          xStrides: [...px.strides, 1],
          xOffset: px.offset,
          cosStrides: [0, 0, tw, 1],
          cosOffset: 2,
          sinStrides: [0, 0, tw, 1],
          sinOffset: 2,
          tableWidth: tw,
        };
        launchRotary(
          e,
          { dtype: 'f32', tableDtype: 'f32', transpose },
          layoutDesc,
          { x: X.buffer, cos: C.buffer, sin: Sn.buffer, out: y.buffer },
          'rotary test',
        );
        const data = (await y.toArray()) as Float32Array;
        for (const t of [X, C, Sn, y]) t.dispose();
        return data;
      };
      const [a, b] = [await run(e1), await run(e3)];
      expect(bits(b), what('3 threads vs 1')).toEqual(bits(a));
      expectClose(a, hostRotary(x, S, D, c, s, tw, transpose), {
        atol: 1e-6,
        rtol: 1e-6,
        what: what('rotary'),
      });
    },
  );

  it('a strided last dim takes the element loop (x every other element)', async () => {
    const [S, D] = [7, 10];
    const x = randomArray(S * D, fresh());
    const c = randomArray(S * (D / 2), fresh());
    const s = randomArray(S * (D / 2), fresh());
    const wide = new Float32Array(2 * S * D);
    x.forEach((val, i) => (wide[2 * i] = val));
    const X = Tensor.fromData(wide, [S, D, 2], 'f32', e1);
    const y = T.rotaryEmbedding(
      X.view([S, D], [2 * D, 2], 0),
      Tensor.fromData(c, [S, D / 2], 'f32', e1),
      Tensor.fromData(s, [S, D / 2], 'f32', e1),
    );
    expectClose(await y.toArray(), hostRotary(x, S, D, c, s, D / 2, false), {
      atol: 1e-6,
      what: what('strided x'),
    });
  });

  it('M-RoPE tables from i32, u32 and f32 positions: accurate, same bits on 1 and 3 threads', async () => {
    const S = 400;
    const ids = [0, 1, 2].map(() => Array.from(randomInts(S, fresh(), 0, 60000)));
    const axisOf = RR.mropeAxis([24, 20, 20]);
    const ang = RR.angles(ids, 128, 5e6, axisOf);
    for (const dtype of ['i32', 'u32', 'f32'] as const) {
      const run = async (e: CpuEngine) => {
        const pos = Tensor.fromData(
          dtype === 'f32'
            ? Float32Array.from(ids.flat())
            : dtype === 'u32'
              ? Uint32Array.from(ids.flat())
              : Int32Array.from(ids.flat()),
          [3, S],
          dtype,
          e,
        );
        const { cos, sin } = T.mropeTables(pos, 128, 5e6);
        const out = [(await cos.toArray()) as Float32Array, (await sin.toArray()) as Float32Array];
        for (const t of [pos, cos, sin]) t.dispose();
        return out;
      };
      const [[c1, s1], [c3, s3]] = [await run(e1), await run(e3)];
      expect(bits(c3), what(`${dtype} cos: 3 threads vs 1`)).toEqual(bits(c1));
      expect(bits(s3), what(`${dtype} sin: 3 threads vs 1`)).toEqual(bits(s1));
      expectClose(c1, ang.map(Math.cos), { atol: 1e-6, rtol: 0, what: what(`${dtype} cos`) });
      expectClose(s1, ang.map(Math.sin), { atol: 1e-6, rtol: 0, what: what(`${dtype} sin`) });
    }
  });
});
