// Whole-policy checkpoints: one safetensors file whose __metadata__ carries a manifest (format
// version, the configuration, and every tensor's name, shape, dtype and CRC-32), so a checkpoint
// rebuilds its own policy and a damaged or mismatched file fails with a message saying what is wrong.
// The file is written atomically (temporary file, fsync, rename) by @vla/tensor-webgpu.
import CRC32 from 'crc-32';
import {
  bf16ToFloats,
  floatsToBf16,
  fromHalfBits,
  readSafetensors,
  saveSafetensors,
  Tensor,
  toHalfBits,
  type ByteSourceInput,
  type SafetensorsDType,
  type SafetensorsFile,
} from '@vla/tensor-webgpu';
import type { InternVLAA1Config } from './config.js';
import { InternVLAA1Policy, type CreatePolicyOptions } from './internvlaA1Policy.js';

/** `format` value in the metadata of a policy checkpoint. */
export const CHECKPOINT_FORMAT = 'vla/internvla-a1';
/** Version of the manifest layout this package writes and reads. */
export const CHECKPOINT_VERSION = 1;

/** One tensor of a checkpoint as its manifest records it. */
export interface ManifestTensor {
  name: string;
  shape: number[];
  dtype: SafetensorsDType;
  /** CRC-32 of the tensor's bytes in the file, as 8 hex digits. */
  crc32: string;
}

/** What a checkpoint says about itself. */
export interface PolicyManifest {
  format: string;
  version: number;
  /** The configuration the weights belong to. */
  config: InternVLAA1Config;
  /** Every tensor, in file order. */
  tensors: ManifestTensor[];
}

/** Options of {@link savePolicy}. */
export interface SavePolicyOptions {
  /** Storage dtype of floating-point tensors (default F32; F16 and BF16 halve the file). */
  dtype?: 'F32' | 'F16' | 'BF16';
}

/** A checkpoint that cannot be loaded: unreadable, not a policy, corrupted, or for another model. */
export class CheckpointError extends Error {
  constructor(source: string, message: string) {
    super(`policy checkpoint ${source}: ${message}`);
    this.name = 'CheckpointError';
  }
}

function hex(crc: number): string {
  return (crc >>> 0).toString(16).padStart(8, '0');
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function fileDtype(t: Tensor, name: string, floats: SavePolicyOptions['dtype']): SafetensorsDType {
  if (t.dtype === 'f32' || t.dtype === 'f16') return floats ?? (t.dtype === 'f32' ? 'F32' : 'F16');
  if (t.dtype === 'i32') return 'I32';
  if (t.dtype === 'u32') return 'U32';
  throw new Error(`savePolicy: tensor ${name} has dtype ${t.dtype}, which policy checkpoints do not store`);
}

/** The bytes `saveSafetensors` writes for `t` as `dtype` (same conversions). */
async function storedBytes(t: Tensor, dtype: SafetensorsDType): Promise<Uint8Array> {
  const values = await t.toArray();
  if (dtype === 'F16') {
    const half = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) half[i] = toHalfBits(values[i]);
    return bytesOf(half);
  }
  if (dtype === 'BF16') return bytesOf(floatsToBf16(values));
  return bytesOf(values);
}

/**
 * Saves the whole policy (every parameter and buffer, tokenizer included) with its manifest. With a
 * path (Node) the file is written atomically; with `undefined` the bytes are returned. Tensors are
 * read back twice (checksums first, then the data), one at a time, so memory stays at one tensor.
 */
export function savePolicy(
  path: string,
  policy: InternVLAA1Policy,
  options?: SavePolicyOptions,
): Promise<void>;
export function savePolicy(
  path: undefined,
  policy: InternVLAA1Policy,
  options?: SavePolicyOptions,
): Promise<Uint8Array>;
export async function savePolicy(
  path: string | undefined,
  policy: InternVLAA1Policy,
  options: SavePolicyOptions = {},
): Promise<void | Uint8Array> {
  const sd = policy.stateDict();
  const tensors: ManifestTensor[] = [];
  for (const [name, t] of Object.entries(sd)) {
    const dtype = fileDtype(t, name, options.dtype);
    tensors.push({ name, shape: [...t.shape], dtype, crc32: hex(CRC32.buf(await storedBytes(t, dtype))) });
  }
  const metadata = {
    format: CHECKPOINT_FORMAT,
    format_version: String(CHECKPOINT_VERSION),
    config: JSON.stringify(policy.config),
    manifest: JSON.stringify(tensors),
  };
  const save = { floatDtype: options.dtype };
  return path === undefined
    ? saveSafetensors(undefined, sd, metadata, save)
    : saveSafetensors(path, sd, metadata, save);
}

