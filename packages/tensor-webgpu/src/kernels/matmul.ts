// Tiled GEMM: one WGSL template for every matrix product in the package (matmul, linear, and the
// implicit-GEMM convolutions in conv.ts, which plug their own loaders into the same skeleton).
//
// Design (the classic register-blocked SGEMM):
// - a workgroup computes a BM x BN tile of C; each thread a TM x TN block held in vec4 registers;
// - K advances BK at a time through two shared-memory buffers (double buffering: the next tile is
//   fetched into registers while the current one is multiplied, so there is one barrier per tile);
// - A is stored transposed in shared memory ([k][m]) so both operands are read as vec4 along m / n:
//   per k step a thread does TM/4 + TN/4 vec4 shared reads for TM*TN FMAs (8x8: 4 reads, 64 FMAs);
// - a thread's rows and columns are strided by the thread grid (vec4 groups g*TY+ty), so neighbouring
//   threads read neighbouring vec4s (no bank conflicts) and A reads are warp broadcasts;
// - global loads are vec4 where the operand's contiguous dim and base are 4-aligned, else scalar;
//   loaders are enumerated so that neighbouring threads touch neighbouring addresses;
// - f16 storage is converted to f32 at the load, so accumulation is always f32; an f16 B with f32
//   A and C (weight-only f16) is bound as packed u32 words and unpacked, so it needs no shader-f16.
import { cpuMatmul } from '../cpu/matmul.js';
import type { Backend, DeviceBuffer } from '../runtime/backend.js';
import type { DType } from '../dtype.js';
import type { Engine } from '../runtime/engine.js';
import { packedHalfArray, packedHalfRead } from './elementwise.js';
import { wgslProgram, type BindingSchema } from './program.js';
import { TUNING, tuningFor } from './tuning.js';

/** Tile shape of the GEMM template. Threads per workgroup = (bm / tm) * (bn / tn). */
export interface GemmTile {
  bm: number;
  bn: number;
  bk: number;
  /** Rows per thread (multiple of 4). */
  tm: number;
  /** Columns per thread (multiple of 4). */
  tn: number;
}

/** How one operand is fetched from global memory. */
export interface GemmOperand {
  /** 4: the loader returns a vec4 of four consecutive elements along `fast`; 1: a scalar. */
  vec: 1 | 4;
  /** The dim that is contiguous in memory: `k`, or `mn` (m for A, n for B). */
  fast: 'k' | 'mn';
}

/**
 * How a GEMM-shaped program uses the skeleton: its tile and how each operand is fetched. The
 * program declares (in its bindings and uniforms) `M`, `N`, `K`, `batchStart` and, in the loaders
 * passed to {@link gemmWgsl}, these functions: `prologue(bz: u32)` (once per workgroup; batch bz),
 * `loadA(m, k)`, `loadB(k, n)` (returning f32 or vec4<f32> per {@link GemmOperand}, zero outside
 * the matrix) and `storeC(m, n, v: vec4<f32>)` (columns n..n+3 of row m, bounds-checked on n; m is
 * always < M).
 */
export interface GemmLayout {
  tile: GemmTile;
  a: GemmOperand;
  b: GemmOperand;
}

/** Threads per workgroup of a tile. */
export function gemmThreads(t: GemmTile): number {
  return (t.bm / t.tm) * (t.bn / t.tn);
}

/** Bytes of workgroup memory a tile uses (two buffers of A and B, f32). */
export function gemmSharedBytes(t: GemmTile): number {
  return 2 * t.bk * (t.bm + t.bn) * 4;
}

function checkTile(t: GemmTile): void {
  const ok =
    t.tm % 4 === 0 &&
    t.tn % 4 === 0 &&
    t.bm % t.tm === 0 &&
    t.bn % t.tn === 0 &&
    t.bk % 4 === 0 &&
    gemmThreads(t) <= 256;
  if (!ok) throw new Error(`gemm: invalid tile ${JSON.stringify(t)}`);
}

