// Haar wavelet patcher of Cosmos-Tokenizer, built from shape ops and elementwise sums so it runs
// (and differentiates) on the GPU without a dedicated kernel. Per 2x2 block a b / c d:
// LL=(a+b+c+d)/4, LH=(a+b-c-d)/4, HL=(a-b+c-d)/4, HH=(a-b-c+d)/4, channels subband-major.
// (A 4x4 matmul would be shorter, but the core's matmul is slow for M = 4 with a huge N.)
import { add, concat, contiguous, mul, permute, reshape, slice, sub, tidy, type Tensor } from '@vla/tensor-webgpu';

/** The 4-point Haar butterfly along axis 1 of [n, 4, K]: (p + q + r + s, p + q - r - s, p - q + r - s, p - q - r + s) · scale. */
function butterfly(x: Tensor, scale: number): Tensor {
  const [p, q, r, s] = [0, 1, 2, 3].map((i) => slice(x, 1, i, i + 1));
  const pq = add(p, q);
  const rs = add(r, s);
  const pmq = sub(p, q);
  const rms = sub(r, s);
  const out = concat([add(pq, rs), sub(pq, rs), add(pmq, rms), sub(pmq, rms)], 1);
  return scale === 1 ? out : mul(out, scale);
}

function check(x: Tensor, what: string): [number, number, number, number] {
  if (x.rank !== 4) throw new Error(`${what}: expected an NCHW tensor, got shape [${x.shape.join(', ')}]`);
  return x.shape as [number, number, number, number];
}

/** One level of the Haar transform: [N, C, H, W] → [N, 4C, H/2, W/2] (LL, LH, HL, HH channel blocks). */
export function haarLevel(x: Tensor): Tensor {
  const [n, c, h, w] = check(x, 'haarLevel');
  if (h % 2 !== 0 || w % 2 !== 0) throw new Error(`haarLevel: H and W must be even, got ${h}x${w}`);
  const h2 = h / 2;
  const w2 = w / 2;
  return tidy(() => {
    // [n, c, h2, dy, w2, dx] → [n, dy, dx, c, h2, w2]: the four pixels of each block become a 4-axis.
    const blocks = contiguous(permute(reshape(x, [n, c, h2, 2, w2, 2]), [0, 3, 5, 1, 2, 4]));
    // Rows of the butterfly: a, b, c, d → LL, LH, HL, HH.
    return reshape(butterfly(reshape(blocks, [n, 4, c * h2 * w2]), 0.25), [n, 4 * c, h2, w2]);
  });
}

/** Inverse of {@link haarLevel}: [N, 4C, H, W] → [N, C, 2H, 2W]. */
export function inverseHaarLevel(y: Tensor): Tensor {
  const [n, c4, h2, w2] = check(y, 'inverseHaarLevel');
  if (c4 % 4 !== 0) throw new Error(`inverseHaarLevel: channels must be a multiple of 4, got ${c4}`);
  const c = c4 / 4;
  return tidy(() => {
    // The same butterfly on LL, LH, HL, HH gives a, b, c, d (the transform is its own inverse up to 4).
    const pix = butterfly(reshape(y, [n, 4, c * h2 * w2]), 1);
    // [n, dy, dx, c, h2, w2] → [n, c, h2, dy, w2, dx]
    const img = contiguous(permute(reshape(pix, [n, 2, 2, c, h2, w2]), [0, 3, 4, 1, 5, 2]));
    return reshape(img, [n, c, 2 * h2, 2 * w2]);
  });
}

/**
 * The Cosmos Haar patcher: `levels` wavelet levels, [N, C, H, W] → [N, C·4^levels, H/2^levels, W/2^levels]
 * (2 levels: 3x256² → 48x64²). H and W must be divisible by 2^levels.
 */
export function haarPatch(x: Tensor, levels = 2): Tensor {
  const [, , h, w] = check(x, 'haarPatch');
  const f = 2 ** levels;
  if (h % f !== 0 || w % f !== 0) throw new Error(`haarPatch: H and W must be divisible by ${f} for ${levels} levels, got ${h}x${w}`);
  if (levels === 0) return contiguous(x);
  return tidy(() => {
    let y = x;
    for (let i = 0; i < levels; i++) y = haarLevel(y);
    return y;
  });
}

/** Inverse of {@link haarPatch}: [N, C·4^levels, h, w] → [N, C, h·2^levels, w·2^levels]. */
export function haarUnpatch(y: Tensor, levels = 2): Tensor {
  const [, c] = check(y, 'haarUnpatch');
  if (c % 4 ** levels !== 0) throw new Error(`haarUnpatch: channels ${c} not divisible by 4^${levels}`);
  if (levels === 0) return contiguous(y);
  return tidy(() => {
    let x = y;
    for (let i = 0; i < levels; i++) x = inverseHaarLevel(x);
    return x;
  });
}