async function openCheckpoint(source: ByteSourceInput): Promise<SafetensorsFile> {
  try {
    return await readSafetensors(source);
  } catch (e) {
    throw new CheckpointError(
      describeSource(source),
      `is not a readable safetensors file (${(e as Error).message})`,
    );
  }
}

function describeSource(source: ByteSourceInput): string {
  return typeof source === 'string'
    ? source
    : `<${(source as { constructor?: { name?: string } }).constructor?.name ?? 'bytes'}>`;
}

function parseManifest(file: SafetensorsFile): PolicyManifest {
  const m = file.metadata;
  const src = file.source;
  if (m.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(
      src,
      `is not an InternVLA-A1 policy checkpoint (__metadata__.format is ${JSON.stringify(m.format)}, expected "${CHECKPOINT_FORMAT}")`,
    );
  }
  const version = Number(m.format_version);
  if (version !== CHECKPOINT_VERSION)
    throw new CheckpointError(
      src,
      `has format_version ${m.format_version}; this package reads version ${CHECKPOINT_VERSION}`,
    );
  let config: InternVLAA1Config;
  let tensors: ManifestTensor[];
  try {
    config = JSON.parse(m.config) as InternVLAA1Config;
    tensors = JSON.parse(m.manifest) as ManifestTensor[];
  } catch (e) {
    throw new CheckpointError(
      src,
      `has an unreadable manifest or config in __metadata__ (${(e as Error).message})`,
    );
  }
  if (!Array.isArray(tensors))
    throw new CheckpointError(src, '__metadata__.manifest is not a list of tensors');
  // The header is what the data follows; it must agree with the manifest written next to it.
  const header = new Map(file.header.tensors.map((t) => [t.name, t]));
  for (const t of tensors) {
    const h = header.get(t.name);
    if (!h)
      throw new CheckpointError(src, `manifest lists tensor ${t.name}, which the file does not contain`);
    if (h.dtype !== t.dtype || h.shape.join() !== t.shape.join()) {
      throw new CheckpointError(
        src,
        `tensor ${t.name} is ${h.dtype} [${h.shape.join(', ')}] in the file but ${t.dtype} [${t.shape.join(', ')}] in the manifest`,
      );
    }
  }
  if (header.size !== tensors.length)
    throw new CheckpointError(
      src,
      `file holds ${header.size} tensors but the manifest lists ${tensors.length}`,
    );
  return { format: m.format, version, config, tensors };
}

/** Reads a checkpoint's manifest (header only; no tensor data is read). */
export async function readPolicyManifest(source: ByteSourceInput): Promise<PolicyManifest> {
  const file = await openCheckpoint(source);
  try {
    return parseManifest(file);
  } finally {
    await file.close();
  }
}