/** Generates the fetch (global → registers) and stash (registers → shared) code for one operand. */
function operandCode(
  which: 'A' | 'B',
  op: GemmOperand,
  t: GemmTile,
): { decl: string; fetch: string; stash: string } {
  const nt = gemmThreads(t);
  const outer = which === 'A' ? t.bm : t.bn; // m extent for A, n extent for B
  const o4 = outer / 4;
  const sh = which === 'A' ? 'As' : 'Bs';
  const org = which === 'A' ? 'm0' : 'n0';
  const call = (o: string, k: string) =>
    which === 'A' ? `loadA(${org} + ${o}, k0 + ${k})` : `loadB(k0 + ${k}, ${org} + ${o})`;
  // A unit is one whole shared vec4 (4 consecutive m/n at one k) or, for vec4 loads along k, a 4x4
  // block transposed in registers: every shared vec4 is written whole by one thread. (Writing single
  // components of a shared vec4 from different threads races on backends that lower a dynamic
  // component store to a read-modify-write of the whole vector.)
  const kBlock = op.fast === 'k' && op.vec === 4;
  const units = kBlock ? o4 * (t.bk / 4) : o4 * t.bk;
  const count = Math.ceil(units / nt);
  const guard = units % nt !== 0;
  // (o, kk) of unit u, with the dim that is contiguous in memory varying fastest across threads.
  const coords =
    op.fast === 'mn'
      ? `let kk = u / ${o4}u; let o = (u % ${o4}u) * 4u;`
      : kBlock
        ? `let o = (u / ${t.bk / 4}u) * 4u; let kk = (u % ${t.bk / 4}u) * 4u;`
        : `let o = (u / ${t.bk}u) * 4u; let kk = u % ${t.bk}u;`;
  const decl: string[] = [];
  const fetch: string[] = [];
  const stash: string[] = [];
  for (let j = 0; j < count; j++) {
    const r = `p${which}${j}`;
    let load: string;
    let st: string;
    if (kBlock) {
      // Four vec4 rows along k → four shared vec4s along m/n (a register transpose).
      for (let i = 0; i < 4; i++) decl.push(`var ${r}_${i}: vec4<f32>;`);
      load = [0, 1, 2, 3].map((i) => `${r}_${i} = ${call(`o + ${i}u`, 'kk')};`).join(' ');
      st = [0, 1, 2, 3]
        .map(
          (c) =>
            `${sh}[(buf + kk + ${c}u) * ${o4}u + o / 4u] = vec4<f32>(${[0, 1, 2, 3].map((i) => `${r}_${i}[${c}]`).join(', ')});`,
        )
        .join(' ');
    } else {
      decl.push(`var ${r}: vec4<f32>;`);
      load =
        op.vec === 4
          ? `${r} = ${call('o', 'kk')};`
          : `${r} = vec4<f32>(${[0, 1, 2, 3].map((i) => call(`o + ${i}u`, 'kk')).join(', ')});`;
      st = `${sh}[(buf + kk) * ${o4}u + o / 4u] = ${r};`;
    }
    const open = guard ? `if (u < ${units}u) ` : '';
    fetch.push(`{ let u = lid + ${j * nt}u; ${open}{ ${coords} ${load} } }`);
    stash.push(`{ let u = lid + ${j * nt}u; ${open}{ ${coords} ${st} } }`);
  }
  return { decl: decl.join('\n  '), fetch: fetch.join('\n    '), stash: stash.join('\n    ') };
}

/**
 * The body of a GEMM-shaped program: its loaders and epilogue (see {@link GemmLayout}), the shared
 * tiles and the tiled `main`. The bindings and uniforms come from the program's declaration.
 */
