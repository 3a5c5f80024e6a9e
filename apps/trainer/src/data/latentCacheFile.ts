// The cache on disk: one safetensors file per (dataset, tokenizer, transform), named by its
// fingerprint, with the fingerprint inputs and a sha256 per tensor in its metadata. A file is used
// only when every check passes; anything else (truncated, edited, another version) is a reason to
// rebuild, never a partial read.
import { createHash } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readSafetensors, writeSafetensors, type HostTensor } from '@vla/tensor-webgpu';
import { LATENT_CACHE_VERSION } from './latentFingerprint.js';

/** `format` of a cache file's metadata. */
export const LATENT_CACHE_FORMAT = 'vla-latent-cache';

/** Latents of one cache as host arrays (F16 as raw half bits). */
export type LatentArray = Float32Array | Uint16Array;

/** What a cache file must hold to be used. */
export interface LatentFileExpectation {
  /** The fingerprint the file is named after. */
  fingerprint: string;
  /** Canonical JSON of the fingerprint inputs. */
  inputs: string;
  /** Tensor names and shapes, exactly. */
  tensors: Record<string, number[]>;
  /** Storage dtype of every tensor. */
  dtype: 'F16' | 'F32';
}

function digest(a: LatentArray): string {
  return createHash('sha256')
    .update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
    .digest('hex');
}

/** Writes a cache file atomically (temporary file, fsync, rename). */
export async function writeLatentCacheFile(
  path: string,
  location: string,
  expected: LatentFileExpectation,
  arrays: Record<string, LatentArray>,
): Promise<void> {
  const tensors: Record<string, HostTensor> = {};
  const checksums: Record<string, string> = {};
  for (const [name, shape] of Object.entries(expected.tensors)) {
    tensors[name] = { dtype: expected.dtype, shape, data: arrays[name] };
    checksums[name] = digest(arrays[name]);
  }
  await writeSafetensors(path, tensors, {
    format: LATENT_CACHE_FORMAT,
    version: String(LATENT_CACHE_VERSION),
    fingerprint: expected.fingerprint,
    location,
    inputs: expected.inputs,
    checksums: JSON.stringify(checksums),
  });
}

/** Result of {@link readLatentCacheFile}: the arrays, or why the file cannot be used. */
export type LatentFileRead =
  { ok: true; arrays: Record<string, LatentArray> } | { ok: false; reason: string };

/**
 * Reads a cache file and checks it against `expected`: header, format, version, fingerprint and
 * inputs, the exact set of tensors with their shapes and dtype, and each tensor's sha256.
 */
export async function readLatentCacheFile(
  path: string,
  expected: LatentFileExpectation,
): Promise<LatentFileRead> {
  let file;
  try {
    file = await readSafetensors(path);
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : String(e) };
  }
  try {
    const m = file.metadata;
    if (m.format !== LATENT_CACHE_FORMAT || m.version !== String(LATENT_CACHE_VERSION))
      return {
        ok: false,
        reason: `format ${m.format ?? 'none'} version ${m.version ?? 'none'}, expected ${LATENT_CACHE_FORMAT} version ${LATENT_CACHE_VERSION}`,
      };
    if (m.fingerprint !== expected.fingerprint || m.inputs !== expected.inputs)
      return {
        ok: false,
        reason: `fingerprint ${m.fingerprint ?? 'none'} does not match ${expected.fingerprint}`,
      };
    let checksums: Record<string, unknown>;
    try {
      checksums = JSON.parse(m.checksums ?? '') as Record<string, unknown>;
    } catch {
      return { ok: false, reason: 'metadata checksums is not JSON' };
    }
    const names = Object.keys(expected.tensors);
    const have = [...file.tensors.keys()];
    if (have.length !== names.length || names.some((n) => !file.tensors.has(n)))
      return { ok: false, reason: `holds tensors [${have.join(', ')}], expected [${names.join(', ')}]` };
    const arrays: Record<string, LatentArray> = {};
    for (const name of names) {
      const e = file.tensors.get(name)!;
      const want = expected.tensors[name];
      if (e.dtype !== expected.dtype || e.shape.join(',') !== want.join(','))
        return {
          ok: false,
          reason: `tensor ${name} is ${e.dtype} [${e.shape.join(', ')}], expected ${expected.dtype} [${want.join(', ')}]`,
        };
      const data = (await e.data()) as LatentArray;
      if (digest(data) !== checksums[name])
        return { ok: false, reason: `tensor ${name} does not match its checksum (the file is corrupt)` };
      arrays[name] = data;
    }
    return { ok: true, arrays };
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : String(e) };
  } finally {
    await file.close();
  }
}

/**
 * Removes the other cache files of the dataset at `location` in `dir` (stale fingerprints). Files
 * of other datasets, unreadable files and temporary files of writers in progress are left alone.
 * Returns the names removed.
 */
export async function removeStaleLatentFiles(dir: string, location: string, keep: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(dir)) {
    if (!name.endsWith('.safetensors') || name.startsWith('.') || name === keep) continue;
    const path = join(dir, name);
    let meta: Record<string, string>;
    try {
      const f = await readSafetensors(path);
      meta = f.metadata;
      await f.close();
    } catch {
      continue;
    }
    if (meta.format === LATENT_CACHE_FORMAT && meta.location === location) {
      await rm(path, { force: true });
      removed.push(name);
    }
  }
  return removed;
}
