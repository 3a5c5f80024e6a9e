// Helpers: give a module random parameters (so GroupNorm affines are non-trivial too) and keep a
// float64 host copy for the references.
import { tensor, type Module, type Tensor } from '@vla/tensor-webgpu';
import { arr, randomArray, type Params } from './reference.js';

export async function randomizeParams(m: Module, seed: number, scale = 0.3): Promise<Params> {
  const host: Params = new Map();
  const fresh = new Map<string, Tensor>();
  let i = 0;
  for (const [name, t] of Object.entries(m.stateDict())) {
    const isNormWeight = /norm[^.]*\.weight$/.test(name);
    const values = randomArray(t.size, seed + 7919 * i++, isNormWeight ? 0.5 : -scale, isNormWeight ? 1.5 : scale);
    host.set(name, arr(values, [...t.shape]));
    fresh.set(name, tensor(values, [...t.shape]));
  }
  await m.loadStateDict(fresh);
  for (const t of fresh.values()) t.dispose();
  return host;
}

/** Smooth random images in [-1, 1]: a few Gaussian blobs over a gradient, per channel. */
export function smoothImages(n: number, size: number, seed: number): Float32Array {
  const r = randomArray(n * 64, seed, 0, 1);
  let k = 0;
  const next = () => r[k++ % r.length];
  const out = new Float32Array(n * 3 * size * size);
  for (let b = 0; b < n; b++) {
    const gx = next() * 2 - 1;
    const gy = next() * 2 - 1;
    const blobs = Array.from({ length: 3 }, () => ({ x: next(), y: next(), s: 0.1 + 0.25 * next(), c: [next() * 2 - 1, next() * 2 - 1, next() * 2 - 1] }));
    for (let c = 0; c < 3; c++)
      for (let i = 0; i < size; i++)
        for (let j = 0; j < size; j++) {
          const u = j / (size - 1);
          const v = i / (size - 1);
          let val = 0.4 * (gx * (u - 0.5) + gy * (v - 0.5));
          for (const bl of blobs) val += bl.c[c] * Math.exp(-((u - bl.x) ** 2 + (v - bl.y) ** 2) / (2 * bl.s * bl.s));
          out[((b * 3 + c) * size + i) * size + j] = Math.max(-1, Math.min(1, val));
        }
  }
  return out;
}