export function gemmWgsl(p: GemmLayout, loaders: string): string {
  const t = p.tile;
  checkTile(t);
  const nt = gemmThreads(t);
  const tx = t.bn / t.tn;
  const ty = t.bm / t.tm;
  const bm4 = t.bm / 4;
  const bn4 = t.bn / 4;
  const gM = t.tm / 4; // vec4 row groups per thread
  const gN = t.tn / 4; // vec4 column groups per thread
  const a = operandCode('A', p.a, t);
  const b = operandCode('B', p.b, t);
  const accDecl: string[] = [];
  for (let g = 0; g < gM; g++)
    for (let r = 0; r < 4; r++)
      for (let h = 0; h < gN; h++) accDecl.push(`var c${g}_${r}_${h} = vec4<f32>(0.0);`);
  // The inner product over one shared tile, fully unrolled over k.
  const inner: string[] = [];
  for (let k = 0; k < t.bk; k++) {
    inner.push('{');
    for (let g = 0; g < gM; g++) inner.push(`let a${g} = As[(cur + ${k}u) * ${bm4}u + ${g * ty}u + ty];`);
    for (let h = 0; h < gN; h++) inner.push(`let b${h} = Bs[(cur + ${k}u) * ${bn4}u + ${h * tx}u + tx];`);
    for (let g = 0; g < gM; g++)
      for (let r = 0; r < 4; r++)
        for (let h = 0; h < gN; h++)
          inner.push(`c${g}_${r}_${h} = fma(vec4<f32>(a${g}[${r}]), b${h}, c${g}_${r}_${h});`);
    inner.push('}');
  }
  const epilogue: string[] = [];
  for (let g = 0; g < gM; g++)
    for (let r = 0; r < 4; r++) {
      const stores = [];
      for (let h = 0; h < gN; h++) stores.push(`storeC(row, n0 + (${h * tx}u + tx) * 4u, c${g}_${r}_${h});`);
      epilogue.push(
        `{ let row = m0 + (${g * ty}u + ty) * 4u + ${r}u; if (row < u.M) { ${stores.join(' ')} } }`,
      );
    }
  return `${loaders}
var<workgroup> As: array<vec4<f32>, ${2 * t.bk * bm4}>;
var<workgroup> Bs: array<vec4<f32>, ${2 * t.bk * bn4}>;

@compute @workgroup_size(${nt})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  prologue(wid.z + u.batchStart);
  let m0 = wid.y * ${t.bm}u;
  let n0 = wid.x * ${t.bn}u;
  let tx = lid % ${tx}u;
  let ty = lid / ${tx}u;
  ${accDecl.join('\n  ')}
  ${a.decl}
  ${b.decl}
  let numTiles = (u.K + ${t.bk - 1}u) / ${t.bk}u;
  if (numTiles > 0u) {
    let k0 = 0u;
    let buf = 0u;
    ${a.fetch}
    ${b.fetch}
    ${a.stash}
    ${b.stash}
  }
  workgroupBarrier();
  for (var tile = 0u; tile < numTiles; tile++) {
    let cur = (tile & 1u) * ${t.bk}u;
    let buf = ${t.bk}u - cur;
    let more = tile + 1u < numTiles;
    let k0 = (tile + 1u) * ${t.bk}u;
    if (more) {
    ${a.fetch}
    ${b.fetch}
    }
    ${inner.join('\n    ')}
    if (more) {
    ${a.stash}
    ${b.stash}
    }
    workgroupBarrier();
  }
  ${epilogue.join('\n  ')}
}
`;
}

/** The GEMM tiles of the default tuning entry (every adapter class uses these today; see tuning.ts). */
export const GEMM_TILES = TUNING.unknown.gemm.tiles;

/**
 * The one place that picks a GEMM tile from the problem size, with the tiles and thresholds of the
 * engine's adapter class ({@link tuningFor}): the large tile whenever the grid still has enough
 * workgroups to fill a big GPU, else smaller tiles so that more workgroups run in parallel.
 */
export function chooseGemmTile(M: number, N: number, batch: number, engine?: Engine): GemmTile {
  const { tiles, largeMinGroups, mediumMinGroups } = tuningFor(engine).gemm;
  const fits = (t: GemmTile) => !engine || gemmSharedBytes(t) <= engine.limits.maxComputeWorkgroupStorageSize;
  const groups = (t: GemmTile) => Math.ceil(M / t.bm) * Math.ceil(N / t.bn) * batch;
  const L = tiles.large;
  if (M >= 128 && N >= 128 && groups(L) >= largeMinGroups && fits(L)) return L;
  if (M <= 32 && N > 32) return tiles.small;
  if (N <= 32 && M > 32) return tiles.narrow;
  if (M <= 32 && N <= 32) return tiles.small;
  // Too few medium workgroups to occupy the device (e.g. 128³ gives 4): halve the rows per tile.
  if (groups(tiles.medium) < mediumMinGroups) return tiles.small;
  return tiles.medium;
}

/** Launch grid of a GEMM over `batch` matrices, before batch chunking. */
export function gemmGrid(t: GemmTile, M: number, N: number): [number, number] {
  return [Math.ceil(N / t.bn), Math.ceil(M / t.bm)];
}

/** Max rank of the broadcast batch dims a matmul kernel supports (more are rejected by the op). */
export const MATMUL_MAX_BATCH_RANK = 6;

