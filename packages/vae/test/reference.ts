// Plain-TypeScript float64 references for the tokenizer's pieces, written from the SPEC formulas
// (not from the GPU code): Haar patcher, conv2d, GroupNorm, SiLU, ResBlock, AttnBlock.

/** A dense NCHW (or any-rank) array. */
export interface Arr {
  data: Float64Array;
  shape: number[];
}

export function arr(data: ArrayLike<number>, shape: number[]): Arr {
  return { data: Float64Array.from(data), shape: [...shape] };
}

/** Seeded uniform floats in [lo, hi), rounded to f32. */
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

/** One Haar level per SPEC §1: [N,C,H,W] → [N,4C,H/2,W/2], subband-major (LL, LH, HL, HH). */
export function haarRef(x: Arr): Arr {
  const [n, c, h, w] = x.shape;
  const h2 = h / 2;
  const w2 = w / 2;
  const out = new Float64Array(x.data.length);
  const at = (b: number, ch: number, i: number, j: number) => x.data[((b * c + ch) * h + i) * w + j];
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let i = 0; i < h2; i++)
        for (let j = 0; j < w2; j++) {
          const a = at(b, ch, 2 * i, 2 * j);
          const bb = at(b, ch, 2 * i, 2 * j + 1);
          const cc = at(b, ch, 2 * i + 1, 2 * j);
          const d = at(b, ch, 2 * i + 1, 2 * j + 1);
          const sub = [(a + bb + cc + d) / 4, (a + bb - cc - d) / 4, (a - bb + cc - d) / 4, (a - bb - cc + d) / 4];
          for (let s = 0; s < 4; s++) out[((b * 4 * c + s * c + ch) * h2 + i) * w2 + j] = sub[s];
        }
  return { data: out, shape: [n, 4 * c, h2, w2] };
}

/** Inverse Haar level per SPEC §1: a=LL+LH+HL+HH, b=LL+LH-HL-HH, c=LL-LH+HL-HH, d=LL-LH-HL+HH. */
export function inverseHaarRef(y: Arr): Arr {
  const [n, c4, h2, w2] = y.shape;
  const c = c4 / 4;
  const h = 2 * h2;
  const w = 2 * w2;
  const out = new Float64Array(y.data.length);
  const at = (b: number, s: number, ch: number, i: number, j: number) => y.data[((b * c4 + s * c + ch) * h2 + i) * w2 + j];
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let i = 0; i < h2; i++)
        for (let j = 0; j < w2; j++) {
          const ll = at(b, 0, ch, i, j);
          const lh = at(b, 1, ch, i, j);
          const hl = at(b, 2, ch, i, j);
          const hh = at(b, 3, ch, i, j);
          const base = (b * c + ch) * h;
          out[(base + 2 * i) * w + 2 * j] = ll + lh + hl + hh;
          out[(base + 2 * i) * w + 2 * j + 1] = ll + lh - hl - hh;
          out[(base + 2 * i + 1) * w + 2 * j] = ll - lh + hl - hh;
          out[(base + 2 * i + 1) * w + 2 * j + 1] = ll - lh - hl + hh;
        }
  return { data: out, shape: [n, c, h, w] };
}

/** 2-D convolution (cross-correlation), weight [O, I, kh, kw], zero padding [top, bottom, left, right]. */
export function conv2dRef(x: Arr, weight: Arr, bias: Arr | null, stride: number, pad: [number, number, number, number]): Arr {
  const [n, ci, h, w] = x.shape;
  const [co, ci2, kh, kw] = weight.shape;
  if (ci !== ci2) throw new Error('conv2dRef: channel mismatch');
  const ho = Math.floor((h + pad[0] + pad[1] - kh) / stride) + 1;
  const wo = Math.floor((w + pad[2] + pad[3] - kw) / stride) + 1;
  const out = new Float64Array(n * co * ho * wo);
  for (let b = 0; b < n; b++)
    for (let o = 0; o < co; o++)
      for (let i = 0; i < ho; i++)
        for (let j = 0; j < wo; j++) {
          let acc = bias ? bias.data[o] : 0;
          for (let c = 0; c < ci; c++)
            for (let u = 0; u < kh; u++) {
              const y = i * stride + u - pad[0];
              if (y < 0 || y >= h) continue;
              for (let v = 0; v < kw; v++) {
                const xx = j * stride + v - pad[2];
                if (xx < 0 || xx >= w) continue;
                acc += weight.data[((o * ci + c) * kh + u) * kw + v] * x.data[((b * ci + c) * h + y) * w + xx];
              }
            }
          out[((b * co + o) * ho + i) * wo + j] = acc;
        }
  return { data: out, shape: [n, co, ho, wo] };
}

