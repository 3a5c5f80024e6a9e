// Host-side position tables of the vision tower, all in the tower's token order: patches grouped by
// 2x2 merge block (block row, block col, row in block, col in block), so the merger can fold each run
// of 4 consecutive tokens into one. Plain TypeScript: they depend only on the grid size.

/** Row and column (in patches) of each token of a `gridH x gridW` patch grid in merge-block order. */
export function mergeBlockOrder(
  gridH: number,
  gridW: number,
  merge: number,
): { row: Int32Array; col: Int32Array } {
  if (gridH % merge !== 0 || gridW % merge !== 0)
    throw new Error(`mergeBlockOrder: grid ${gridH}x${gridW} is not divisible by the merge size ${merge}`);
  const n = gridH * gridW;
  const row = new Int32Array(n);
  const col = new Int32Array(n);
  let s = 0;
  for (let bh = 0; bh < gridH / merge; bh++) {
    for (let bw = 0; bw < gridW / merge; bw++) {
      for (let ih = 0; ih < merge; ih++) {
        for (let iw = 0; iw < merge; iw++) {
          row[s] = bh * merge + ih;
          col[s] = bw * merge + iw;
          s++;
        }
      }
    }
  }
  return { row, col };
}

/** Four-corner bilinear lookup into the learned position grid (indices and weights per corner). */
export interface PosEmbedInterpolation {
  /** Embedding row per corner (top-left, top-right, bottom-left, bottom-right), each of length S. */
  index: [Int32Array, Int32Array, Int32Array, Int32Array];
  /** Weight per corner, each of length S; the four sum to 1 per token. */
  weight: [Float32Array, Float32Array, Float32Array, Float32Array];
}

/**
 * Bilinear interpolation of a `side x side` learned grid to a `gridH x gridW` patch grid, as HF
 * Qwen3-VL `fast_pos_embed_interpolate`: sample points `linspace(0, side-1, n)` per axis, floor and
 * floor+1 (clamped) corners, weights from the fractional parts; tokens in merge-block order.
 */
export function posEmbedInterpolation(
  side: number,
  gridH: number,
  gridW: number,
  merge: number,
): PosEmbedInterpolation {
  const lin = (n: number) =>
    Float64Array.from({ length: n }, (_, i) => (n === 1 ? 0 : (i * (side - 1)) / (n - 1)));
  const hs = lin(gridH);
  const ws = lin(gridW);
  const { row, col } = mergeBlockOrder(gridH, gridW, merge);
  const n = row.length;
  const index = [
    new Int32Array(n),
    new Int32Array(n),
    new Int32Array(n),
    new Int32Array(n),
  ] as PosEmbedInterpolation['index'];
  const weight = [
    new Float32Array(n),
    new Float32Array(n),
    new Float32Array(n),
    new Float32Array(n),
  ] as PosEmbedInterpolation['weight'];
  for (let s = 0; s < n; s++) {
    const y = hs[row[s]];
    const x = ws[col[s]];
    const y0 = Math.floor(y);
    const x0 = Math.floor(x);
    const y1 = Math.min(y0 + 1, side - 1);
    const x1 = Math.min(x0 + 1, side - 1);
    const dy = y - y0;
    const dx = x - x0;
    index[0][s] = y0 * side + x0;
    index[1][s] = y0 * side + x1;
    index[2][s] = y1 * side + x0;
    index[3][s] = y1 * side + x1;
    weight[0][s] = (1 - dy) * (1 - dx);
    weight[1][s] = (1 - dy) * dx;
    weight[2][s] = dy * (1 - dx);
    weight[3][s] = dy * dx;
  }
  return { index, weight };
}

/**
 * 2-D rotary angles of the vision attention, `[S, headDim/2]` row-major in merge-block order: the
 * first headDim/4 slots rotate with the patch row, the next headDim/4 with the column, at
 * frequencies `theta^(-2j / (headDim/2))` (HF `Qwen3VLVisionRotaryEmbedding(head_dim // 2)`).
 * Use with the rotate-half convention: cos/sin of these angles.
 */
export function visionRotaryAngles(
  gridH: number,
  gridW: number,
  merge: number,
  headDim: number,
  theta: number,
): Float64Array {
  if (headDim % 4 !== 0) throw new Error(`visionRotaryAngles: headDim ${headDim} must be a multiple of 4`);
  const half = headDim / 2;
  const quarter = headDim / 4;
  const inv = Float64Array.from({ length: quarter }, (_, j) => 1 / theta ** ((2 * j) / half));
  const { row, col } = mergeBlockOrder(gridH, gridW, merge);
  const out = new Float64Array(row.length * half);
  for (let s = 0; s < row.length; s++) {
    for (let j = 0; j < quarter; j++) {
      out[s * half + j] = row[s] * inv[j];
      out[s * half + quarter + j] = col[s] * inv[j];
    }
  }
  return out;
}

/** Image size the Qwen2/3-VL processor resizes to (HF `smart_resize`). */
export interface SmartResizeOptions {
  /** Side multiple: patch size x merge size (32). */
  factor?: number;
  /** Minimum pixel count (65,536 = 256² for Qwen3-VL). */
  minPixels?: number;
  /** Maximum pixel count (16,777,216 for Qwen3-VL). */
  maxPixels?: number;
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * HF `smart_resize`: round each side to a multiple of `factor`, then scale up to at least `minPixels`
 * or down to at most `maxPixels` keeping the aspect ratio. 224x224 → 256x256.
 */
export function smartResize(
  height: number,
  width: number,
  options: SmartResizeOptions = {},
): [number, number] {
  const factor = options.factor ?? 32;
  const minPixels = options.minPixels ?? 65536;
  const maxPixels = options.maxPixels ?? 16777216;
  if (!(height > 0 && width > 0)) throw new Error(`smartResize: invalid size ${height}x${width}`);
  if (Math.max(height, width) / Math.min(height, width) > 200)
    throw new Error(`smartResize: aspect ratio of ${height}x${width} exceeds 200`);
  let h = roundHalfEven(height / factor) * factor;
  let w = roundHalfEven(width / factor) * factor;
  if (h * w > maxPixels) {
    const beta = Math.sqrt((height * width) / maxPixels);
    h = Math.max(factor, Math.floor(height / beta / factor) * factor);
    w = Math.max(factor, Math.floor(width / beta / factor) * factor);
  } else if (h * w < minPixels) {
    const beta = Math.sqrt(minPixels / (height * width));
    h = Math.ceil((height * beta) / factor) * factor;
    w = Math.ceil((width * beta) / factor) * factor;
  }
  return [h, w];
}
