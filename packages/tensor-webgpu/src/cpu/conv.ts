// CPU launches of the conv family: each convolution lowers to a packed GEMM (csrc/matmul.c) over an
// im2col matrix built in a scratch block (csrc/conv.c), one GEMM batch entry per (group, image).
import { convGemmSize, type ConvBuffers, type ConvGeometry, type ConvKind } from '../kernels/conv.js';
import { halfStorageOnlyMessage } from '../dtype.js';
import type { DeviceBuffer } from '../runtime/backend.js';
import { cpuBuffer, type CpuEngine } from './cpuEngine.js';
import { cpuGemm } from './matmul.js';
import { conv_im2col, conv_nchw_cnhw, conv_tweight } from './programs/conv.js';

/** Largest im2col block (floats) built at once; bigger batches are processed in chunks of images. */
const MAX_COL_FLOATS = 1 << 24;

const addr = (buf: DeviceBuffer, offset: number) => cpuBuffer(buf).ptr + offset * 4;

/**
 * Builds the im2col matrix of images [i0, i0 + nimg) into `col`: per group [(ci, tap)][(image,
 * pixel)], with the transposed conv's taps when `tconv`.
 */
function im2col(
  engine: CpuEngine,
  g: ConvGeometry,
  bufs: ConvBuffers,
  i0: number,
  nimg: number,
  col: DeviceBuffer,
  tconv: boolean,
  label: string,
): void {
  const { cin, h, w, ho, wo, kh, kw, sh, sw, ph, pw, dh, dw, groups } = g;
  engine.run(
    conv_im2col,
    {
      x: addr(bufs.x.buffer, bufs.x.offset + i0 * cin * h * w),
      col: cpuBuffer(col).ptr,
      nimg,
      ...{ cin, h, w, ho, wo, kh, kw, sh, sw, ph, pw, dh, dw, groups },
      tconv: tconv ? 1 : 0,
    },
    { label, work: cin * kh * kw * nimg * ho * wo },
  );
}

/**
 * The CPU branch of `launchConv` for every {@link ConvKind} (see src/kernels/conv.ts for the products).
 * x and the output are f32; the weight of fwd/tconv may be f16 (`halfW`, widened when packed).
 */
export function cpuConv(
  engine: CpuEngine,
  kind: ConvKind,
  dtype: 'f32' | 'f16',
  g: ConvGeometry,
  bufs: ConvBuffers,
  label: string,
  halfW: boolean,
): void {
  if (dtype !== 'f32') throw new Error(halfStorageOnlyMessage(label));
  const { M, N } = convGemmSize(kind, g);
  if (M === 0 || N === 0) return;
  if (kind === 'wgrad') return weightGrad(engine, g, bufs, label);
  const cinG = g.cin / g.groups;
  const coutG = g.cout / g.groups;
  const kk = g.kh * g.kw;
  const K = cinG * kk;
  const hw = g.h * g.w;
  const hwo = g.ho * g.wo;
  // A = the weight as [group][m][(ci, tap)]: the conv weight is already that; the transposed conv's
  // [group·cinG + ci][m][tap] is reordered (and widened) into a scratch block.
  let wt: DeviceBuffer | null = null;
  let a = { buffer: bufs.w.buffer, offset: bufs.w.offset, half: halfW };
  if (kind === 'tconv' && K > 0) {
    wt = engine.alloc(g.groups * coutG * K * 4, `${label} (weight reorder)`);
    engine.run(
      conv_tweight,
      {
        w: cpuBuffer(bufs.w.buffer).ptr + bufs.w.offset * (halfW ? 2 : 4),
        wt: cpuBuffer(wt).ptr,
        groups: g.groups,
        cing: cinG,
        coutg: coutG,
        kk,
        half: halfW ? 1 : 0,
      },
      { label, work: g.groups * coutG * K },
    );
    a = { buffer: wt, offset: 0, half: false };
  }
  // A 1x1 kernel with unit stride and no padding reads x itself as the B matrix [cinG, h·w].
  const direct =
    g.kh === 1 &&
    g.kw === 1 &&
    g.sh === 1 &&
    g.sw === 1 &&
    g.ph === 0 &&
    g.pw === 0 &&
    g.ho === g.h &&
    g.wo === g.w;
  const chunk = direct ? g.batch : Math.max(1, Math.floor(MAX_COL_FLOATS / Math.max(1, g.cin * kk * hwo)));
  const col = direct
    ? null
    : engine.alloc(Math.max(1, g.cin * kk * Math.min(chunk, g.batch) * hwo) * 4, `${label} (im2col)`);
  try {
    for (let i0 = 0; i0 < g.batch; i0 += chunk) {
      const nimg = Math.min(chunk, g.batch - i0);
      const L = nimg * hwo;
      let b;
      if (col) {
        im2col(engine, g, bufs, i0, nimg, col, kind === 'tconv', label);
        b = { buffer: col, offset: 0, rs: L, cs: 1, batchStrides: [K * L, hwo] };
      } else {
        b = {
          buffer: bufs.x.buffer,
          offset: bufs.x.offset + i0 * g.cin * hw,
          rs: hw,
          cs: 1,
          batchStrides: [cinG * hw, g.cin * hw],
        };
      }
      cpuGemm(engine, {
        M: coutG,
        N: hwo,
        K,
        batchShape: [g.groups, nimg],
        a: { ...a, rs: K, cs: 1, batchStrides: [coutG * K, 0] },
        b,
        c: {
          buffer: bufs.out,
          offset: i0 * g.cout * hwo,
          ld: hwo,
          batchStrides: [coutG * hwo, g.cout * hwo],
        },
        bias: bufs.bias
          ? { buffer: bufs.bias.buffer, offset: bufs.bias.offset, per: 'row', batchStrides: [coutG, 0] }
          : undefined,
        label,
      });
    }
  } finally {
    if (col) engine.release(col);
    if (wt) engine.release(wt);
  }
}