/** Parameters baked into one matmul kernel variant. */
export interface MatmulVariant {
  /** dtype of A, C and the bias. */
  dtype: Extract<DType, 'f32' | 'f16'>;
  /** B holds f16 while A and C are f32: B is read as packed halves (works without shader-f16). */
  halfB?: boolean;
  tile: GemmTile;
  /** A is stored [K, M] (its rows are columns of op(A)). */
  transA: boolean;
  transB: boolean;
  vecA: 1 | 4;
  vecB: 1 | 4;
  /** Output rows can be written as vec4 (N % 4 == 0). */
  vecC: boolean;
  bias: boolean;
}

const R = MATMUL_MAX_BATCH_RANK;

/**
 * The batched matmul program: C[z] = op(A)[z] · op(B)[z] (+ bias[n]), C contiguous [batch, M, N].
 * The batch index z is decomposed over `bshape` (the output batch shape, innermost last, `rank`
 * dims) and located in A and B by their batch strides `astr`/`bstr` (0 where broadcast).
 */
export const matmulProgram = wgslProgram({
  name: 'matmul',
  bindings: (v: MatmulVariant): BindingSchema => {
    const vt = (n: 1 | 4) => (n === 4 ? `vec4<${v.dtype}>` : v.dtype);
    return {
      A: { access: 'read', type: vt(v.vecA) },
      B: { access: 'read', type: v.halfB ? packedHalfArray(v.vecB) : vt(v.vecB) },
      ...(v.bias ? { bias: { access: 'read', type: v.dtype } } : {}),
      C: { access: 'read_write', type: vt(v.vecC ? 4 : 1) },
    };
  },
  uniforms: {
    M: 'u32',
    N: 'u32',
    K: 'u32',
    lda: 'u32',
    ldb: 'u32',
    aOff: 'u32',
    bOff: 'u32',
    biasOff: 'u32',
    batchStart: 'u32',
    rank: 'u32',
    bshape: ['u32', R],
    astr: ['u32', R],
    bstr: ['u32', R],
  },
  workgroupSize: (v) => gemmThreads(v.tile),
  body: (v) => {
    const T = v.dtype;
    const f = (n: 1 | 4) => (n === 4 ? 'vec4<f32>' : 'f32');
    // Element index of op(A)[m, k] and op(B)[k, n]; a vec4 covers 4 consecutive elements along
    // the contiguous dim, and the launcher only picks vec4 when that dim, the leading dimension
    // and the base are multiples of 4, so a vec4 is entirely inside or outside the matrix.
    const aIdx = v.transA ? 'aBase + k * u.lda + m' : 'aBase + m * u.lda + k';
    const bIdx = v.transB ? 'bBase + n * u.ldb + k' : 'bBase + k * u.ldb + n';
    const load = (name: string, idx: string, vec: 1 | 4) =>
      vec === 4 ? `${f(4)}(${name}[(${idx}) / 4u])` : `${f(1)}(${name}[${idx}])`;
    const biasAt = (n: string) => (v.bias ? ` + f32(bias[u.biasOff + ${n}])` : '');
    const storeC = v.vecC
      ? `fn storeC(m: u32, n: u32, v: vec4<f32>) {
  if (n < u.N) {
    C[(cBase + m * u.N + n) / 4u] = vec4<${T}>(v${v.bias ? ` + vec4<f32>(${[0, 1, 2, 3].map((c) => `f32(bias[u.biasOff + n + ${c}u])`).join(', ')})` : ''});
  }
}`
      : `fn storeC(m: u32, n: u32, v: vec4<f32>) {
  for (var c = 0u; c < 4u; c++) {
    if (n + c < u.N) { C[cBase + m * u.N + n + c] = ${T}(v[c]${biasAt('n + c')}); }
  }
}`;
    const loaders = `var<private> aBase: u32;
var<private> bBase: u32;
var<private> cBase: u32;
fn prologue(bz: u32) {
  var rem = bz;
  var ao = u.aOff;
  var bo = u.bOff;
  for (var i = i32(u.rank) - 1; i >= 0; i--) {
    let d = bshape_at(u32(i));
    let idx = rem % d;
    rem = rem / d;
    ao += idx * astr_at(u32(i));
    bo += idx * bstr_at(u32(i));
  }
  aBase = ao;
  bBase = bo;
  cBase = bz * u.M * u.N;
}
fn loadA(m: u32, k: u32) -> ${f(v.vecA)} {
  if (m < u.M && k < u.K) { return ${load('A', aIdx, v.vecA)}; }
  return ${f(v.vecA)}(0.0);
}
fn loadB(k: u32, n: u32) -> ${f(v.vecB)} {
  if (k < u.K && n < u.N) { return ${(v.halfB ? packedHalfRead : load)('B', bIdx, v.vecB)}; }
  return ${f(v.vecB)}(0.0);
}
${storeC}
`;
    return gemmWgsl(
      {
        tile: v.tile,
        a: { vec: v.vecA, fast: v.transA ? 'mn' : 'k' },
        b: { vec: v.vecB, fast: v.transB ? 'k' : 'mn' },
      },
      loaders,
    );
  },
});

