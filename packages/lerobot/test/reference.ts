// Plain, deliberately naive reference implementations (float64) used to check the package.

/** Direct 2-D antialiased triangle-filter resize with pad (no precomputed taps, no separable passes). */
export function referenceResizeWithPad(
  src: Uint8Array,
  h: number,
  w: number,
  dstH: number,
  dstW: number,
  pad: number,
): Float64Array {
  const ratio = Math.max(w / dstW, h / dstH);
  const rh = Math.trunc(h / ratio);
  const rw = Math.trunc(w / ratio);
  const top = Math.floor((dstH - rh) / 2);
  const left = Math.floor((dstW - rw) / 2);
  const out = new Float64Array(dstH * dstW * 3).fill(pad);
  const sy = h / rh;
  const sx = w / rw;
  const supY = Math.max(1, sy);
  const supX = Math.max(1, sx);
  for (let y = 0; y < rh; y++) {
    const cy = (y + 0.5) * sy - 0.5;
    for (let x = 0; x < rw; x++) {
      const cx = (x + 0.5) * sx - 0.5;
      const acc = [0, 0, 0];
      let wsum = 0;
      for (let j = 0; j < h; j++) {
        const wy = Math.max(0, 1 - Math.abs(j - cy) / supY);
        if (wy === 0) continue;
        for (let i = 0; i < w; i++) {
          const wx = Math.max(0, 1 - Math.abs(i - cx) / supX);
          if (wx === 0) continue;
          for (let c = 0; c < 3; c++) acc[c] += wy * wx * src[(j * w + i) * 3 + c];
          wsum += wy * wx;
        }
      }
      for (let c = 0; c < 3; c++) out[((top + y) * dstW + left + x) * 3 + c] = acc[c] / wsum;
    }
  }
  return out;
}

/** Mean and population std per column of rows. */
export function referenceMoments(rows: number[][]): {
  mean: number[];
  std: number[];
  min: number[];
  max: number[];
} {
  const d = rows[0].length;
  const mean = Array.from({ length: d }, (_, j) => rows.reduce((a, r) => a + r[j], 0) / rows.length);
  const std = Array.from({ length: d }, (_, j) =>
    Math.sqrt(rows.reduce((a, r) => a + (r[j] - mean[j]) ** 2, 0) / rows.length),
  );
  const min = Array.from({ length: d }, (_, j) => Math.min(...rows.map((r) => r[j])));
  const max = Array.from({ length: d }, (_, j) => Math.max(...rows.map((r) => r[j])));
  return { mean, std, min, max };
}
