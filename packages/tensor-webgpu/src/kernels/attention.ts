// Fused scaled-dot-product attention with grouped-query heads (flash-attention style).
//
// fwd   a workgroup per (query block of BR rows, q head, batch). The scaled query tile stays in
//       shared memory; key/value blocks of BC rows stream through one shared buffer (K, then V).
//       Scores and the softmax run in f32 with base-2 exponentials (log2(e) is folded into the
//       scale), keeping a running max m and sum l per row (online softmax), and rescaling the
//       output accumulator (registers) by 2^(m_old − m_new) whenever the max grows. Saves the
//       log-sum-exp (base 2) per row for the backward.
// dkdv  a workgroup per (key block, kv head, batch) loops over every q head of its GQA group and
//       every query block, recomputes P = 2^(s − lse) from the saved LSE, and accumulates
//       dV += Pᵀ·dO and dK += dSᵀ·Q with dS = P·(dO·Vᵀ − Δ), Δ = rowsum(dO·O): the GQA sum happens in
//       registers, so no atomics (FlashAttention-2, Algorithm 2, split in two kernels).
// dq    a workgroup per (query block, q head, batch) loops over key blocks: dQ += dS·K.
//
// Two-source keys (fwd only, inference with a KV cache): with `past`, the keys/values are the
// cached prefix PK/PV [B, Hkv, Sp, D] followed by K/V [B, Hkv, Sk − Sp, D], one logical sequence of
// Sk rows (mask columns: cached first). Tiles pick their source row by row, so the cache is read in
// place and never concatenated.
//
// Masking: a logit is masked when its query or key index is out of range, its bool mask entry is
// false, or its additive mask value is ≤ −1e30 (this includes −inf and −3.4e38). Masked logits
// get probability exactly 0, so a query row whose keys are all masked outputs 0 (not NaN, not the
// uniform average a finite −1e30 would give) and receives zero gradient.
// Shared tiles are rows of vec4s (dot products and accumulations run 4-wide: for D = 128 a score
// costs 64 vec4 shared reads instead of 256 scalar ones).
import type { Engine, Kernel } from '../runtime/engine.js';
import { uniformBlock, type UniformBlock } from './uniforms.js';

/** Which attention kernel. */
export type AttentionStage = 'fwd' | 'dkdv' | 'dq';

/** How the mask is given. */
export type AttentionMaskKind = 'none' | 'add-f32' | 'add-f16' | 'bool';

/** Tile of an attention kernel: query rows and key rows per block. */
export interface AttentionTile {
  br: number;
  bc: number;
}

/** Threads per workgroup of every attention kernel. */
export const ATTENTION_THREADS = 128;

/** Parameters baked into one attention kernel variant. */
export interface AttentionVariant {
  stage: AttentionStage;
  dtype: 'f32' | 'f16';
  headDim: number;
  tile: AttentionTile;
  mask: AttentionMaskKind;
  /** fwd only: keys/values come from a cached prefix (PK/PV) followed by K/V. */
  past?: boolean;
}

// Row stride of shared tiles in vec4s: ⌈D/4⌉ made odd, so the 8 threads of a quarter-warp reading 8
// different rows at the same column touch 8 different 16-byte bank groups.
const rowStride = (d: number) => {
  const v = Math.ceil(d / 4);
  return v % 2 === 0 ? v + 1 : v;
};

/** Bytes of workgroup memory a stage uses with a tile. */
export function attentionSharedBytes(stage: AttentionStage, d: number, t: AttentionTile): number {
  const row = 16 * rowStride(d);
  if (stage === 'fwd') return (t.br + t.bc) * row + 4 * (t.br * t.bc + 3 * t.br);
  if (stage === 'dkdv') return 2 * (t.bc + t.br) * row + 4 * (2 * t.br * t.bc + 2 * t.br);
  return 2 * (t.br + t.bc) * row + 4 * (t.br * t.bc + 2 * t.br);
}

/**
 * The one place that picks attention tiles: the largest candidate (more rows per block means fewer
 * passes over K/V) whose shared memory fits the device.
 */
