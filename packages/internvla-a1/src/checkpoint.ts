// Whole-policy checkpoints: one safetensors file whose __metadata__ carries a manifest (format
// version, the configuration, and every tensor's name, shape, dtype and CRC-32), so a checkpoint
// rebuilds its own policy and a damaged or mismatched file fails with a message saying what is wrong.
// Loading validates the whole file first — config and manifest against their schemas, every tensor
// against the parameters the config implies (built under meta(), nothing allocated), sizes against
// the device — and only then allocates; any later failure disposes what was allocated.
// The file is written atomically (temporary file, fsync, rename) by @vla/tensor-webgpu.
import CRC32 from 'crc-32';
import {
  canLoadAs,
  checkTensorFitsDevice,
  engine,
  floatsToBf16,
  meta,
  readSafetensors,
  saveSafetensors,
  SafetensorsError,
  tensorFromSafetensors,
  toHalfBits,
  type ByteSourceInput,
  type SafetensorsDType,
  type SafetensorsFile,
  type Tensor,
  type TensorSpec,
} from '@vla/tensor-webgpu';
import { z } from 'zod';
import { PolicyConfigError, validatePolicyConfig, type InternVLAA1Config } from './config.js';
import { InternVLAA1Policy, type CreatePolicyOptions } from './internvlaA1Policy.js';
import { PolicyProcessor, PolicyProcessorError } from './policyProcessor.js';

/** `format` value in the metadata of a policy checkpoint. */
export const CHECKPOINT_FORMAT = 'vla/internvla-a1';
/**
 * Version of the manifest layout this package writes. Version 2 uses upstream's module names
 * (`und_expert.*`, `gen_expert.*`, `cosmos.*`, …); version 1 files load with their names mapped.
 */
export const CHECKPOINT_VERSION = 2;

// Version 1 name prefixes → version 2 (the policy took upstream's module names).
const VERSION_1_PREFIXES: readonly [string, string][] = [
  ['visual.', 'und_expert.visual.'],
  ['embed_tokens.', 'und_expert.language_model.embed_tokens.'],
  ['mot.und.', 'und_expert.language_model.'],
  ['mot.gen.', 'gen_expert.'],
  ['mot.act.', 'act_expert.'],
  ['gen_latent_proj.', 'cosmos_in_proj.'],
  ['gen_token_conv.', 'downsample_conv.'],
  ['gen_token_deconv.', 'upsample_conv.'],
  ['gen_out_norm.', 'cosmos_out_layer_norm.'],
  ['gen_out_proj.', 'cosmos_out_proj.'],
  ['vae.', 'cosmos.'],
];

/** The current name of a tensor a version 1 checkpoint stored as `name`. */
export function renameVersion1Tensor(name: string): string {
  for (const [from, to] of VERSION_1_PREFIXES) if (name.startsWith(from)) return to + name.slice(from.length);
  return name;
}

/** One tensor of a checkpoint as its manifest records it. */
export interface ManifestTensor {
  name: string;
  shape: number[];
  dtype: SafetensorsDType;
  /** CRC-32 of the tensor's bytes in the file, as 8 hex digits. */
  crc32: string;
  /** The tensor's name in the file when it differs from `name` (a version 1 checkpoint). */
  storedAs?: string;
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
  /** The policy's I/O layer, stored beside the weights so the checkpoint alone can drive a robot. */
  processor?: PolicyProcessor;
}

/**
 * A checkpoint that cannot be loaded (or saved): unreadable, not a policy, a malformed config or
 * manifest (the message names the field), corrupted, for another model, a tensor of the wrong
 * type or too large for the device, or a value a conversion would change beyond rounding.
 */
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

/** The dtypes {@link savePolicy} writes; a manifest naming another is malformed. */
const STORED_DTYPES = ['F32', 'F16', 'BF16', 'I32', 'U32'] as const;

