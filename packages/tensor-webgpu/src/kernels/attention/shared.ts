// What the three attention stages share: tile choice and shared-memory sizing, the parameters and
// uniform fields every stage bakes in or reads, and the common WGSL (the masked logit, operand row
// offsets, tile loads and stores, and the P/dS block of both backward stages).
//
// Shared tiles are rows of vec4s (dot products and accumulations run 4-wide: for D = 128 a score
// costs 64 vec4 shared reads instead of 256 scalar ones).
//
// Masking: a logit is masked when its query or key index is out of range, its bool mask entry is
// false, or its additive mask value is ≤ −1e30 (this includes −inf and −3.4e38). Masked logits
// get probability exactly 0, so a query row whose keys are all masked outputs 0 (not NaN, not the
// uniform average a finite −1e30 would give) and receives zero gradient.
import type { Backend } from '../../runtime/backend.js';
import type { BindingSpec } from '../program.js';
import { tuningFor } from '../tuning.js';

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

/** Parameters baked into an attention kernel of any stage. */
export interface AttentionParams {
  dtype: 'f32' | 'f16';
  headDim: number;
  tile: AttentionTile;
  mask: AttentionMaskKind;
}

/** log2(e): the logits are scaled by scale·log2(e) so the softmax runs on exp2. */
export const LOG2E = 1.4426950408889634;

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
 * The one place that picks attention tiles: the first candidate of the engine's tuning entry
 * (tuning.ts; larger blocks first, since more rows per block means fewer passes over K/V) whose
 * shared memory fits the device's `sharedLimit` bytes. Without an engine, the default entry.
 */
export function chooseAttentionTile(
  stage: AttentionStage,
  d: number,
  sharedLimit: number,
  engine?: Backend,
): AttentionTile {
  for (const t of tuningFor(engine).attention[stage])
    if (attentionSharedBytes(stage, d, t) <= sharedLimit) return t;
  throw new Error(
    `attention: head_dim ${d} needs more workgroup memory than the device's ${sharedLimit} bytes`,
  );
}

/** Uniform fields of every stage that precede the stage's own: sizes and the Q/K/V row strides. */
export const SHAPE_UNIFORMS = {
  sq: 'u32',
  sk: 'u32',
  hq: 'u32',
  hkv: 'u32',
  grp: 'u32',
  qOff: 'u32',
  qsb: 'u32',
  qsh: 'u32',
  qss: 'u32',
  kOff: 'u32',
  ksb: 'u32',
  ksh: 'u32',
  kss: 'u32',
  vOff: 'u32',
  vsb: 'u32',
  vsh: 'u32',
  vss: 'u32',
} as const;

/** Uniform fields of every stage that follow the stage's own: mask strides and the base-2 scale. */
export const MASK_UNIFORMS = {
  mOff: 'u32',
  msb: 'u32',
  msh: 'u32',
  msq: 'u32',
  msk: 'u32',
  scale2: 'f32',
} as const;

/** Uniform fields of both backward stages: the shared fields with the dO row strides between them. */
export const BACKWARD_UNIFORMS = {
  ...SHAPE_UNIFORMS,
  doOff: 'u32',
  dosb: 'u32',
  dosh: 'u32',
  doss: 'u32',
  ...MASK_UNIFORMS,
} as const;

/** Storage binding of an operand of the kernel's dtype. */
export const io = (p: AttentionParams, access: BindingSpec['access']): BindingSpec => ({
  access,
  type: p.dtype,
});

/** Storage binding of the f32 per-row statistics (LSE, Δ). */
export const rowStat = (access: BindingSpec['access']): BindingSpec => ({ access, type: 'f32' });

/** The MASK binding when the kernel has one (element type from the mask kind). */
export function maskBinding(p: AttentionParams): { MASK?: BindingSpec } {
  if (p.mask === 'none') return {};
  return { MASK: { access: 'read', type: p.mask === 'bool' ? 'u32' : p.mask === 'add-f16' ? 'f16' : 'f32' } };
}