/** Dotted paths where two JSON values differ (at most `limit`). */
function differences(a: unknown, b: unknown, path = '', out: string[] = [], limit = 8): string[] {
  if (out.length >= limit) return out;
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys)
      differences(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
        path ? `${path}.${k}` : k,
        out,
        limit,
      );
  } else if (a !== b) {
    out.push(`${path || '(root)'}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  }
  return out;
}

function toFloats(dtype: SafetensorsDType, data: ArrayBufferView): Float32Array | Int32Array | Uint32Array {
  switch (dtype) {
    case 'F32':
      return data as Float32Array;
    case 'F16': {
      const bits = data as Uint16Array;
      const out = new Float32Array(bits.length);
      for (let i = 0; i < bits.length; i++) out[i] = fromHalfBits(bits[i]);
      return out;
    }
    case 'BF16':
      return bf16ToFloats(data as Uint16Array);
    case 'I32':
      return data as Int32Array;
    case 'U32':
      return data as Uint32Array;
    default:
      throw new Error(`dtype ${dtype} is not used by policy checkpoints`);
  }
}

/**
 * Loads a checkpoint's weights into `policy` in place, strictly: the checkpoint's configuration must
 * equal the policy's, every tensor must be present with its shape, and each tensor's CRC-32 must
 * match the manifest. Throws {@link CheckpointError} naming the problem.
 */
export async function loadPolicyWeights(policy: InternVLAA1Policy, source: ByteSourceInput): Promise<void> {
  const file = await openCheckpoint(source);
  const src = file.source;
  try {
    const manifest = parseManifest(file);
    const diff = differences(JSON.parse(JSON.stringify(policy.config)), manifest.config);
    if (diff.length)
      throw new CheckpointError(
        src,
        `was saved for another configuration (policy vs checkpoint): ${diff.join('; ')}`,
      );
    const own = new Map(policy.namedSpecs());
    const inFile = new Map(manifest.tensors.map((t) => [t.name, t]));
    const missing = [...own.keys()].filter((k) => !inFile.has(k));
    const unexpected = [...inFile.keys()].filter((k) => !own.has(k));
    const wrongShape = [...own].filter(
      ([k, s]) => inFile.has(k) && inFile.get(k)!.shape.join() !== s.shape.join(),
    );
    if (missing.length || unexpected.length || wrongShape.length) {
      const show = (xs: string[]) => xs.slice(0, 6).join(', ') + (xs.length > 6 ? `, … (${xs.length})` : '');
      const parts = [
        missing.length ? `missing ${show(missing)}` : '',
        unexpected.length ? `unexpected ${show(unexpected)}` : '',
        wrongShape.length
          ? `shape mismatch ${show(wrongShape.map(([k, s]) => `${k} [${inFile.get(k)!.shape.join(', ')}] vs [${s.shape.join(', ')}]`))}`
          : '',
      ];
      throw new CheckpointError(
        src,
        `does not match the policy's tensors: ${parts.filter(Boolean).join('; ')}`,
      );
    }
    for (const t of manifest.tensors) {
      const entry = file.tensors.get(t.name)!;
      const data = await entry.data();
      const crc = hex(CRC32.buf(bytesOf(data)));
      if (crc !== t.crc32)
        throw new CheckpointError(
          src,
          `tensor ${t.name} is corrupted (CRC-32 ${crc}, manifest says ${t.crc32})`,
        );
      const spec = own.get(t.name)!;
      // F16 into f16 storage: the file's bits are what the GPU holds; no conversion.
      const value =
        t.dtype === 'F16' && spec.dtype === 'f16'
          ? Tensor.fromHalfBits(data as Uint16Array, t.shape)
          : Tensor.fromData(toFloats(t.dtype, data), t.shape, spec.dtype);
      try {
        await policy.loadStateDict(new Map([[t.name, value]]), { strict: false });
      } finally {
        value.dispose();
      }
    }
  } finally {
    await file.close();
  }
}

/** Options of {@link loadPolicy}. */
export interface LoadPolicyOptions extends CreatePolicyOptions {
  /** Expected configuration: loading fails when the checkpoint's differs. */
  config?: InternVLAA1Config;
}

/**
 * Builds the policy a checkpoint describes and loads its weights (see {@link loadPolicyWeights}).
 * With `weightDtype: 'f16'` the weight matrices are stored in f16 (F16 files load bit for bit,
 * F32/BF16 values are rounded), on any device.
 */
export async function loadPolicy(
  source: ByteSourceInput,
  options: LoadPolicyOptions = {},
): Promise<InternVLAA1Policy> {
  const manifest = await readPolicyManifest(source);
  if (options.config) {
    const diff = differences(JSON.parse(JSON.stringify(options.config)), manifest.config);
    if (diff.length)
      throw new CheckpointError(
        describeSource(source),
        `was saved for another configuration (expected vs checkpoint): ${diff.join('; ')}`,
      );
  }
  const policy = InternVLAA1Policy.create(manifest.config, { weightDtype: options.weightDtype });
  try {
    await loadPolicyWeights(policy, source);
  } catch (e) {
    policy.dispose();
    throw e;
  }
  return policy;
}