export function chooseAttentionTile(stage: AttentionStage, d: number, sharedLimit: number): AttentionTile {
  const candidates: AttentionTile[] =
    stage === 'fwd'
      ? [
          { br: 64, bc: 32 },
          { br: 32, bc: 32 },
          { br: 32, bc: 16 },
          { br: 16, bc: 16 },
          { br: 16, bc: 8 },
          { br: 8, bc: 8 },
          { br: 4, bc: 4 },
        ]
      : stage === 'dkdv'
        ? [
            { br: 16, bc: 32 },
            { br: 16, bc: 16 },
            { br: 8, bc: 16 },
            { br: 8, bc: 8 },
            { br: 4, bc: 8 },
            { br: 4, bc: 4 },
          ]
        : [
            { br: 32, bc: 16 },
            { br: 16, bc: 16 },
            { br: 16, bc: 8 },
            { br: 8, bc: 8 },
            { br: 4, bc: 4 },
          ];
  for (const t of candidates) if (attentionSharedBytes(stage, d, t) <= sharedLimit) return t;
  throw new Error(
    `attention: head_dim ${d} needs more workgroup memory than the device's ${sharedLimit} bytes`,
  );
}

/** Strides (elements) of a [B, H, S, D] operand: batch, head, row; the last dim must be contiguous. */
export interface AttnOperand {
  buffer: GPUBuffer;
  offset: number;
  strides: readonly [number, number, number];
}

/** Mask strides over [B, Hq, Sq, Sk] (0 where broadcast). */
export interface AttnMask {
  buffer: GPUBuffer;
  offset: number;
  strides: readonly [number, number, number, number];
}

/** Sizes of an attention problem. */
export interface AttentionShape {
  batch: number;
  hq: number;
  hkv: number;
  sq: number;
  sk: number;
  d: number;
  scale: number;
}

const LOG2E = 1.4426950408889634;

/** The cached prefix of a two-source attention: `length` rows read before K/V. */
export interface AttnPast {
  k: AttnOperand;
  v: AttnOperand;
  length: number;
}

interface UniformInput {
  shape: AttentionShape;
  q: AttnOperand;
  k: AttnOperand;
  v: AttnOperand;
  dout?: AttnOperand;
  mask?: AttnMask;
  past?: AttnPast;
}

function attentionUniforms(p: UniformInput): UniformBlock {
  const s = p.shape;
  const op = (name: string, o: AttnOperand | undefined): [string, number][] => [
    [`${name}Off`, o?.offset ?? 0],
    [`${name}sb`, o?.strides[0] ?? 0],
    [`${name}sh`, o?.strides[1] ?? 0],
    [`${name}ss`, o?.strides[2] ?? 0],
  ];
  const fields: [string, number][] = [
    ['sq', s.sq],
    ['sk', s.sk],
    ['hq', s.hq],
    ['hkv', s.hkv],
    ['grp', s.hkv ? s.hq / s.hkv : 0],
    ...op('q', p.q),
    ...op('k', p.k),
    ...op('v', p.v),
    ...op('do', p.dout),
    ['sp', p.past?.length ?? 0],
    ...op('pk', p.past?.k),
    ...op('pv', p.past?.v),
    ['mOff', p.mask?.offset ?? 0],
    ['msb', p.mask?.strides[0] ?? 0],
    ['msh', p.mask?.strides[1] ?? 0],
    ['msq', p.mask?.strides[2] ?? 0],
    ['msk', p.mask?.strides[3] ?? 0],
  ];
  return uniformBlock([
    ...fields.map(([name, value]) => ({ name, type: 'u32' as const, value })),
    { name: 'scale2', type: 'f32', value: s.scale * LOG2E },
  ]);
}

const ZERO_SHAPE: AttentionShape = { batch: 0, hq: 0, hkv: 0, sq: 0, sk: 0, d: 0, scale: 0 };
const ZERO_OP: AttnOperand = { buffer: null as unknown as GPUBuffer, offset: 0, strides: [0, 0, 0] };

/** Storage binding names of a stage, in binding order (`past`: fwd only). */
export function attentionBindings(stage: AttentionStage, mask: boolean, past = false): string[] {
  const m = mask ? ['MASK'] : [];
  if (stage === 'fwd') return ['Q', 'K', 'V', ...(past ? ['PK', 'PV'] : []), ...m, 'O', 'LSE'];
  if (stage === 'dkdv') return ['Q', 'K', 'V', ...m, 'DO', 'LSE', 'DELTA', 'DK', 'DV'];
  return ['Q', 'K', 'V', ...m, 'DO', 'LSE', 'DELTA', 'DQ'];
}

