// Plain-TS float64 references of the openpi flow-matching formulas, written from SPEC §1.

/** [sin(2πt/p_i)..., cos(2πt/p_i)...], p_i = 4e-3 · 1000^(i/(dim/2 − 1)). */
export function timeEmbeddingRef(t: number, dim: number, minPeriod = 4e-3, maxPeriod = 4.0): Float64Array {
  const half = dim / 2;
  const out = new Float64Array(dim);
  for (let i = 0; i < half; i++) {
    const frac = half > 1 ? i / (half - 1) : 0;
    const period = minPeriod * Math.pow(maxPeriod / minPeriod, frac);
    out[i] = Math.sin((2 * Math.PI * t) / period);
    out[half + i] = Math.cos((2 * Math.PI * t) / period);
  }
  return out;
}

/** CDF of t = Beta(a, 1)·0.999 + 0.001: ((t − 0.001)/0.999)^a. */
export function timeCdfRef(t: number, a = 1.5): number {
  const x = Math.min(1, Math.max(0, (t - 0.001) / 0.999));
  return Math.pow(x, a);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** An isotropic 2-D Gaussian mixture. */
export interface Mixture2D {
  centers: number[][];
  weights: number[];
  sigma: number;
}

/**
 * The exact flow-matching velocity E[ε − a | x_t = x] for data a ~ mixture and ε ~ N(0, I) on the
 * path x_t = t·ε + (1 − t)·a. Given component k, x_t ~ N((1 − t)μ_k, s_t² I) with
 * s_t² = t² + (1 − t)²σ², and E[ε − a | x, k] = −μ_k + (t − (1 − t)σ²)/s_t² · (x − (1 − t)μ_k);
 * the components are weighted by their posterior p(k | x).
 */
export function mixtureVelocity(mix: Mixture2D, x: readonly number[], t: number): [number, number] {
  const s2 = mix.sigma ** 2;
  const st2 = t * t + (1 - t) * (1 - t) * s2;
  const g = (t - (1 - t) * s2) / st2;
  const logp = mix.centers.map((c, k) => {
    const dx = x[0] - (1 - t) * c[0];
    const dy = x[1] - (1 - t) * c[1];
    return Math.log(mix.weights[k]) - (dx * dx + dy * dy) / (2 * st2);
  });
  const top = Math.max(...logp);
  const p = logp.map((l) => Math.exp(l - top));
  const z = p.reduce((a, b) => a + b, 0);
  const v: [number, number] = [0, 0];
  mix.centers.forEach((c, k) => {
    for (let d = 0; d < 2; d++) v[d] += (p[k] / z) * (-c[d] + g * (x[d] - (1 - t) * c[d]));
  });
  return v;
}

/** Euler from t = 1 to 0 in `steps` steps on the exact mixture field, from the given noise [N, 2]. */
export function eulerMixtureRef(mix: Mixture2D, noise: ArrayLike<number>, steps: number): Float64Array {
  const out = Float64Array.from(noise);
  const dt = -1 / steps;
  for (let i = 0; i < out.length / 2; i++) {
    const x = [out[2 * i], out[2 * i + 1]];
    for (let k = 0; k < steps; k++) {
      const v = mixtureVelocity(mix, x, 1 + k * dt);
      x[0] += dt * v[0];
      x[1] += dt * v[1];
    }
    out[2 * i] = x[0];
    out[2 * i + 1] = x[1];
  }
  return out;
}

/** Mean, covariance and nearest-centre weights of 2-D points [N, 2]. */
export function moments2D(
  xs: ArrayLike<number>,
  centers: number[][],
): { mean: number[]; cov: number[][]; weights: number[] } {
  const n = xs.length / 2;
  const mean = [0, 1].map((d) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += xs[2 * i + d];
    return s / n;
  });
  const cov = [0, 1].map((a) =>
    [0, 1].map((b) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += (xs[2 * i + a] - mean[a]) * (xs[2 * i + b] - mean[b]);
      return s / (n - 1);
    }),
  );
  const counts = centers.map(() => 0);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bd = Infinity;
    centers.forEach((c, k) => {
      const d = (xs[2 * i] - c[0]) ** 2 + (xs[2 * i + 1] - c[1]) ** 2;
      if (d < bd) [bd, best] = [d, k];
    });
    counts[best]++;
  }
  return { mean, cov, weights: counts.map((c) => c / n) };
}

/**
 * Monte-Carlo estimate of the smallest possible flow-matching loss, E‖u − v*(x_t, t)‖² / 2 per
 * coordinate, with t drawn by `sampleT` and v* the exact mixture field.
 */
export function mixtureLossFloor(
  mix: Mixture2D,
  n: number,
  seed: number,
  sampleT: (u: number) => number,
): number {
  const r = (() => {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  })();
  const gauss = () => Math.sqrt(-2 * Math.log(Math.max(r(), 1e-12))) * Math.cos(2 * Math.PI * r());
  let total = 0;
  for (let i = 0; i < n; i++) {
    const u0 = r();
    let k = 0;
    for (let acc = mix.weights[0]; u0 >= acc && k < mix.weights.length - 1; acc += mix.weights[++k]);
    const a = [mix.centers[k][0] + mix.sigma * gauss(), mix.centers[k][1] + mix.sigma * gauss()];
    const e = [gauss(), gauss()];
    const t = sampleT(r());
    const x = [t * e[0] + (1 - t) * a[0], t * e[1] + (1 - t) * a[1]];
    const v = mixtureVelocity(mix, x, t);
    total += ((e[0] - a[0] - v[0]) ** 2 + (e[1] - a[1] - v[1]) ** 2) / 2;
  }
  return total / n;
}
