// Shared by the rank scripts: seeded data and result files the test reads back.
/* global process */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const outDir = process.env.VLA_MPI_TEST_OUT;

/** mulberry32: a tiny seeded PRNG, uniform in [0, 1). */
export function seeded(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fills `view` with seeded values suited to its type (small integers for Int32/Uint8). */
export function fill(view, seed) {
  const next = seeded(seed);
  for (let i = 0; i < view.length; i++) {
    if (view instanceof Int32Array) view[i] = Math.floor((next() - 0.5) * 2 ** 21);
    else if (view instanceof Uint8Array) view[i] = Math.floor(next() * 256);
    else view[i] = (next() - 0.5) * 1000;
  }
  return view;
}

/** Writes the bytes of `view` to `<outDir>/<name>.bin`. */
export function save(name, view) {
  writeFileSync(join(outDir, `${name}.bin`), new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
}

/** Writes `<outDir>/<name>.json`. */
export function saveJson(name, value) {
  writeFileSync(join(outDir, `${name}.json`), JSON.stringify(value, null, 1));
}

/** The MpiError message of a synchronous throw or a rejection, or `null` when none came. */
export async function errorOf(call) {
  try {
    await call();
    return null;
  } catch (error) {
    return `${error.name}: ${error.message}`;
  }
}