/** dW[g·coutG + m, (ci, tap)] = Σ over (image, pixel) of dy · im2col(x), accumulated over image chunks. */
function weightGrad(engine: CpuEngine, g: ConvGeometry, bufs: ConvBuffers, label: string): void {
  const cinG = g.cin / g.groups;
  const coutG = g.cout / g.groups;
  const kk = g.kh * g.kw;
  const N = cinG * kk;
  const hwo = g.ho * g.wo;
  const Ltot = g.batch * hwo;
  // A = dy as [cout][(image, pixel)]: dy itself for one image, else a CNHW copy.
  let dyT: DeviceBuffer | null = null;
  let dy = { buffer: bufs.w.buffer, offset: bufs.w.offset };
  if (g.batch > 1) {
    dyT = engine.alloc(g.cout * Ltot * 4, `${label} (dy reorder)`);
    engine.run(
      conv_nchw_cnhw,
      { src: addr(bufs.w.buffer, bufs.w.offset), dst: cpuBuffer(dyT).ptr, n: g.batch, c: g.cout, hw: hwo },
      { label, work: g.cout * Ltot },
    );
    dy = { buffer: dyT, offset: 0 };
  }
  const chunk = Math.max(1, Math.floor(MAX_COL_FLOATS / Math.max(1, g.cin * kk * hwo)));
  const col = engine.alloc(
    Math.max(1, g.cin * kk * Math.min(chunk, Math.max(g.batch, 1)) * hwo) * 4,
    `${label} (im2col)`,
  );
  try {
    // No images: dW = 0 (the GEMM's empty sum).
    for (let i0 = 0; i0 < Math.max(g.batch, 1); i0 += chunk) {
      const nimg = Math.min(chunk, g.batch - i0);
      const L = nimg * hwo;
      if (L > 0) {
        im2col(engine, g, bufs, i0, nimg, col, false, label);
      }
      cpuGemm(engine, {
        M: coutG,
        N,
        K: L,
        batchShape: [g.groups],
        a: {
          buffer: dy.buffer,
          offset: dy.offset + i0 * hwo,
          rs: g.batch > 1 ? Ltot : hwo,
          cs: 1,
          batchStrides: [coutG * (g.batch > 1 ? Ltot : hwo)],
        },
        b: { buffer: col, offset: 0, rs: 1, cs: L, batchStrides: [N * L] },
        c: { buffer: bufs.out, offset: 0, ld: N, batchStrides: [coutG * N] },
        accumulate: i0 > 0,
        label,
      });
    }
  } finally {
    engine.release(col);
    if (dyT) engine.release(dyT);
  }
}