/** WGSL builders shared by the stages, specialised to one parameter set. */
export interface AttentionWgsl {
  /** Masked logit, per-row offsets of each operand (with `past`: PK/PV too; with `dout`: DO). */
  common: (opts: { past?: boolean; dout?: boolean }) => string;
  /** Loads rows [start, start + rows) of an operand into a shared tile (zeros past `limit`). */
  loadTile: (
    dst: string,
    rows: number,
    buf: string,
    rowFn: string,
    head: string,
    start: string,
    limit: string,
    pastBuf?: string,
  ) => string;
  /** Writes a vec4 accumulator of (row, d4) units to a contiguous [.., S, D] output at `at`. */
  store4: (buf: string, at: string, val: string) => string;
  /** `acc += ` the dot product of two shared rows. */
  dot: (a: string, ai: string, b: string, bi: string) => string;
  /** Backward: P (stored by `pStore`) and dS of a (query block, key block) pair. */
  pds: (pStore: string) => string;
  /** Backward: loads the LSE and Δ of the query block's rows into shared memory. */
  loadRowStats: string;
}

/** The shared WGSL of an attention kernel with parameters `p`. */
export function attentionWgsl(p: AttentionParams): AttentionWgsl {
  const D = p.headDim;
  const DV = Math.ceil(D / 4);
  const RS = rowStride(D);
  const { br: BR, bc: BC } = p.tile;
  const WG = ATTENTION_THREADS;
  const T = p.dtype;
  const maskTerm =
    p.mask === 'none'
      ? ''
      : p.mask === 'bool'
        ? `  if (MASK[u.mOff + bIdx * u.msb + hIdx * u.msh + qi * u.msq + kj * u.msk] == 0u) { return MASKED; }`
        : `  let m = f32(MASK[u.mOff + bIdx * u.msb + hIdx * u.msh + qi * u.msq + kj * u.msk]);
  if (m <= -1e30) { return MASKED; }
  s += m * ${LOG2E};`;
  const common = (opts: { past?: boolean; dout?: boolean }) => `const MASKED = -3.0e38;
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
${
  opts.dout
    ? `fn rowDO(b: u32, h: u32, r: u32) -> u32 { return u.doOff + b * u.dosb + h * u.dosh + r * u.doss; }
`
    : ''
}${
    opts.past
      ? `fn rowPK(b: u32, h: u32, r: u32) -> u32 { return u.pkOff + b * u.pksb + h * u.pksh + r * u.pkss; }
fn rowPV(b: u32, h: u32, r: u32) -> u32 { return u.pvOff + b * u.pvsb + h * u.pvsh + r * u.pvss; }
`
      : ''
  }`;
  // Shared tiles hold rows of D/4 vec4s (zero-padded past D) at an odd stride of RS vec4s.
  // With `pastBuf`, rows below u.sp come from the cached prefix and the others from `buf` at
  // row − u.sp.
  const read = (buf: string) =>
    [0, 1, 2, 3]
      .map((i) =>
        D % 4 === 0 || i === 0
          ? `val[${i}] = f32(${buf}[base + ${i}u]);`
          : `if (c + ${i}u < ${D}u) { val[${i}] = f32(${buf}[base + ${i}u]); }`,
      )
      .join('\n        ');
  const loadTile: AttentionWgsl['loadTile'] = (dst, rows, buf, rowFn, head, start, limit, pastBuf) =>
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
  const store4: AttentionWgsl['store4'] = (buf, at, val) =>
    [0, 1, 2, 3]
      .map((i) =>
        D % 4 === 0
          ? `${buf}[${at} + ${i}u] = ${T}(${val}[${i}]);`
          : `if (c + ${i}u < ${D}u) { ${buf}[${at} + ${i}u] = ${T}(${val}[${i}]); }`,
      )
      .join('\n      ');
  const dot: AttentionWgsl['dot'] = (a, ai, b, bi) =>
    `for (var d = 0u; d < ${DV}u; d++) { acc += dot(${a}[${ai} + d], ${b}[${bi} + d]); }`;
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
  return { common, loadTile, store4, dot, pds, loadRowStats };
}

/** Sizes baked into a body: head dim D, vec4s per row DV, shared row stride RS, tile BR×BC, threads WG. */
export function attentionDims(p: AttentionParams): {
  D: number;
  DV: number;
  RS: number;
  BR: number;
  BC: number;
  WG: number;
} {
  const D = p.headDim;
  return { D, DV: Math.ceil(D / 4), RS: rowStride(D), BR: p.tile.br, BC: p.tile.bc, WG: ATTENTION_THREADS };
}