function fileDtype(
  t: Tensor,
  name: string,
  floats: SavePolicyOptions['dtype'],
  src: string,
): SafetensorsDType {
  if (t.dtype === 'f32' || t.dtype === 'f16') return floats ?? (t.dtype === 'f32' ? 'F32' : 'F16');
  if (t.dtype === 'i32') return 'I32';
  if (t.dtype === 'u32') return 'U32';
  throw new CheckpointError(
    src,
    `tensor ${name} has dtype ${t.dtype}, which policy checkpoints do not store`,
  );
}

/** The bytes `saveSafetensors` writes for `t` as `dtype` (same conversions, same overflow rule). */
async function storedBytes(
  t: Tensor,
  name: string,
  dtype: SafetensorsDType,
  src: string,
): Promise<Uint8Array> {
  const values = await t.toArray();
  if (dtype === 'F16') {
    const half = Uint16Array.from(values, toHalfBits);
    const bad = half.findIndex((b, i) => (b & 0x7fff) === 0x7c00 && Number.isFinite(values[i]));
    if (bad >= 0)
      throw new CheckpointError(
        src,
        `tensor ${name}: element ${bad} = ${values[bad]} overflows F16 (largest finite ±65504); save with dtype 'F32' or 'BF16'`,
      );
    return bytesOf(half);
  }
  if (dtype === 'BF16') return bytesOf(floatsToBf16(values));
  return bytesOf(values);
}

/**
 * Saves the whole policy (every parameter and buffer, tokenizer included) with its manifest. With a
 * path (Node) the file is written atomically; with `undefined` the bytes are returned. Tensors are
 * read back twice (checksums first, then the data), one at a time, so memory stays at one tensor.
 * Throws {@link CheckpointError} when a value would overflow the chosen dtype (F16: beyond ±65504).
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
  const src = path ?? '<bytes>';
  if (options.processor) checkProcessorFits(src, options.processor, policy.config);
  const sd = policy.stateDict();
  const tensors: ManifestTensor[] = [];
  for (const [name, t] of Object.entries(sd)) {
    const dtype = fileDtype(t, name, options.dtype, src);
    tensors.push({
      name,
      shape: [...t.shape],
      dtype,
      crc32: hex(CRC32.buf(await storedBytes(t, name, dtype, src))),
    });
  }
  const metadata = {
    format: CHECKPOINT_FORMAT,
    format_version: String(CHECKPOINT_VERSION),
    config: JSON.stringify(policy.config),
    manifest: JSON.stringify(tensors),
    ...(options.processor ? processorMetadata(options.processor) : {}),
  };
  const save = { floatDtype: options.dtype };
  return path === undefined
    ? saveSafetensors(undefined, sd, metadata, save)
    : saveSafetensors(path, sd, metadata, save);
}

/** The processor's metadata fields: its JSON and that text's CRC-32 (metadata has no other checksum). */
function processorMetadata(processor: PolicyProcessor): Record<string, string> {
  const text = JSON.stringify(processor.toJSON());
  return { processor: text, processor_crc32: hex(CRC32.buf(new TextEncoder().encode(text))) };
}

/** The processor's sizes must be the network's (see `PolicyProcessor.checkFits`). */
function checkProcessorFits(src: string, processor: PolicyProcessor, config: InternVLAA1Config): void {
  try {
    processor.checkFits(config);
  } catch (e) {
    if (!(e instanceof PolicyProcessorError)) throw e;
    throw new CheckpointError(src, `__metadata__.processor.${e.field} ${e.problem}`);
  }
}