/** The attention kernel of a variant (bindings: {@link attentionBindings}, then uniforms). */
export function attentionKernel(v: AttentionVariant): Kernel {
  return {
    key: `attention|${v.stage}|${v.dtype}|d${v.headDim}|${v.tile.br}x${v.tile.bc}|${v.mask}${v.past ? '|past' : ''}`,
    code: () => attentionWgsl(v),
  };
}

function attentionWgsl(v: AttentionVariant): string {
  const T = v.dtype;
  const D = v.headDim;
  const DV = Math.ceil(D / 4);
  const RS = rowStride(D);
  const { br: BR, bc: BC } = v.tile;
  const WG = ATTENTION_THREADS;
  const hasMask = v.mask !== 'none';
  if (v.past && v.stage !== 'fwd') throw new Error(`attention: a cached prefix has no ${v.stage} kernel`);
  const past = v.past === true;
  const names = attentionBindings(v.stage, hasMask, past);
  const f32Bufs = new Set(['LSE', 'DELTA']);
  const outputs =
    v.stage === 'fwd' ? new Set(['O', 'LSE']) : v.stage === 'dkdv' ? new Set(['DK', 'DV']) : new Set(['DQ']);
  const maskType = v.mask === 'bool' ? 'u32' : v.mask === 'add-f16' ? 'f16' : 'f32';
  const decl = names
    .map((n, i) => {
      const ty = n === 'MASK' ? maskType : f32Bufs.has(n) ? 'f32' : T;
      return `@group(0) @binding(${i}) var<storage, ${outputs.has(n) ? 'read_write' : 'read'}> ${n}: array<${ty}>;`;
    })
    .join('\n');
  const uni = attentionUniforms({ shape: ZERO_SHAPE, q: ZERO_OP, k: ZERO_OP, v: ZERO_OP }).wgsl(names.length);
  const maskTerm =
    v.mask === 'none'
      ? ''
      : v.mask === 'bool'
        ? `  if (MASK[u.mOff + bIdx * u.msb + hIdx * u.msh + qi * u.msq + kj * u.msk] == 0u) { return MASKED; }`
        : `  let m = f32(MASK[u.mOff + bIdx * u.msb + hIdx * u.msh + qi * u.msq + kj * u.msk]);
  if (m <= -1e30) { return MASKED; }
  s += m * ${LOG2E};`;
  const common = `${v.dtype === 'f16' || v.mask === 'add-f16' ? 'enable f16;\n' : ''}${decl}
${uni}
const MASKED = -3.0e38;
var<private> bIdx: u32;
var<private> hIdx: u32;
// Logit (base-2 units) of query qi and key kj given their raw dot product, or MASKED.
fn logit(qi: u32, kj: u32, dotv: f32) -> f32 {
  if (qi >= u.sq || kj >= u.sk) { return MASKED; }
  var s = dotv * u.scale2;
${maskTerm}
  return s;
}
fn rowQ(b: u32, h: u32, r: u32) -> u32 { return u.qOff + b * u.qsb + h * u.qsh + r * u.qss; }
fn rowK(b: u32, h: u32, r: u32) -> u32 { return u.kOff + b * u.ksb + h * u.ksh + r * u.kss; }
fn rowV(b: u32, h: u32, r: u32) -> u32 { return u.vOff + b * u.vsb + h * u.vsh + r * u.vss; }
fn rowDO(b: u32, h: u32, r: u32) -> u32 { return u.doOff + b * u.dosb + h * u.dosh + r * u.doss; }
${past ? `fn rowPK(b: u32, h: u32, r: u32) -> u32 { return u.pkOff + b * u.pksb + h * u.pksh + r * u.pkss; }
fn rowPV(b: u32, h: u32, r: u32) -> u32 { return u.pvOff + b * u.pvsb + h * u.pvsh + r * u.pvss; }
` : ''}`;
  // Shared tiles hold rows of D/4 vec4s (zero-padded past D) at an odd stride of RS vec4s.
  // Loads rows [start, start + rows) of a [.., S, D] operand (zeros past `limit`). With `pastBuf`,
  // rows below u.sp come from the cached prefix and the others from `buf` at row − u.sp.
  const read = (buf: string) =>
    [0, 1, 2, 3]
      .map((i) =>
        D % 4 === 0 || i === 0
          ? `val[${i}] = f32(${buf}[base + ${i}u]);`
          : `if (c + ${i}u < ${D}u) { val[${i}] = f32(${buf}[base + ${i}u]); }`,
      )
      .join('\n        ');
  const loadTile = (
    dst: string,
    rows: number,
    buf: string,
    rowFn: string,
    head: string,
    start: string,
    limit: string,
    pastBuf?: string,
  ) =>
    `for (var e = lid; e < ${rows * DV}u; e += ${WG}u) {
      let r = e / ${DV}u;
      let c = (e % ${DV}u) * 4u;
      let gr = ${start} + r;
      var val = vec4<f32>(0.0);
      ${
        pastBuf
          ? `if (gr < u.sp) {
        let base = row${pastBuf}(bIdx, ${head}, gr) + c;
        ${read(pastBuf)}
      } else if (gr < ${limit}) {
        let base = ${rowFn}(bIdx, ${head}, gr - u.sp) + c;
        ${read(buf)}
      }`
          : `if (gr < ${limit}) {
        let base = ${rowFn}(bIdx, ${head}, gr) + c;
        ${read(buf)}
      }`
      }
      ${dst}[r * ${RS}u + e % ${DV}u] = val;
    }`;
  // Writes vec4 accumulators of (row, d4) units to a contiguous [.., S, D] output.
  const store4 = (buf: string, at: string, val: string) =>
    [0, 1, 2, 3]
      .map((i) =>
        D % 4 === 0
          ? `${buf}[${at} + ${i}u] = ${T}(${val}[${i}]);`
          : `if (c + ${i}u < ${D}u) { ${buf}[${at} + ${i}u] = ${T}(${val}[${i}]); }`,
      )
      .join('\n      ');
  const dot = (a: string, ai: string, b: string, bi: string) =>
    `for (var d = 0u; d < ${DV}u; d++) { acc += dot(${a}[${ai} + d], ${b}[${bi} + d]); }`;
  if (v.stage === 'fwd') {
    const NO = Math.ceil((BR * DV) / WG);
    return `${common}
var<workgroup> Qs: array<vec4<f32>, ${BR * RS}>;
var<workgroup> KV: array<vec4<f32>, ${BC * RS}>;
var<workgroup> S: array<f32, ${BR * BC}>;
var<workgroup> rowM: array<f32, ${BR}>;
var<workgroup> rowL: array<f32, ${BR}>;
var<workgroup> rowA: array<f32, ${BR}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  bIdx = wid.z;
  hIdx = wid.y;
  let hk = hIdx / u.grp;
  let q0 = wid.x * ${BR}u;
  ${loadTile('Qs', BR, 'Q', 'rowQ', 'hIdx', 'q0', 'u.sq')}
  if (lid < ${BR}u) { rowM[lid] = MASKED; rowL[lid] = 0.0; }
  var o: array<vec4<f32>, ${NO}>;
  for (var i = 0u; i < ${NO}u; i++) { o[i] = vec4<f32>(0.0); }
  let nBlocks = (u.sk + ${BC - 1}u) / ${BC}u;
  for (var kb = 0u; kb < nBlocks; kb++) {
    let k0 = kb * ${BC}u;
    workgroupBarrier();
    ${loadTile('KV', BC, 'K', 'rowK', 'hk', 'k0', 'u.sk', past ? 'PK' : undefined)}
    workgroupBarrier();
    for (var e = lid; e < ${BR * BC}u; e += ${WG}u) {
      let r = e / ${BC}u;
      let c = e % ${BC}u;
      var acc = 0.0;
      ${dot('Qs', `r * ${RS}u`, 'KV', `c * ${RS}u`)}
      S[e] = logit(q0 + r, k0 + c, acc);
    }
    workgroupBarrier();
    // One thread per row updates the running max / sum and turns scores into probabilities, while
    // the others load V over K (K is no longer needed).
    if (lid < ${BR}u) {
      let mOld = rowM[lid];
      var mNew = mOld;
      for (var c = 0u; c < ${BC}u; c++) { mNew = max(mNew, S[lid * ${BC}u + c]); }
      var sum = 0.0;
      for (var c = 0u; c < ${BC}u; c++) {
        let s = S[lid * ${BC}u + c];
        let p = select(exp2(s - mNew), 0.0, s == MASKED);
        S[lid * ${BC}u + c] = p;
        sum += p;
      }
      let alpha = exp2(mOld - mNew);
      rowA[lid] = alpha;
      rowL[lid] = rowL[lid] * alpha + sum;
      rowM[lid] = mNew;
    }
    ${loadTile('KV', BC, 'V', 'rowV', 'hk', 'k0', 'u.sk', past ? 'PV' : undefined)}
    workgroupBarrier();
    for (var i = 0u; i < ${NO}u; i++) {
      let e = lid + i * ${WG}u;
      if (e < ${BR * DV}u) {
        let r = e / ${DV}u;
        var acc = o[i] * rowA[r];
        for (var j = 0u; j < ${BC}u; j++) { acc += S[r * ${BC}u + j] * KV[j * ${RS}u + e % ${DV}u]; }
        o[i] = acc;
      }
    }
  }
  workgroupBarrier();
  let base = (bIdx * u.hq + hIdx) * u.sq;
  for (var i = 0u; i < ${NO}u; i++) {
    let e = lid + i * ${WG}u;
    let r = e / ${DV}u;
    if (e < ${BR * DV}u && q0 + r < u.sq) {
      let l = rowL[r];
      let val = select(vec4<f32>(0.0), o[i] / l, l > 0.0);
      let c = (e % ${DV}u) * 4u;
      let at = (base + q0 + r) * ${D}u + c;
      ${store4('O', 'at', 'val')}
    }
  }
  if (lid < ${BR}u && q0 + lid < u.sq) {
    let l = rowL[lid];
    LSE[base + q0 + lid] = select(MASKED, rowM[lid] + log2(l), l > 0.0);
  }
}
`;
  }
  // Shared part of both backward kernels: P and dS of a (query block, key block) pair.
  const pds = (pStore: string) => `for (var e = lid; e < ${BR * BC}u; e += ${WG}u) {
      let r = e / ${BC}u;
      let c = e % ${BC}u;
      var qk = 0.0;
      var dp = 0.0;
      for (var d = 0u; d < ${DV}u; d++) {
        qk += dot(Qs[r * ${RS}u + d], Ks[c * ${RS}u + d]);
        dp += dot(dOs[r * ${RS}u + d], Vs[c * ${RS}u + d]);
      }
      let s = logit(q0 + r, k0 + c, qk);
      let p = select(exp2(s - rowLse[r]), 0.0, s == MASKED);
      ${pStore}
      dS[e] = p * (dp - rowDelta[r]);
    }`;
  const loadRowStats = `if (lid < ${BR}u) {
      let gr = q0 + lid;
      let ri = (bIdx * u.hq + hIdx) * u.sq + gr;
      rowLse[lid] = select(0.0, LSE[ri], gr < u.sq);
      rowDelta[lid] = select(0.0, DELTA[ri], gr < u.sq);
    }`;
  if (v.stage === 'dkdv') {
    const ND = Math.ceil((BC * DV) / WG);
    return `${common}
var<workgroup> Ks: array<vec4<f32>, ${BC * RS}>;
var<workgroup> Vs: array<vec4<f32>, ${BC * RS}>;
var<workgroup> Qs: array<vec4<f32>, ${BR * RS}>;
var<workgroup> dOs: array<vec4<f32>, ${BR * RS}>;
var<workgroup> P: array<f32, ${BR * BC}>;
var<workgroup> dS: array<f32, ${BR * BC}>;
var<workgroup> rowLse: array<f32, ${BR}>;
var<workgroup> rowDelta: array<f32, ${BR}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  bIdx = wid.z;
  let hk = wid.y;
  let k0 = wid.x * ${BC}u;
  ${loadTile('Ks', BC, 'K', 'rowK', 'hk', 'k0', 'u.sk')}
  ${loadTile('Vs', BC, 'V', 'rowV', 'hk', 'k0', 'u.sk')}
  var dk: array<vec4<f32>, ${ND}>;
  var dv: array<vec4<f32>, ${ND}>;
  for (var i = 0u; i < ${ND}u; i++) { dk[i] = vec4<f32>(0.0); dv[i] = vec4<f32>(0.0); }
  let nBlocks = (u.sq + ${BR - 1}u) / ${BR}u;
  for (var g = 0u; g < u.grp; g++) {
    hIdx = hk * u.grp + g;
    for (var qb = 0u; qb < nBlocks; qb++) {
      let q0 = qb * ${BR}u;
      workgroupBarrier();
      ${loadTile('Qs', BR, 'Q', 'rowQ', 'hIdx', 'q0', 'u.sq')}
      ${loadTile('dOs', BR, 'DO', 'rowDO', 'hIdx', 'q0', 'u.sq')}
      ${loadRowStats}
      workgroupBarrier();
      ${pds('P[e] = p;')}
      workgroupBarrier();
      for (var i = 0u; i < ${ND}u; i++) {
        let e = lid + i * ${WG}u;
        if (e < ${BC * DV}u) {
          let c = e / ${DV}u;
          let d = e % ${DV}u;
          var av = dv[i];
          var ak = dk[i];
          for (var r = 0u; r < ${BR}u; r++) {
            av += P[r * ${BC}u + c] * dOs[r * ${RS}u + d];
            ak += dS[r * ${BC}u + c] * Qs[r * ${RS}u + d];
          }
          dv[i] = av;
          dk[i] = ak;
        }
      }
    }
  }
  // The logits were scaled by scale·log2(e) only for the exponent; dS is w.r.t. the natural-scale
  // logit s = scale·q·k, so dK = scale·Σ dS·Q.
  let scale = u.scale2 / ${LOG2E};
  let base = (bIdx * u.hkv + hk) * u.sk;
  for (var i = 0u; i < ${ND}u; i++) {
    let e = lid + i * ${WG}u;
    let r = e / ${DV}u;
    if (e < ${BC * DV}u && k0 + r < u.sk) {
      let c = (e % ${DV}u) * 4u;
      let at = (base + k0 + r) * ${D}u + c;
      let gk = dk[i] * scale;
      let gv = dv[i];
      ${store4('DK', 'at', 'gk')}
      ${store4('DV', 'at', 'gv')}
    }
  }
}
`;
  }
  const NQ = Math.ceil((BR * DV) / WG);
  return `${common}
var<workgroup> Qs: array<vec4<f32>, ${BR * RS}>;
var<workgroup> dOs: array<vec4<f32>, ${BR * RS}>;
var<workgroup> Ks: array<vec4<f32>, ${BC * RS}>;
var<workgroup> Vs: array<vec4<f32>, ${BC * RS}>;
var<workgroup> dS: array<f32, ${BR * BC}>;
var<workgroup> rowLse: array<f32, ${BR}>;
var<workgroup> rowDelta: array<f32, ${BR}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  bIdx = wid.z;
  hIdx = wid.y;
  let hk = hIdx / u.grp;
  let q0 = wid.x * ${BR}u;
  ${loadTile('Qs', BR, 'Q', 'rowQ', 'hIdx', 'q0', 'u.sq')}
  ${loadTile('dOs', BR, 'DO', 'rowDO', 'hIdx', 'q0', 'u.sq')}
  ${loadRowStats}
  var dq: array<vec4<f32>, ${NQ}>;
  for (var i = 0u; i < ${NQ}u; i++) { dq[i] = vec4<f32>(0.0); }
  let nBlocks = (u.sk + ${BC - 1}u) / ${BC}u;
  for (var kb = 0u; kb < nBlocks; kb++) {
    let k0 = kb * ${BC}u;
    workgroupBarrier();
    ${loadTile('Ks', BC, 'K', 'rowK', 'hk', 'k0', 'u.sk')}
    ${loadTile('Vs', BC, 'V', 'rowV', 'hk', 'k0', 'u.sk')}
    workgroupBarrier();
    ${pds('')}
    workgroupBarrier();
    for (var i = 0u; i < ${NQ}u; i++) {
      let e = lid + i * ${WG}u;
      if (e < ${BR * DV}u) {
        let r = e / ${DV}u;
        var acc = dq[i];
        for (var c = 0u; c < ${BC}u; c++) { acc += dS[r * ${BC}u + c] * Ks[c * ${RS}u + e % ${DV}u]; }
        dq[i] = acc;
      }
    }
  }
  let scale = u.scale2 / ${LOG2E};
  let base = (bIdx * u.hq + hIdx) * u.sq;
  for (var i = 0u; i < ${NQ}u; i++) {
    let e = lid + i * ${WG}u;
    let r = e / ${DV}u;
    if (e < ${BR * DV}u && q0 + r < u.sq) {
      let c = (e % ${DV}u) * 4u;
      let at = (base + q0 + r) * ${D}u + c;
      let g = dq[i] * scale;
      ${store4('DQ', 'at', 'g')}
    }
  }
}
`;
}