/** Matrix operand as the launcher sees it: buffer, element offset, leading dim, batch strides. */
export interface MatmulOperand {
  buffer: DeviceBuffer;
  offset: number;
  /** Distance between consecutive rows of the stored matrix (stored [M,K] or [K,M] when transposed). */
  ld: number;
  trans: boolean;
  /** Strides of the operand over the output batch dims (0 where broadcast). */
  batchStrides: readonly number[];
}

/** Everything {@link launchMatmul} needs. */
export interface MatmulLaunch {
  /** dtype of A, C and the bias. */
  dtype: 'f32' | 'f16';
  /** B is f16 while `dtype` is f32 (weight-only f16). */
  halfB?: boolean;
  M: number;
  N: number;
  K: number;
  batchShape: readonly number[];
  a: MatmulOperand;
  b: MatmulOperand;
  bias?: { buffer: DeviceBuffer; offset: number };
  out: DeviceBuffer;
  label: string;
  /** Overrides {@link chooseGemmTile} (tests use it to cover every tile). */
  tile?: GemmTile;
}

/** Records the dispatches of one batched matmul (chunked over the batch if it exceeds the grid limit). */
export function launchMatmul(backend: Backend, p: MatmulLaunch): void {
  if (backend.kind === 'cpu') return cpuMatmul(backend, p);
  const engine = backend;
  const batch = p.batchShape.reduce((x, y) => x * y, 1);
  if (batch === 0 || p.M === 0 || p.N === 0) return;
  const tile = p.tile ?? chooseGemmTile(p.M, p.N, batch, engine);
  // vec4 loads need the contiguous dim, the leading dim, the base and every batch stride 4-aligned.
  const aligned = (o: MatmulOperand, contiguousExtent: number) =>
    contiguousExtent % 4 === 0 &&
    o.ld % 4 === 0 &&
    o.offset % 4 === 0 &&
    o.batchStrides.every((s) => s % 4 === 0);
  const variant: MatmulVariant = {
    dtype: p.dtype,
    halfB: !!p.halfB,
    tile,
    transA: p.a.trans,
    transB: p.b.trans,
    vecA: aligned(p.a, p.a.trans ? p.M : p.K) ? 4 : 1,
    vecB: aligned(p.b, p.b.trans ? p.K : p.N) ? 4 : 1,
    vecC: p.N % 4 === 0,
    bias: !!p.bias,
  };
  const [gx, gy] = gemmGrid(tile, p.M, p.N);
  const maxZ = engine.limits.maxComputeWorkgroupsPerDimension;
  if (gx > maxZ || gy > maxZ)
    throw new Error(`${p.label}: matrix too large for one dispatch (${p.M}x${p.N})`);
  for (let start = 0; start < batch; start += maxZ) {
    matmulProgram.dispatch(engine, variant, {
      label: p.label,
      buffers: {
        A: p.a.buffer,
        B: p.b.buffer,
        ...(p.bias ? { bias: p.bias.buffer } : {}),
        C: p.out,
      },
      uniforms: {
        M: p.M,
        N: p.N,
        K: p.K,
        lda: p.a.ld,
        ldb: p.b.ld,
        aOff: p.a.offset,
        bOff: p.b.offset,
        biasOff: p.bias?.offset ?? 0,
        batchStart: start,
        rank: p.batchShape.length,
        bshape: p.batchShape,
        astr: p.a.batchStrides,
        bstr: p.b.batchStrides,
      },
      workgroups: [gx, gy, Math.min(maxZ, batch - start)],
    });
  }
}