/** The checkpoint's processor (validated, agreeing with `config`), or null when it has none. */
function parseProcessor(file: SafetensorsFile, config: InternVLAA1Config): PolicyProcessor | null {
  const src = file.source;
  const text = file.metadata.processor;
  if (text === undefined) {
    if (file.metadata.processor_crc32 !== undefined)
      throw new CheckpointError(src, '__metadata__.processor is missing but processor_crc32 is present');
    return null;
  }
  const crc = hex(CRC32.buf(new TextEncoder().encode(text)));
  if (crc !== file.metadata.processor_crc32)
    throw new CheckpointError(
      src,
      `__metadata__.processor is corrupted (CRC-32 ${crc}, __metadata__.processor_crc32 says ${JSON.stringify(file.metadata.processor_crc32)})`,
    );
  const json = metadataJson(file, 'processor');
  let processor: PolicyProcessor;
  try {
    processor = PolicyProcessor.fromJSON(json);
  } catch (e) {
    if (!(e instanceof PolicyProcessorError)) throw e;
    throw new CheckpointError(src, `__metadata__.processor${e.field ? `.${e.field}` : ''} ${e.problem}`);
  }
  checkProcessorFits(src, processor, config);
  return processor;
}

/** Reads a checkpoint's processor (header only), or null when it was saved without one. */
export async function readPolicyProcessor(source: ByteSourceInput): Promise<PolicyProcessor | null> {
  const file = await openCheckpoint(source);
  try {
    return parseProcessor(file, parseManifest(file).config);
  } finally {
    await file.close();
  }
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

const hexCrc = z
  .string({ error: 'must be 8 lower-case hex digits' })
  .regex(/^[0-9a-f]{8}$/, { error: 'must be 8 lower-case hex digits' });
const dimError = 'must be a list of non-negative integers';
const dim = z
  .number({ error: dimError })
  .int({ error: dimError })
  .min(0, { error: dimError })
  .max(Number.MAX_SAFE_INTEGER, { error: dimError });

/** Type of every manifest field (zod); agreement with the header is checked separately. */
const manifestSchema = z.array(
  z.object(
    {
      name: z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }),
      shape: z.array(dim, { error: dimError }),
      dtype: z.enum(STORED_DTYPES, { error: `must be one of ${STORED_DTYPES.join(', ')}` }),
      crc32: hexCrc,
    },
    { error: 'must be an object {name, shape, dtype, crc32}' },
  ),
  { error: 'must be a list of tensors' },
);

function shown(v: unknown): string {
  if (v === undefined) return 'undefined (missing)';
  if (typeof v === 'number') return String(v);
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Parses one JSON-valued metadata field, naming it when it is missing or not JSON. */
function metadataJson(file: SafetensorsFile, key: string): unknown {
  const text = file.metadata[key];
  if (text === undefined) throw new CheckpointError(file.source, `__metadata__.${key} is missing`);
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new CheckpointError(file.source, `__metadata__.${key} is not valid JSON (${(e as Error).message})`);
  }
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
  const version = m.format_version === '1' ? 1 : CHECKPOINT_VERSION;
  if (m.format_version !== String(version))
    throw new CheckpointError(
      src,
      `__metadata__.format_version is ${JSON.stringify(m.format_version)}; this package reads versions 1 to ${CHECKPOINT_VERSION}`,
    );
  const config = metadataJson(file, 'config');
  try {
    validatePolicyConfig(config);
  } catch (e) {
    if (!(e instanceof PolicyConfigError)) throw e;
    throw new CheckpointError(src, `__metadata__.config${e.field ? `.${e.field}` : ''} ${e.problem}`);
  }
  const raw = metadataJson(file, 'manifest');
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const [index, ...rest] = issue.path;
    let value: unknown = raw;
    for (const k of issue.path)
      value =
        value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[k] : undefined;
    const entry = typeof index === 'number' ? (raw as unknown[])[index] : undefined;
    const name = (entry as { name?: unknown } | null)?.name;
    const where =
      typeof index === 'number'
        ? `[${index}]${typeof name === 'string' ? ` (tensor ${name})` : ''}${rest.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join('')}`
        : '';
    throw new CheckpointError(src, `__metadata__.manifest${where} ${issue.message}, got ${shown(value)}`);
  }
  const tensors: ManifestTensor[] = parsed.data;
  const seen = new Set<string>();
  for (const t of tensors) {
    if (seen.has(t.name))
      throw new CheckpointError(src, `__metadata__.manifest lists tensor ${t.name} twice`);
    seen.add(t.name);
  }
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
  if (version === 1) {
    for (const t of tensors) {
      const current = renameVersion1Tensor(t.name);
      if (current !== t.name) [t.storedAs, t.name] = [t.name, current];
    }
  }
  return { format: m.format, version, config, tensors };
}

