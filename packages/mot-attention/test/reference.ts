// Plain-TS float64 reference of one MoT layer (SPEC §1), written from the spec, independent of the
// package: RMSNorm, projections, per-head q/k norm, interleaved M-RoPE, GQA attention with an
// additive mask, o_proj, post-norm SwiGLU.

/** Weights of one expert's layer, row-major PyTorch layouts ([out, in]). */
export interface RefExpert {
  width: number;
  mlpWidth: number;
  inputNorm: Float64Array;
  q: Float64Array;
  k: Float64Array;
  v: Float64Array;
  o: Float64Array;
  qNorm: Float64Array;
  kNorm: Float64Array;
  postNorm: Float64Array;
  gate: Float64Array;
  up: Float64Array;
  down: Float64Array;
}

export interface RefConfig {
  qHeads: number;
  kvHeads: number;
  headDim: number;
  eps: number;
  theta: number;
  maskValue: number;
}

function rms(
  x: Float64Array,
  off: number,
  n: number,
  w: Float64Array,
  eps: number,
  out: Float64Array,
  outOff: number,
): void {
  let s = 0;
  for (let i = 0; i < n; i++) s += x[off + i] * x[off + i];
  const r = 1 / Math.sqrt(s / n + eps);
  for (let i = 0; i < n; i++) out[outOff + i] = x[off + i] * r * w[i];
}

/** y[r, :] = x[r, :] W^T for rows r; W [out, in]. */
export function linearRef(
  x: Float64Array,
  rows: number,
  inF: number,
  w: Float64Array,
  outF: number,
): Float64Array {
  const y = new Float64Array(rows * outF);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outF; o++) {
      let s = 0;
      for (let i = 0; i < inF; i++) s += x[r * inF + i] * w[o * inF + i];
      y[r * outF + o] = s;
    }
  }
  return y;
}

/** Axis (0 = t, 1 = h, 2 = w) of rotary slot s under Qwen3-VL's interleaved layout, sections [24, 20, 20]. */
export function mropeAxis(s: number): number {
  if (s < 60 && s % 3 === 1) return 1;
  if (s < 60 && s % 3 === 2) return 2;
  return 0;
}

/**
 * One MoT layer for one sample. `xs[e]` is expert e's hidden [S_e, width_e] (null = absent);
 * `pos` the (t, h, w) ids of the concatenated tokens, `allowed` [S, S] (1 = attend).
 */
export function motLayerRef(
  cfg: RefConfig,
  experts: RefExpert[],
  xs: (Float64Array | null)[],
  pos: [ArrayLike<number>, ArrayLike<number>, ArrayLike<number>],
  allowed: ArrayLike<number>,
): (Float64Array | null)[] {
  const { qHeads: Hq, kvHeads: Hkv, headDim: D, eps } = cfg;
  const half = D / 2;
  const lens = xs.map((x, e) => (x ? x.length / experts[e].width : 0));
  const S = lens.reduce((a, b) => a + b, 0);
  const Q = new Float64Array(S * Hq * D);
  const K = new Float64Array(S * Hkv * D);
  const V = new Float64Array(S * Hkv * D);
  let t0 = 0;
  xs.forEach((x, e) => {
    if (!x) return;
    const E = experts[e];
    const n = lens[e];
    const h = new Float64Array(n * E.width);
    for (let r = 0; r < n; r++) rms(x, r * E.width, E.width, E.inputNorm, eps, h, r * E.width);
    const q = linearRef(h, n, E.width, E.q, Hq * D);
    const k = linearRef(h, n, E.width, E.k, Hkv * D);
    const v = linearRef(h, n, E.width, E.v, Hkv * D);
    for (let r = 0; r < n; r++) {
      for (let hh = 0; hh < Hq; hh++) rms(q, (r * Hq + hh) * D, D, E.qNorm, eps, Q, ((t0 + r) * Hq + hh) * D);
      for (let hh = 0; hh < Hkv; hh++)
        rms(k, (r * Hkv + hh) * D, D, E.kNorm, eps, K, ((t0 + r) * Hkv + hh) * D);
    }
    V.set(v, t0 * Hkv * D);
    t0 += n;
  });
  // Rotary (rotate-half): slot s pairs dims s and s + D/2, angle = pos[axis(s)] * theta^(-2s/D).
  const rope = (buf: Float64Array, H: number) => {
    for (let i = 0; i < S; i++) {
      for (let hh = 0; hh < H; hh++) {
        const o = (i * H + hh) * D;
        for (let s = 0; s < half; s++) {
          const ang = pos[mropeAxis(s)][i] * Math.pow(cfg.theta, (-2 * s) / D);
          const c = Math.cos(ang);
          const sn = Math.sin(ang);
          const a = buf[o + s];
          const b = buf[o + s + half];
          buf[o + s] = a * c - b * sn;
          buf[o + s + half] = b * c + a * sn;
        }
      }
    }
  };
  rope(Q, Hq);
  rope(K, Hkv);
  // Attention: q head hh uses kv head floor(hh / (Hq / Hkv)).
  const A = new Float64Array(S * Hq * D);
  const scale = 1 / Math.sqrt(D);
  const logits = new Float64Array(S);
  for (let hh = 0; hh < Hq; hh++) {
    const kh = Math.floor(hh / (Hq / Hkv));
    for (let i = 0; i < S; i++) {
      let m = -Infinity;
      for (let j = 0; j < S; j++) {
        let s = 0;
        for (let d = 0; d < D; d++) s += Q[(i * Hq + hh) * D + d] * K[(j * Hkv + kh) * D + d];
        logits[j] = s * scale + (allowed[i * S + j] ? 0 : cfg.maskValue);
        m = Math.max(m, logits[j]);
      }
      let z = 0;
      for (let j = 0; j < S; j++) z += logits[j] = Math.exp(logits[j] - m);
      for (let j = 0; j < S; j++) {
        const p = logits[j] / z;
        for (let d = 0; d < D; d++) A[(i * Hq + hh) * D + d] += p * V[(j * Hkv + kh) * D + d];
      }
    }
  }
  const out: (Float64Array | null)[] = [];
  t0 = 0;
  xs.forEach((x, e) => {
    if (!x) {
      out.push(null);
      return;
    }
    const E = experts[e];
    const n = lens[e];
    const o = linearRef(A.subarray(t0 * Hq * D, (t0 + n) * Hq * D), n, Hq * D, E.o, E.width);
    const r1 = new Float64Array(n * E.width);
    for (let i = 0; i < r1.length; i++) r1[i] = x[i] + o[i];
    const hn = new Float64Array(n * E.width);
    for (let r = 0; r < n; r++) rms(r1, r * E.width, E.width, E.postNorm, eps, hn, r * E.width);
    const g = linearRef(hn, n, E.width, E.gate, E.mlpWidth);
    const u = linearRef(hn, n, E.width, E.up, E.mlpWidth);
    for (let i = 0; i < g.length; i++) g[i] = (g[i] / (1 + Math.exp(-g[i]))) * u[i];
    const dn = linearRef(g, n, E.mlpWidth, E.down, E.width);
    for (let i = 0; i < r1.length; i++) r1[i] += dn[i];
    out.push(r1);
    t0 += n;
  });
  return out;
}
