// Plain-TypeScript float64 references for the understanding expert, written from the HF Qwen3-VL
// formulas: LayerNorm, RMSNorm, linear, GELU, rotate-half RoPE, attention (GQA, additive mask).

export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0 || 0x9e3779b9;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}

/** Row-major matrix of `rows` x `cols`. */
export type Mat = Float64Array;

/** y[r, o] = sum_i x[r, i] w[o, i] + b[o] (PyTorch Linear). */
export function linearRef(x: ArrayLike<number>, rows: number, w: ArrayLike<number>, outF: number, inF: number, b?: ArrayLike<number>): Mat {
  const y = new Float64Array(rows * outF);
  for (let r = 0; r < rows; r++)
    for (let o = 0; o < outF; o++) {
      let acc = b ? b[o] : 0;
      for (let i = 0; i < inF; i++) acc += x[r * inF + i] * w[o * inF + i];
      y[r * outF + o] = acc;
    }
  return y;
}

export function layerNormRef(x: ArrayLike<number>, rows: number, d: number, w: ArrayLike<number>, b: ArrayLike<number>, eps: number): Mat {
  const y = new Float64Array(rows * d);
  for (let r = 0; r < rows; r++) {
    let m = 0;
    for (let i = 0; i < d; i++) m += x[r * d + i];
    m /= d;
    let v = 0;
    for (let i = 0; i < d; i++) v += (x[r * d + i] - m) ** 2;
    v /= d;
    for (let i = 0; i < d; i++) y[r * d + i] = ((x[r * d + i] - m) / Math.sqrt(v + eps)) * w[i] + b[i];
  }
  return y;
}

export function rmsNormRef(x: ArrayLike<number>, rows: number, d: number, w: ArrayLike<number>, eps: number): Mat {
  const y = new Float64Array(rows * d);
  for (let r = 0; r < rows; r++) {
    let ms = 0;
    for (let i = 0; i < d; i++) ms += x[r * d + i] ** 2;
    const inv = 1 / Math.sqrt(ms / d + eps);
    for (let i = 0; i < d; i++) y[r * d + i] = x[r * d + i] * inv * w[i];
  }
  return y;
}

export const geluTanh = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));

/** erf via Abramowitz-Stegun 7.1.26 is too coarse; use a series/continued fraction accurate to 1e-12. */
export function erf(x: number): number {
  const t = Math.abs(x);
  if (t < 3) {
    // Maclaurin series.
    let sum = 0;
    let term = t;
    for (let n = 0; n < 200; n++) {
      sum += term / (2 * n + 1);
      term *= (-t * t) / (n + 1);
      if (Math.abs(term) < 1e-17) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // Continued fraction for erfc.
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (t + f);
  const erfc = Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f);
  return Math.sign(x) * (1 - erfc);
}
export const geluErf = (v: number) => 0.5 * v * (1 + erf(v / Math.SQRT2));

/** Rotate-half RoPE on one vector of length 2·half with angle table row `ang` (length half). */
export function ropeRef(v: ArrayLike<number>, ang: ArrayLike<number>, half: number): Float64Array {
  const out = new Float64Array(2 * half);
  for (let j = 0; j < half; j++) {
    const c = Math.cos(ang[j]);
    const s = Math.sin(ang[j]);
    out[j] = v[j] * c - v[j + half] * s;
    out[j + half] = v[j + half] * c + v[j] * s;
  }
  return out;
}

/**
 * Attention for one sequence: q [Hq][S][Dh], k/v [Hkv][S][Dh], additive mask [S][S] (or null),
 * softmax(q·k·scale + mask)·v → [S][Hq·Dh] (heads concatenated per token).
 */
export function attentionRef(q: Float64Array[][], k: Float64Array[][], v: Float64Array[][], mask: ArrayLike<number> | null, scale: number): Float64Array {
  const hq = q.length;
  const hkv = k.length;
  const s = q[0].length;
  const dh = q[0][0].length;
  const out = new Float64Array(s * hq * dh);
  for (let h = 0; h < hq; h++) {
    const kh = Math.floor(h / (hq / hkv));
    for (let i = 0; i < s; i++) {
      const logits = new Float64Array(s);
      let mx = -Infinity;
      for (let j = 0; j < s; j++) {
        let acc = 0;
        for (let d = 0; d < dh; d++) acc += q[h][i][d] * k[kh][j][d];
        logits[j] = acc * scale + (mask ? mask[i * s + j] : 0);
        mx = Math.max(mx, logits[j]);
      }
      let z = 0;
      for (let j = 0; j < s; j++) z += logits[j] = Math.exp(logits[j] - mx);
      for (let d = 0; d < dh; d++) {
        let acc = 0;
        for (let j = 0; j < s; j++) acc += (logits[j] / z) * v[kh][j][d];
        out[i * hq * dh + h * dh + d] = acc;
      }
    }
  }
  return out;
}

/** Splits [S, H·Dh] rows into [H][S][Dh]. */
export function splitHeads(x: ArrayLike<number>, s: number, h: number, dh: number): Float64Array[][] {
  return Array.from({ length: h }, (_, hh) => Array.from({ length: s }, (_, i) => Float64Array.from({ length: dh }, (_, d) => x[i * h * dh + hh * dh + d])));
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