/** Reads a checkpoint's manifest (header only; no tensor data is read). Config and manifest are validated. */
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

function checkSameConfig(
  src: string,
  expected: InternVLAA1Config,
  manifest: PolicyManifest,
  who: string,
): void {
  const diff = differences(JSON.parse(JSON.stringify(expected)), manifest.config);
  if (diff.length)
    throw new CheckpointError(
      src,
      `was saved for another configuration (${who} vs checkpoint): ${diff.join('; ')}`,
    );
}

/** Parameter specs of the policy `config` describes, built under meta() (nothing is allocated). */
function expectedSpecs(
  src: string,
  config: InternVLAA1Config,
  options: CreatePolicyOptions,
): Map<string, TensorSpec> {
  try {
    return new Map(meta(() => InternVLAA1Policy.create(config, options)).namedSpecs());
  } catch (e) {
    throw new CheckpointError(src, `__metadata__.config cannot be built (${(e as Error).message})`);
  }
}

/**
 * Every check that needs no tensor data: the file's tensors are exactly `specs` (names, shapes, a
 * dtype that loads into each without reinterpretation) and each fits the device. The file's own
 * size bounds the total, since every expected tensor must be in it with its full shape.
 */
function checkTensors(src: string, manifest: PolicyManifest, specs: Map<string, TensorSpec>): void {
  const inFile = new Map(manifest.tensors.map((t) => [t.name, t]));
  const missing = [...specs.keys()].filter((k) => !inFile.has(k));
  const unexpected = [...inFile.keys()].filter((k) => !specs.has(k));
  const wrongShape: string[] = [];
  const wrongType: string[] = [];
  for (const [k, s] of specs) {
    const t = inFile.get(k);
    if (!t) continue;
    if (t.shape.join() !== s.shape.join())
      wrongShape.push(`${k} [${t.shape.join(', ')}] vs [${s.shape.join(', ')}]`);
    else if (!canLoadAs(t.dtype, s.dtype))
      wrongType.push(`${k} is ${t.dtype} in the file but the policy holds ${s.dtype}`);
  }
  if (missing.length || unexpected.length || wrongShape.length || wrongType.length) {
    const show = (xs: string[]) => xs.slice(0, 6).join(', ') + (xs.length > 6 ? `, … (${xs.length})` : '');
    const parts = [
      missing.length ? `missing ${show(missing)}` : '',
      unexpected.length ? `unexpected ${show(unexpected)}` : '',
      wrongShape.length ? `shape mismatch ${show(wrongShape)}` : '',
      wrongType.length ? `type mismatch ${show(wrongType)}` : '',
    ];
    throw new CheckpointError(
      src,
      `does not match the policy's tensors: ${parts.filter(Boolean).join('; ')}`,
    );
  }
  for (const t of manifest.tensors) {
    try {
      checkTensorFitsDevice(t, specs.get(t.name)!.dtype, { source: src });
    } catch (e) {
      if (e instanceof SafetensorsError) throw new CheckpointError(src, e.problem);
      throw e;
    }
  }
}

