// Gives a module random parameters (norm weights around 1) and returns host copies by name.
import { tensor, type Module, type Tensor } from '@vla/tensor-webgpu';
import { randomArray } from './reference.js';

export async function randomizeParams(m: Module, seed: number, scale = 0.2): Promise<Map<string, Float32Array>> {
  const host = new Map<string, Float32Array>();
  const fresh = new Map<string, Tensor>();
  let i = 0;
  for (const [name, t] of Object.entries(m.stateDict())) {
    const isNormWeight = /(norm[^.]*|layernorm)\.weight$/.test(name);
    const values = randomArray(t.size, seed + 7919 * i++, isNormWeight ? 0.5 : -scale, isNormWeight ? 1.5 : scale);
    host.set(name, values);
    fresh.set(name, tensor(values, [...t.shape]));
  }
  await m.loadStateDict(fresh);
  for (const t of fresh.values()) t.dispose();
  return host;
}