/** Everything one attention launch binds. */
export interface AttentionLaunch {
  stage: AttentionStage;
  dtype: 'f32' | 'f16';
  shape: AttentionShape;
  q: AttnOperand;
  k: AttnOperand;
  v: AttnOperand;
  mask?: AttnMask & { kind: Exclude<AttentionMaskKind, 'none'> };
  /** fwd only: a cached prefix read before k/v (`shape.sk` counts both). */
  past?: AttnPast;
  /** Backward only. */
  dout?: AttnOperand;
  /** Contiguous f32 [B, Hq, Sq] buffers: LSE (fwd output / bwd input) and Δ (bwd). */
  lse: GPUBuffer;
  delta?: GPUBuffer;
  /** fwd: [O]; dkdv: [DK, DV]; dq: [DQ] — contiguous outputs. */
  outputs: GPUBuffer[];
  label: string;
  tile?: AttentionTile;
}

/** Records one attention kernel launch. */
export function launchAttention(engine: Engine, p: AttentionLaunch): void {
  const s = p.shape;
  if (p.past && (p.stage !== 'fwd' || p.past.length > s.sk))
    throw new Error(`${p.label}: a cached prefix of ${p.past.length} rows needs the fwd stage and sk ≥ it`);
  const tile = p.tile ?? chooseAttentionTile(p.stage, s.d, engine.limits.maxComputeWorkgroupStorageSize);
  const kernel = attentionKernel({
    stage: p.stage,
    dtype: p.dtype,
    headDim: s.d,
    tile,
    mask: p.mask?.kind ?? 'none',
    past: !!p.past,
  });
  const names = attentionBindings(p.stage, !!p.mask, !!p.past);
  const byName: Record<string, GPUBuffer | undefined> = {
    Q: p.q.buffer,
    K: p.k.buffer,
    V: p.v.buffer,
    PK: p.past?.k.buffer,
    PV: p.past?.v.buffer,
    MASK: p.mask?.buffer,
    DO: p.dout?.buffer,
    LSE: p.lse,
    DELTA: p.delta,
  };
  const outNames = p.stage === 'fwd' ? ['O'] : p.stage === 'dkdv' ? ['DK', 'DV'] : ['DQ'];
  outNames.forEach((n, i) => (byName[n] = p.outputs[i]));
  const writable = new Set(p.stage === 'fwd' ? ['O', 'LSE'] : outNames);
  const rows = p.stage === 'dkdv' ? Math.ceil(s.sk / tile.bc) : Math.ceil(s.sq / tile.br);
  const heads = p.stage === 'dkdv' ? s.hkv : s.hq;
  if (rows === 0 || heads === 0 || s.batch === 0) return;
  const max = engine.limits.maxComputeWorkgroupsPerDimension;
  if (rows > max || heads > max || s.batch > max)
    throw new Error(`${p.label}: grid [${rows}, ${heads}, ${s.batch}] exceeds ${max} per dimension`);
  engine.dispatch({
    kernel,
    label: p.label,
    storage: names.map((n) => {
      const b = byName[n];
      if (!b) throw new Error(`${p.label}: missing buffer ${n}`);
      return { buffer: b, readOnly: !writable.has(n) };
    }),
    uniforms: attentionUniforms({ shape: s, q: p.q, k: p.k, v: p.v, dout: p.dout, mask: p.mask, past: p.past })
      .data,
    workgroups: [rows, heads, s.batch],
  });
}