/** GroupNorm over (C/groups, H, W) per sample, biased variance, affine. */
export function groupNormRef(x: Arr, groups: number, weight: Arr, bias: Arr, eps: number): Arr {
  const [n, c, h, w] = x.shape;
  const per = (c / groups) * h * w;
  const out = new Float64Array(x.data.length);
  for (let b = 0; b < n; b++)
    for (let g = 0; g < groups; g++) {
      const start = (b * c + g * (c / groups)) * h * w;
      let mean = 0;
      for (let k = 0; k < per; k++) mean += x.data[start + k];
      mean /= per;
      let v = 0;
      for (let k = 0; k < per; k++) v += (x.data[start + k] - mean) ** 2;
      v /= per;
      const inv = 1 / Math.sqrt(v + eps);
      for (let k = 0; k < per; k++) {
        const ch = g * (c / groups) + Math.floor(k / (h * w));
        out[start + k] = (x.data[start + k] - mean) * inv * weight.data[ch] + bias.data[ch];
      }
    }
  return { data: out, shape: [...x.shape] };
}

export function siluRef(x: Arr): Arr {
  return { data: x.data.map((v) => v / (1 + Math.exp(-v))), shape: [...x.shape] };
}

export function addRef(a: Arr, b: Arr): Arr {
  return { data: a.data.map((v, i) => v + b.data[i]), shape: [...a.shape] };
}

/** Parameters by state-dict name, as float64 arrays. */
export type Params = Map<string, Arr>;

/** Cosmos ResnetBlock: conv2(SiLU(GN2(conv1(SiLU(GN1(x)))))) + (nin_shortcut(x) or x). */
export function resBlockRef(x: Arr, p: Params, prefix: string, groups: number, eps: number): Arr {
  const g = (k: string) => {
    const v = p.get(prefix + k);
    if (!v) throw new Error(`missing ${prefix + k}`);
    return v;
  };
  let h = siluRef(groupNormRef(x, groups, g('norm1.weight'), g('norm1.bias'), eps));
  h = conv2dRef(h, g('conv1.weight'), g('conv1.bias'), 1, [1, 1, 1, 1]);
  h = siluRef(groupNormRef(h, groups, g('norm2.weight'), g('norm2.bias'), eps));
  h = conv2dRef(h, g('conv2.weight'), g('conv2.bias'), 1, [1, 1, 1, 1]);
  const skip = p.has(prefix + 'nin_shortcut.weight') ? conv2dRef(x, g('nin_shortcut.weight'), g('nin_shortcut.bias'), 1, [0, 0, 0, 0]) : x;
  return addRef(skip, h);
}

/** Cosmos AttnBlock: single head over H·W with GN, 1x1 q/k/v, softmax(q·k/√C), proj_out, residual. */
export function attnBlockRef(x: Arr, p: Params, prefix: string, groups: number, eps: number): Arr {
  const g = (k: string) => p.get(prefix + k)!;
  const [n, c, h, w] = x.shape;
  const hw = h * w;
  const hn = groupNormRef(x, groups, g('norm.weight'), g('norm.bias'), eps);
  const q = conv2dRef(hn, g('q.weight'), g('q.bias'), 1, [0, 0, 0, 0]);
  const k = conv2dRef(hn, g('k.weight'), g('k.bias'), 1, [0, 0, 0, 0]);
  const v = conv2dRef(hn, g('v.weight'), g('v.bias'), 1, [0, 0, 0, 0]);
  const o = new Float64Array(n * c * hw);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < hw; i++) {
      const logits = new Float64Array(hw);
      let mx = -Infinity;
      for (let j = 0; j < hw; j++) {
        let s = 0;
        for (let ch = 0; ch < c; ch++) s += q.data[(b * c + ch) * hw + i] * k.data[(b * c + ch) * hw + j];
        logits[j] = s / Math.sqrt(c);
        mx = Math.max(mx, logits[j]);
      }
      let z = 0;
      for (let j = 0; j < hw; j++) z += logits[j] = Math.exp(logits[j] - mx);
      for (let ch = 0; ch < c; ch++) {
        let acc = 0;
        for (let j = 0; j < hw; j++) acc += (logits[j] / z) * v.data[(b * c + ch) * hw + j];
        o[(b * c + ch) * hw + i] = acc;
      }
    }
  const proj = conv2dRef({ data: o, shape: [n, c, h, w] }, g('proj_out.weight'), g('proj_out.bias'), 1, [0, 0, 0, 0]);
  return addRef(x, proj);
}

/** Nearest-neighbour x2 upsampling. */
export function upsampleNearestRef(x: Arr): Arr {
  const [n, c, h, w] = x.shape;
  const out = new Float64Array(n * c * 4 * h * w);
  for (let b = 0; b < n * c; b++)
    for (let i = 0; i < 2 * h; i++)
      for (let j = 0; j < 2 * w; j++) out[(b * 2 * h + i) * 2 * w + j] = x.data[(b * h + (i >> 1)) * w + (j >> 1)];
  return { data: out, shape: [n, c, 2 * h, 2 * w] };
}

/** Largest |a - b|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