/** Streams the (already checked) tensors into `policy` one at a time, verifying each CRC-32. */
async function loadTensors(
  policy: InternVLAA1Policy,
  file: SafetensorsFile,
  manifest: PolicyManifest,
): Promise<void> {
  const src = file.source;
  const own = new Map(policy.namedSpecs());
  for (const t of manifest.tensors) {
    const entry = file.tensors.get(t.storedAs ?? t.name)!;
    let data: Awaited<ReturnType<typeof entry.data>>;
    try {
      data = await entry.data();
    } catch (e) {
      throw new CheckpointError(src, `tensor ${t.name} cannot be read (${(e as Error).message})`);
    }
    const crc = hex(CRC32.buf(bytesOf(data)));
    if (crc !== t.crc32)
      throw new CheckpointError(
        src,
        `tensor ${t.name} is corrupted (CRC-32 ${crc}, manifest says ${t.crc32})`,
      );
    let value: Tensor;
    try {
      // F16 into f16 storage uploads the file's bits unchanged; other conversions refuse overflow.
      value = tensorFromSafetensors(entry, data, own.get(t.name)!.dtype, { source: src });
    } catch (e) {
      if (e instanceof SafetensorsError) throw new CheckpointError(src, e.problem);
      throw e;
    }
    try {
      await policy.loadStateDict(new Map([[t.name, value]]), { strict: false });
    } finally {
      value.dispose();
    }
  }
}

/**
 * Loads a checkpoint's weights into `policy` in place, strictly: the checkpoint's configuration must
 * equal the policy's, every tensor must be present with its shape and a float dtype for float
 * parameters, and each tensor's CRC-32 must match the manifest. All of this except the CRC-32 is
 * checked before the first tensor is read; a corrupted tensor found later leaves the tensors before
 * it loaded. Throws {@link CheckpointError} naming the problem.
 */
export async function loadPolicyWeights(policy: InternVLAA1Policy, source: ByteSourceInput): Promise<void> {
  const file = await openCheckpoint(source);
  try {
    const manifest = parseManifest(file);
    checkSameConfig(file.source, policy.config, manifest, 'policy');
    checkTensors(file.source, manifest, new Map(policy.namedSpecs()));
    await loadTensors(policy, file, manifest);
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
 * Builds the policy a checkpoint describes and loads its weights. The whole file is validated
 * before anything is allocated: the config and manifest against their schemas, every tensor
 * against the parameters the config implies (names, shapes, dtypes), each tensor's size against
 * the device's buffer limits. A failure after allocation (a corrupted tensor, a value that would
 * overflow f16, the device running out of memory) disposes the policy: nothing stays allocated.
 * With `weightDtype: 'f16'` the weight matrices are stored in f16 (F16 files load bit for bit,
 * F32/BF16 values are rounded, and values beyond ±65504 are an error), on any device.
 * Throws {@link CheckpointError} naming the file and the field or tensor.
 */
export async function loadPolicy(
  source: ByteSourceInput,
  options: LoadPolicyOptions = {},
): Promise<InternVLAA1Policy> {
  return (await loadPolicyBundle(source, options)).policy;
}

/** A loaded checkpoint: the policy and the processor saved with it. */
export interface PolicyBundle {
  /** The policy, with its weights. */
  policy: InternVLAA1Policy;
  /** Its I/O layer, or null for a checkpoint saved without one. */
  processor: PolicyProcessor | null;
}

/**
 * {@link loadPolicy} plus the checkpoint's processor: what turns robot observations into the
 * network's inputs and its actions back into robot units. The processor is validated (and checked
 * against the configuration) before anything is allocated, and its prompt tokenizer is loaded.
 */
export async function loadPolicyBundle(
  source: ByteSourceInput,
  options: LoadPolicyOptions = {},
): Promise<PolicyBundle> {
  const file = await openCheckpoint(source);
  const src = file.source;
  try {
    const manifest = parseManifest(file);
    if (options.config) checkSameConfig(src, options.config, manifest, 'expected');
    const processor = parseProcessor(file, manifest.config);
    const create = { weightDtype: options.weightDtype };
    checkTensors(src, manifest, expectedSpecs(src, manifest.config, create));
    const policy = InternVLAA1Policy.create(manifest.config, create);
    try {
      await loadTensors(policy, file, manifest);
      // Surfaces an out-of-memory from the allocation here, while the policy can still be freed.
      await engine().sync();
    } catch (e) {
      policy.dispose();
      throw e;
    }
    // The processor is what acts on a robot; make it usable without a further await.
    await processor?.loadTokenizer();
    return { policy, processor };
  } finally {
    await file.close();
  }
}
