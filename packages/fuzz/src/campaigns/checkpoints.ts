// Campaign 1: policy checkpoints (loadPolicy / loadPolicyWeights of @vla/internvla-a1) and plain
// safetensors files (loadSafetensors of @vla/tensor-webgpu). The pristine inputs are written by the
// packages themselves (savePolicy of a tiny policy, serializeSafetensors of one tensor per dtype);
// every case mutates one of them, writes it to a temporary file and loads it. A load that succeeds
// is read back and compared with the independent decoder in ../oracle/safetensors.ts.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import {
  CHECKPOINT_VERSION,
  CheckpointError,
  InternVLAA1Policy,
  a13bConfig,
  loadPolicy,
  loadPolicyWeights,
  savePolicy,
  tinyConfig,
  type InternVLAA1Config,
} from '@vla/internvla-a1';
import {
  SafetensorsError,
  loadSafetensors,
  manualSeed,
  serializeSafetensors,
  type HostTensor,
  type Tensor,
} from '@vla/tensor-webgpu';
import { scratchDir } from '../scratch.js';
import { cappedEngine, gpuBytesInUse } from '../gpuHarness.js';
import { judgeByClass, type Campaign, type CaseContext, type FuzzCase, type Verdict } from '../outcome.js';
import {
  DTYPE_BYTES,
  FLOAT_DTYPES,
  assemble,
  crc32Hex,
  decodeValues,
  encodeValues,
  layout,
  parseFile,
  roundToHalf,
  type OracleTensor,
  type RawTensor,
} from '../oracle/safetensors.js';
import type { Rng } from '../rng.js';
import { CHECKPOINT_KINDS } from './names.js';

const SWAP_DTYPES = ['F32', 'F16', 'BF16', 'F64', 'I32', 'U32', 'BOOL', 'U8'];

/** The smallest policy the configuration allows: one layer of everything, one view, 32 px. */
export function fuzzPolicyConfig(): InternVLAA1Config {
  return tinyConfig({
    width: 16,
    layers: 1,
    visionLayers: 1,
    textTokens: 2,
    vocabSize: 32,
    imageSize: 32,
    views: 1,
    chunkSize: 2,
  });
}

interface Pristine {
  /** Tensors and metadata of a checkpoint saved with each float dtype. */
  ckpt: Record<'F32' | 'F16' | 'BF16', { tensors: RawTensor[]; metadata: Record<string, string> }>;
  /** One small tensor per loadable dtype, written by tensor-webgpu's writer. */
  plain: { tensors: RawTensor[] };
  config: InternVLAA1Config;
}

/** A built mutation: the file bytes and a description of what was done. */
interface Mutated {
  bytes: Uint8Array;
  what: string;
  /** Load target override (e.g. f16 weights for overflow checks). */
  target?: Target;
  /** floatDtype of loadSafetensors for `st:` cases. */
  floatDtype?: 'auto' | 'f32' | 'f16';
}

type Target = 'loadPolicy' | 'loadPolicy-f16' | 'loadPolicyWeights';

const copyTensors = (ts: readonly OracleTensor[]): RawTensor[] =>
  ts.map((t) => ({ name: t.name, dtype: t.dtype, shape: [...t.shape], data: t.bytes.slice() }));

/** A manifest (the one savePolicy writes) for these tensors. */
function manifestFor(tensors: readonly RawTensor[]): string {
  return JSON.stringify(
    tensors.map((t) => ({ name: t.name, shape: t.shape, dtype: t.dtype, crc32: crc32Hex(t.data) })),
  );
}

/** Rebuilds a file from tensors; with `syncManifest` the manifest follows the tensors. */
function build(
  tensors: RawTensor[],
  metadata: Record<string, string> | undefined,
  syncManifest: boolean,
): Uint8Array {
  const md = metadata && syncManifest ? { ...metadata, manifest: manifestFor(tensors) } : metadata;
  const { header, data } = layout(tensors, md);
  return assemble(JSON.stringify(header), data);
}

/** Rebuilds a file after editing its header object (offsets as laid out, then edited). */
function buildEdited(
  tensors: RawTensor[],
  metadata: Record<string, string> | undefined,
  edit: (header: Record<string, Record<string, unknown>>) => void,
): Uint8Array {
  const { header, data } = layout(tensors, metadata);
  edit(header as Record<string, Record<string, unknown>>);
  return assemble(JSON.stringify(header), data);
}

function headerEnd(bytes: Uint8Array): number {
  return 8 + Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
}

function flipBytes(rng: Rng, bytes: Uint8Array, from: number, to: number, count: number): string[] {
  const at: string[] = [];
  for (let k = 0; k < count && to > from; k++) {
    const i = rng.int(from, to - 1);
    const x = rng.int(1, 255);
    bytes[i] ^= x;
    at.push(`${i}^0x${x.toString(16)}`);
  }
  return at;
}

/** A number that is not a valid dimension or offset, or a valid but absurd one. */
function oddNumber(rng: Rng): unknown {
  return rng.pick<unknown>([1e9, 2 ** 53, 2 ** 60, -1, -8, 2.5, 0.5, '4', null, true, [], {}, 1e308, 0]);
}

/** Converts a float tensor's values to `dtype` (ints truncated, BOOL as 0/1 of value ≠ 0, U8 clamped). */
function convert(t: RawTensor, dtype: string): RawTensor {
  const v = decodeValues({ ...t, bytes: t.data });
  const conv = Array.from(v, (x) => {
    if (dtype === 'BOOL') return x !== 0 ? 1 : 0;
    if (dtype === 'U8') return Math.max(0, Math.min(255, Math.round(x * 100)));
    if (dtype === 'I32') return Math.trunc(x * 100);
    if (dtype === 'U32') return Math.abs(Math.trunc(x * 100));
    return x;
  });
  return { ...t, dtype, data: encodeValues(dtype, conv) };
}

// ---- checkpoint mutations ------------------------------------------------------------------------

function mutateCheckpoint(kind: string, rng: Rng, p: Pristine): Mutated {
  const variant = rng.pick(['F32', 'F32', 'F16', 'BF16'] as const);
  const base = p.ckpt[variant];
  const tensors: RawTensor[] = base.tensors.map((t) => ({ ...t, shape: [...t.shape], data: t.data.slice() }));
  const md = { ...base.metadata };
  const pristine = build(tensors, md, false);
  const ti = rng.int(0, tensors.length - 1);
  const t = tensors[ti];
  const tag = `${variant} checkpoint`;
  switch (kind) {
    case 'ckpt:truncate': {
      const end = headerEnd(pristine);
      const at = rng.chance(0.5) ? rng.int(0, end - 1) : rng.int(end, pristine.length - 1);
      return { bytes: pristine.slice(0, at), what: `${tag} truncated to ${at} of ${pristine.length} bytes` };
    }
    case 'ckpt:flip-header': {
      const bytes = pristine.slice();
      const at = flipBytes(rng, bytes, 0, headerEnd(bytes), rng.int(1, 4));
      return { bytes, what: `${tag} header bytes flipped at ${at.join(', ')}` };
    }
    case 'ckpt:flip-data': {
      const bytes = pristine.slice();
      const at = flipBytes(rng, bytes, headerEnd(bytes), bytes.length, rng.int(1, 4));
      return { bytes, what: `${tag} data bytes flipped at ${at.join(', ')}` };
    }
    case 'ckpt:dtype': {
      const to = rng.pick(SWAP_DTYPES.filter((d) => d !== t.dtype));
      const mode = rng.pick(['header', 'header+manifest', 'reinterpret', 'convert'] as const);
      if (mode === 'convert') {
        tensors[ti] = convert(t, to);
        return {
          bytes: build(tensors, md, true),
          what: `${tag}: ${t.name} converted ${t.dtype}→${to} (header, data, manifest and CRC consistent)`,
        };
      }
      if (mode === 'reinterpret') {
        // Same bytes under a dtype of the same width, manifest and CRC consistent: e.g. floats read as ints.
        const same = SWAP_DTYPES.filter((d) => d !== t.dtype && DTYPE_BYTES[d] === DTYPE_BYTES[t.dtype]);
        const d2 = same.length ? rng.pick(same) : to;
        const elems = t.data.byteLength / DTYPE_BYTES[d2];
        tensors[ti] = {
          ...t,
          dtype: d2,
          shape:
            Number.isInteger(elems) && elems !== t.data.byteLength / DTYPE_BYTES[t.dtype] ? [elems] : t.shape,
        };
        return {
          bytes: build(tensors, md, true),
          what: `${tag}: ${t.name} bytes relabelled ${t.dtype}→${d2} (manifest and CRC consistent)`,
        };
      }
      const bytes = buildEdited(
        tensors,
        mode === 'header'
          ? md
          : { ...md, manifest: manifestFor(tensors.map((x, i) => (i === ti ? { ...x, dtype: to } : x))) },
        (h) => {
          h[t.name].dtype = to;
        },
      );
      return {
        bytes,
        what: `${tag}: ${t.name} dtype ${t.dtype}→${to} in the header${mode === 'header' ? '' : ' and manifest'}, data unchanged`,
      };
    }
    case 'ckpt:shape': {
      const shapes: unknown[] = [
        [oddNumber(rng)],
        [...t.shape].reverse(),
        [1, ...t.shape],
        [],
        [0],
        t.shape.map((d) => d * 2),
        [t.shape.reduce((a, b) => a * b, 1)],
        t.shape.map(() => oddNumber(rng)),
      ];
      const shape = rng.pick(shapes.filter((x) => JSON.stringify(x) !== JSON.stringify(t.shape)));
      const withManifest = rng.chance(0.5);
      const edited = tensors.map((x, i) => (i === ti ? { ...x, shape: shape as number[] } : x));
      const bytes = buildEdited(
        tensors,
        withManifest ? { ...md, manifest: manifestFor(edited) } : md,
        (h) => {
          h[t.name].shape = shape;
        },
      );
      return {
        bytes,
        what: `${tag}: ${t.name} shape ${JSON.stringify(t.shape)}→${JSON.stringify(shape)} in the header${withManifest ? ' and manifest' : ''}`,
      };
    }
    case 'ckpt:offsets':
      return offsetEdit(rng, tensors, md, tag);
    case 'ckpt:names':
      return nameEdit(rng, tensors, md, tag, true);
    case 'ckpt:config':
      return configEdit(rng, tensors, md, tag, p.config);
    case 'ckpt:manifest':
      return manifestEdit(rng, tensors, md, tag);
    case 'ckpt:metadata': {
      const edit = rng.pick([
        'format',
        'version',
        'drop-metadata',
        'drop-config',
        'drop-manifest',
        'extra-key',
        'non-string',
      ] as const);
      const m: Record<string, unknown> = { ...md };
      let what = '';
      switch (edit) {
        case 'format':
          m.format = rng.pick(['', 'vla/internvla-a2', 'pt', 'VLA/INTERNVLA-A1']);
          what = `__metadata__.format = ${JSON.stringify(m.format)}`;
          break;
        case 'version':
          m.format_version = rng.pick(['3', '0', '1.0', '', 'one', '1e0', ' 2']);
          what = `__metadata__.format_version = ${JSON.stringify(m.format_version)}`;
          break;
        case 'drop-metadata': {
          const { header, data } = layout(tensors, undefined);
          return { bytes: assemble(JSON.stringify(header), data), what: `${tag} without __metadata__` };
        }
        case 'drop-config':
          delete m.config;
          what = '__metadata__.config removed';
          break;
        case 'drop-manifest':
          delete m.manifest;
          what = '__metadata__.manifest removed';
          break;
        case 'extra-key':
          m.note = 'written by a fuzzer';
          what = '__metadata__ has an extra key "note"';
          break;
        case 'non-string':
          m[rng.pick(['format_version', 'config', 'manifest'])] = rng.pick<unknown>([1, null, {}, []]);
          what = `__metadata__ value of wrong type: ${JSON.stringify(m)}`.slice(0, 160);
          break;
      }
      return { bytes: build(tensors, m as Record<string, string>, false), what: `${tag}: ${what}` };
    }
    case 'ckpt:values':
      return valueEdit(rng, tensors, md, tag);
  }
  throw new Error(`unknown kind ${kind}`);
}

function offsetEdit(
  rng: Rng,
  tensors: RawTensor[],
  md: Record<string, string> | undefined,
  tag: string,
): Mutated {
  const t = rng.pick(tensors);
  const u = rng.pick(tensors.filter((x) => x !== t).length ? tensors.filter((x) => x !== t) : tensors);
  const edit = rng.pick(['swap', 'shift', 'past-end', 'odd', 'empty', 'overlap', 'three'] as const);
  let desc = '';
  const bytes = buildEdited(tensors, md, (h) => {
    const a = h[t.name].data_offsets as number[];
    const b = h[u.name].data_offsets as number[];
    switch (edit) {
      case 'swap':
        h[t.name].data_offsets = b;
        h[u.name].data_offsets = a;
        desc = `data_offsets of ${t.name} and ${u.name} swapped`;
        break;
      case 'shift': {
        const d = rng.pick([-8, -4, -1, 1, 4, 8]);
        h[t.name].data_offsets = [a[0] + d, a[1] + d];
        desc = `${t.name} data_offsets shifted by ${d}`;
        break;
      }
      case 'past-end':
        h[t.name].data_offsets = [a[0], a[1] + rng.pick([1, 1000, 2 ** 40])];
        desc = `${t.name} data_offsets end moved past the data`;
        break;
      case 'odd':
        h[t.name].data_offsets = [oddNumber(rng), a[1]];
        desc = `${t.name} data_offsets ${JSON.stringify(h[t.name].data_offsets)}`;
        break;
      case 'empty':
        h[t.name].data_offsets = [a[0], a[0]];
        desc = `${t.name} data_offsets empty [${a[0]}, ${a[0]}]`;
        break;
      case 'overlap':
        h[t.name].data_offsets = [b[0], b[0] + (a[1] - a[0])];
        desc = `${t.name} data_offsets moved onto ${u.name}`;
        break;
      case 'three':
        h[t.name].data_offsets = [a[0], a[1], a[1]];
        desc = `${t.name} data_offsets has three entries`;
        break;
    }
  });
  return { bytes, what: `${tag}: ${desc}` };
}

function nameEdit(
  rng: Rng,
  tensors: RawTensor[],
  md: Record<string, string> | undefined,
  tag: string,
  manifested: boolean,
): Mutated {
  const ti = rng.int(0, tensors.length - 1);
  const t = tensors[ti];
  const edit = rng.pick(['duplicate', 'missing', 'extra', 'rename', 'metadata-name'] as const);
  const syncManifest = manifested && rng.chance(0.5);
  const sync = syncManifest ? ' (manifest follows)' : manifested ? ' (manifest unchanged)' : '';
  switch (edit) {
    case 'duplicate': {
      const { header, data } = layout(tensors, md);
      const text = JSON.stringify(header);
      const dup = `,${JSON.stringify(t.name)}:${JSON.stringify(header[t.name])}`;
      return {
        bytes: assemble(`${text.slice(0, -1)}${dup}}`, data),
        what: `${tag}: header names ${t.name} twice`,
      };
    }
    case 'missing': {
      const rest = tensors.filter((_, i) => i !== ti);
      return { bytes: build(rest, md, syncManifest), what: `${tag}: ${t.name} removed${sync}` };
    }
    case 'extra': {
      const extra: RawTensor = {
        name: rng.pick(['extra.weight', `${t.name}.copy`, 'constructor', '__proto__']),
        dtype: 'F32',
        shape: [3],
        data: encodeValues('F32', [1, 2, 3]),
      };
      return {
        bytes: build([...tensors, extra], md, syncManifest),
        what: `${tag}: extra tensor ${JSON.stringify(extra.name)}${sync}`,
      };
    }
    case 'rename': {
      const renamed = tensors.map((x, i) => (i === ti ? { ...x, name: `${x.name}_renamed` } : x));
      return { bytes: build(renamed, md, syncManifest), what: `${tag}: ${t.name} renamed${sync}` };
    }
    case 'metadata-name': {
      const { header, data } = layout(tensors, undefined);
      const text = JSON.stringify(header);
      const entry = JSON.stringify(header[t.name]);
      return {
        bytes: assemble(`{"__metadata__":${entry},${text.slice(1)}`, data),
        what: `${tag}: __metadata__ is a tensor entry`,
      };
    }
  }
}

/** Leaf paths of a JSON object, dotted. */
function leafPaths(v: unknown, prefix = ''): string[] {
  if (v === null || typeof v !== 'object') return [prefix];
  const out: string[] = [];
  for (const [k, x] of Object.entries(v)) out.push(...leafPaths(x, prefix ? `${prefix}.${k}` : k));
  return out.length ? out : [prefix];
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown, remove: boolean): void {
  const keys = path.split('.');
  let o = obj as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) o = o[k] as Record<string, unknown>;
  const last = keys[keys.length - 1];
  if (remove) delete o[last];
  else o[last] = value;
}

function configEdit(
  rng: Rng,
  tensors: RawTensor[],
  md: Record<string, string>,
  tag: string,
  config: InternVLAA1Config,
): Mutated {
  const edit = rng.pick(['leaf', 'leaf', 'leaf', 'a1-3b', 'layers-2000', 'whole'] as const);
  const cfg = JSON.parse(md.config) as Record<string, unknown>;
  let text: string;
  let what: string;
  if (edit === 'a1-3b') {
    text = JSON.stringify(a13bConfig());
    what = 'config replaced by a1-3b (tensors stay tiny)';
  } else if (edit === 'layers-2000') {
    const c = structuredClone(config) as InternVLAA1Config;
    c.vlm.text.numLayers = rng.pick([2000, 100000]);
    text = JSON.stringify(c);
    what = `config vlm.text.numLayers = ${c.vlm.text.numLayers}`;
  } else if (edit === 'whole') {
    text = rng.pick([
      'null',
      '[]',
      '{}',
      '"tiny"',
      '42',
      md.config.slice(0, rng.int(1, md.config.length - 1)),
    ]);
    what = `config text ${JSON.stringify(text.slice(0, 40))}`;
  } else {
    const path = rng.pick(leafPaths(cfg));
    const old = path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], cfg);
    const choices: unknown[] = [null, 'x', String(old), -1, 0, 1e9, 2000, 2.5, true, [], {}];
    if (typeof old === 'number') choices.push(old + 0.5, -old, old * 1000);
    const changed = choices.filter((c) => JSON.stringify(c) !== JSON.stringify(old));
    const remove = rng.chance(0.15);
    const value = rng.pick(changed);
    setPath(cfg, path, value, remove);
    text = JSON.stringify(cfg);
    what = remove
      ? `config field ${path} removed`
      : `config ${path}: ${JSON.stringify(old)}→${JSON.stringify(value)}`;
  }
  // Absurd sizes matter where the loader builds the policy the file describes.
  const target: Target | undefined = edit === 'a1-3b' || edit === 'layers-2000' ? 'loadPolicy' : undefined;
  return { bytes: build(tensors, { ...md, config: text }, false), what: `${tag}: ${what}`, target };
}

function manifestEdit(rng: Rng, tensors: RawTensor[], md: Record<string, string>, tag: string): Mutated {
  const list = JSON.parse(md.manifest) as Record<string, unknown>[];
  const i = rng.int(0, list.length - 1);
  const name = String(list[i].name);
  const edit = rng.pick(['field', 'field', 'drop', 'duplicate', 'reorder', 'crc', 'whole'] as const);
  let text: string;
  let what: string;
  switch (edit) {
    case 'field': {
      const field = rng.pick(['name', 'shape', 'dtype', 'crc32']);
      const value = rng.pick<unknown>([null, 5, 'x', [], {}, true, '1', [1e9], [-1]]);
      list[i][field] = value;
      text = JSON.stringify(list);
      what = `manifest entry ${name}.${field} = ${JSON.stringify(value)}`;
      break;
    }
    case 'drop':
      list.splice(i, 1);
      text = JSON.stringify(list);
      what = `manifest entry ${name} removed`;
      break;
    case 'duplicate':
      list.push({ ...list[i] });
      text = JSON.stringify(list);
      what = `manifest lists ${name} twice`;
      break;
    case 'reorder':
      list.reverse();
      text = JSON.stringify(list);
      what = 'manifest entries in reverse order';
      break;
    case 'crc':
      list[i].crc32 = rng.pick(['00000000', String(list[i].crc32).toUpperCase(), 'zzzzzzzz', '']);
      text = JSON.stringify(list);
      what = `manifest crc32 of ${name} = ${JSON.stringify(list[i].crc32)}`;
      break;
    case 'whole':
      text = rng.pick([
        'null',
        '{}',
        '"x"',
        '[null]',
        '[1,2]',
        md.manifest.slice(0, rng.int(1, md.manifest.length - 1)),
      ]);
      what = `manifest text ${JSON.stringify(text.slice(0, 40))}`;
      break;
  }
  return { bytes: build(tensors, { ...md, manifest: text }, false), what: `${tag}: ${what}` };
}

function valueEdit(rng: Rng, tensors: RawTensor[], md: Record<string, string>, tag: string): Mutated {
  const floats = tensors
    .map((t, i) => [t, i] as const)
    .filter(([t]) => FLOAT_DTYPES.has(t.dtype) && t.data.byteLength >= 8);
  const [t, ti] = rng.pick(floats);
  const v = Array.from(decodeValues({ ...t, bytes: t.data }));
  const k = rng.int(0, v.length - 1);
  const edit = rng.pick(['f16-overflow', 'f64-overflow', 'f64-plain', 'nonfinite', 'bool-bytes'] as const);
  switch (edit) {
    case 'f16-overflow': {
      const x = rng.pick([1e5, -1e5, 70000, 65520, 3e38]);
      v[k] = x;
      const dtype = t.dtype === 'F16' ? 'F32' : t.dtype;
      tensors[ti] = { ...t, dtype, data: encodeValues(dtype, v) };
      return {
        bytes: build(tensors, md, true),
        what: `${tag}: ${t.name}[${k}] = ${x} (${dtype}), loaded with weightDtype f16`,
        target: 'loadPolicy-f16',
      };
    }
    case 'f64-overflow': {
      const x = rng.pick([1e300, -1e300, 3.5e38, 1e39]);
      v[k] = x;
      tensors[ti] = { ...t, dtype: 'F64', data: encodeValues('F64', v) };
      return {
        bytes: build(tensors, md, true),
        what: `${tag}: ${t.name} stored as F64 with element ${k} = ${x}`,
      };
    }
    case 'f64-plain':
      tensors[ti] = { ...t, dtype: 'F64', data: encodeValues('F64', v) };
      return { bytes: build(tensors, md, true), what: `${tag}: ${t.name} stored as F64 (same values)` };
    case 'nonfinite': {
      const x = rng.pick([NaN, Infinity, -Infinity]);
      v[k] = x;
      tensors[ti] = { ...t, data: encodeValues(t.dtype, v) };
      return { bytes: build(tensors, md, true), what: `${tag}: ${t.name}[${k}] = ${x}` };
    }
    case 'bool-bytes': {
      const bytes = new Uint8Array(v.length).map((_, i) => (i === k ? rng.pick([2, 255]) : i % 2));
      tensors[ti] = { ...t, dtype: 'BOOL', data: bytes }; // same shape, one byte per element
      return {
        bytes: build(tensors, md, true),
        what: `${tag}: ${t.name} stored as BOOL with byte ${k} = ${bytes[k]}`,
      };
    }
  }
}

// ---- plain safetensors mutations -----------------------------------------------------------------

function mutatePlain(kind: string, rng: Rng, p: Pristine): Mutated {
  const tensors: RawTensor[] = p.plain.tensors.map((t) => ({
    ...t,
    shape: [...t.shape],
    data: t.data.slice(),
  }));
  const pristine = build(tensors, undefined, false);
  const floatDtype = rng.pick(['auto', 'f32', 'f16'] as const);
  const ti = rng.int(0, tensors.length - 1);
  const t = tensors[ti];
  const out = (bytes: Uint8Array, what: string): Mutated => ({
    bytes,
    what: `safetensors file: ${what}`,
    floatDtype,
  });
  switch (kind) {
    case 'st:truncate': {
      const at = rng.int(0, pristine.length - 1);
      return out(pristine.slice(0, at), `truncated to ${at} of ${pristine.length} bytes`);
    }
    case 'st:flip': {
      const bytes = pristine.slice();
      const end = headerEnd(bytes);
      const inHeader = rng.chance(0.6);
      const at = flipBytes(rng, bytes, inHeader ? 0 : end, inHeader ? end : bytes.length, rng.int(1, 3));
      return out(bytes, `${inHeader ? 'header' : 'data'} bytes flipped at ${at.join(', ')}`);
    }
    case 'st:dtype': {
      const to = rng.pick(SWAP_DTYPES.filter((d) => d !== t.dtype));
      if (rng.chance(0.5)) {
        const elems = t.data.byteLength / DTYPE_BYTES[to];
        tensors[ti] = { ...t, dtype: to, shape: Number.isInteger(elems) ? [elems] : t.shape };
        return out(
          build(tensors, undefined, false),
          `${t.name} bytes relabelled ${t.dtype}→${to} with shape ${JSON.stringify(tensors[ti].shape)}`,
        );
      }
      return out(
        buildEdited(tensors, undefined, (h) => (h[t.name].dtype = to)),
        `${t.name} dtype ${t.dtype}→${to} in the header only`,
      );
    }
    case 'st:shape': {
      const shapes: unknown[] = [
        [oddNumber(rng)],
        [...t.shape].reverse(),
        [1, ...t.shape],
        [],
        [0],
        t.shape.map(() => oddNumber(rng)),
      ];
      const shape = rng.pick(shapes.filter((x) => JSON.stringify(x) !== JSON.stringify(t.shape)));
      return out(
        buildEdited(tensors, undefined, (h) => (h[t.name].shape = shape)),
        `${t.name} shape ${JSON.stringify(t.shape)}→${JSON.stringify(shape)}`,
      );
    }
    case 'st:offsets': {
      const m = offsetEdit(rng, tensors, undefined, '');
      return out(m.bytes, m.what.replace(/^: /, ''));
    }
    case 'st:names': {
      const m = nameEdit(rng, tensors, undefined, '', false);
      return out(m.bytes, m.what.replace(/^: /, ''));
    }
    case 'st:values': {
      const edit = rng.pick(['bool', 'f16-overflow', 'f64-overflow', 'i64-range', 'nonfinite'] as const);
      const find = (d: string) => tensors.findIndex((x) => x.dtype === d);
      if (edit === 'bool') {
        const i = find('BOOL');
        const k = rng.int(0, tensors[i].data.length - 1);
        const b = rng.pick([2, 255, 128]);
        tensors[i].data[k] = b;
        return out(build(tensors, undefined, false), `BOOL tensor ${tensors[i].name} byte ${k} = ${b}`);
      }
      if (edit === 'f16-overflow') {
        const i = find('F32');
        const x = rng.pick([1e5, -70000, 65520]);
        tensors[i].data.set(encodeValues('F32', [x]), 0);
        return {
          ...out(
            build(tensors, undefined, false),
            `F32 ${tensors[i].name}[0] = ${x} loaded with floatDtype f16`,
          ),
          floatDtype: 'f16',
        };
      }
      if (edit === 'f64-overflow') {
        const i = find('F64');
        const x = rng.pick([1e300, -1e300, 1e39]);
        tensors[i].data.set(encodeValues('F64', [x]), 8);
        return out(build(tensors, undefined, false), `F64 ${tensors[i].name}[1] = ${x}`);
      }
      if (edit === 'i64-range') {
        const i = find('I64');
        const x = rng.pick([2 ** 31, -(2 ** 31) - 1, 2 ** 40]);
        tensors[i].data.set(encodeValues('I64', [x]), 0);
        return out(build(tensors, undefined, false), `I64 ${tensors[i].name}[0] = ${x}`);
      }
      const i = find(rng.pick(['F32', 'F16', 'BF16', 'F64']));
      const x = rng.pick([NaN, Infinity, -Infinity]);
      tensors[i].data.set(encodeValues(tensors[i].dtype, [x]), 0);
      return out(build(tensors, undefined, false), `${tensors[i].dtype} ${tensors[i].name}[0] = ${x}`);
    }
  }
  throw new Error(`unknown kind ${kind}`);
}

// ---- oracles -------------------------------------------------------------------------------------

const same = (a: number, b: number) => a === b || (Number.isNaN(a) && Number.isNaN(b));

/** Values a GPU tensor of `dtype` must hold after loading file values `v` of `fileDtype`; null = not allowed. */
function expectedValues(fileDtype: string, dtype: string, v: Float64Array): Float64Array[] | string {
  const float = FLOAT_DTYPES.has(fileDtype);
  if ((dtype === 'f32' || dtype === 'f16') !== float) return `file dtype ${fileDtype} loaded as ${dtype}`;
  if (dtype === 'f32' || dtype === 'f16') {
    // Rounding is expected; a finite value turning into ±Infinity is a value change, not rounding.
    const round = dtype === 'f32' ? Math.fround : roundToHalf;
    const bad = v.findIndex((x) => Number.isFinite(x) && !Number.isFinite(round(x)));
    if (bad >= 0) return `element ${bad} = ${v[bad]} overflows ${dtype} and was loaded as ${round(v[bad])}`;
  }
  if (dtype === 'f32') return [v.map((x) => Math.fround(x))];
  if (dtype === 'f16') return [v.map((x) => roundToHalf(x)), v.map((x) => roundToHalf(Math.fround(x)))];
  if (dtype === 'bool') {
    if (fileDtype !== 'BOOL') return `file dtype ${fileDtype} loaded as bool`;
    const bad = v.findIndex((x) => x !== 0 && x !== 1);
    if (bad >= 0) return `BOOL byte ${bad} is ${v[bad]} but loaded as ${v[bad] ? 1 : 0}`;
    return [v];
  }
  const range: Record<string, [number, number]> = {
    i32: [-(2 ** 31), 2 ** 31 - 1],
    u32: [0, 2 ** 32 - 1],
    u8: [0, 255],
  };
  const r = range[dtype];
  if (!r) return `loaded as unexpected dtype ${dtype}`;
  if (fileDtype === 'BOOL' && dtype !== 'u8') return `file dtype BOOL loaded as ${dtype}`;
  const bad = v.findIndex((x) => x < r[0] || x > r[1]);
  if (bad >= 0) return `element ${bad} = ${v[bad]} does not fit ${dtype}`;
  return [v];
}

/** Compares one loaded tensor with the file's tensor; returns a disagreement or null. */
async function compareTensor(ft: OracleTensor, loaded: Tensor): Promise<string | null> {
  if (loaded.shape.join() !== ft.shape.join())
    return `${ft.name}: loaded shape [${loaded.shape.join(', ')}], file [${ft.shape.join(', ')}]`;
  const v = decodeValues(ft);
  const exp = expectedValues(ft.dtype, loaded.dtype, v);
  if (typeof exp === 'string') return `${ft.name}: ${exp}`;
  const got = await loaded.toArray();
  if (got.length !== v.length) return `${ft.name}: ${got.length} values loaded, file has ${v.length}`;
  for (const e of exp) {
    let i = 0;
    while (i < v.length && same(got[i], e[i])) i++;
    if (i === v.length) return null;
  }
  const e = exp[0];
  const i = Array.from(got).findIndex((g, k) => !same(g, e[k]));
  const overflow =
    Number.isFinite(v[i]) && !Number.isFinite(got[i]) ? ' (finite value became non-finite)' : '';
  return `${ft.name}[${i}]: file ${ft.dtype} ${v[i]}, loaded ${loaded.dtype} ${got[i]}, expected ${e[i]}${overflow}`;
}

/** The oracle for an accepted policy checkpoint: format, metadata, config, manifest and every value. */
async function checkPolicy(bytes: Uint8Array, policy: InternVLAA1Policy): Promise<Verdict> {
  const silent = (detail: string): Verdict => ({ outcome: 'silent-change', detail });
  const parsed = parseFile(bytes);
  if (!parsed.ok) return silent(`accepted a file the format forbids (${parsed.reason})`);
  const md = parsed.file.metadata;
  if (!md) return silent('accepted a file without __metadata__');
  // savePolicy writes the current version; older versions are only read.
  if (md.format !== 'vla/internvla-a1' || md.format_version !== String(CHECKPOINT_VERSION))
    return silent(
      `accepted format ${JSON.stringify(md.format)} version ${JSON.stringify(md.format_version)}`,
    );
  let config: unknown;
  let manifest: unknown;
  try {
    config = JSON.parse(md.config);
    manifest = JSON.parse(md.manifest);
  } catch (e) {
    return silent(`accepted unparsable config/manifest (${(e as Error).message})`);
  }
  if (!isDeepStrictEqual(JSON.parse(JSON.stringify(policy.config)), config))
    return silent(
      `loaded config differs from the file's: ${firstDifference(JSON.parse(JSON.stringify(policy.config)), config)}`,
    );
  const files = new Map(parsed.file.tensors.map((t) => [t.name, t]));
  if (!Array.isArray(manifest) || manifest.length !== files.size)
    return silent(
      `accepted a manifest of ${Array.isArray(manifest) ? manifest.length : typeof manifest} entries for ${files.size} tensors`,
    );
  const listed = new Set<string>();
  for (const m of manifest as Record<string, unknown>[]) {
    const f = files.get(m?.name as string);
    if (!f || listed.has(f.name))
      return silent(
        `accepted manifest entry ${JSON.stringify(m).slice(0, 80)} (missing or repeated in the file)`,
      );
    listed.add(f.name);
    if (m.dtype !== f.dtype || !isDeepStrictEqual(m.shape, f.shape) || m.crc32 !== crc32Hex(f.bytes))
      return silent(
        `accepted ${f.name} whose manifest entry disagrees with the file (${JSON.stringify(m).slice(0, 100)})`,
      );
  }
  const sd = policy.stateDict();
  const names = Object.keys(sd);
  const missing = names.filter((n) => !files.has(n));
  if (missing.length)
    return silent(
      `policy tensors not in the file kept their initial values: ${missing.slice(0, 3).join(', ')}`,
    );
  const extra = [...files.keys()].filter((n) => !(n in sd));
  if (extra.length) return silent(`file tensors ignored: ${extra.slice(0, 3).join(', ')}`);
  for (const name of names) {
    const d = await compareTensor(files.get(name)!, sd[name]);
    if (d) return silent(d);
  }
  return { outcome: 'accepted' };
}

function firstDifference(a: unknown, b: unknown, path = ''): string {
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstDifference(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
        path ? `${path}.${k}` : k,
      );
      if (d) return d;
    }
    return '';
  }
  return isDeepStrictEqual(a, b)
    ? ''
    : `${path || '(root)'}: loaded ${JSON.stringify(a)}, file ${JSON.stringify(b)}`;
}

/** The oracle for an accepted plain safetensors load. */
async function checkPlain(bytes: Uint8Array, loaded: Map<string, Tensor>): Promise<Verdict> {
  const parsed = parseFile(bytes);
  if (!parsed.ok)
    return { outcome: 'silent-change', detail: `accepted a file the format forbids (${parsed.reason})` };
  const files = parsed.file.tensors;
  const names = [...loaded.keys()].sort().join();
  if (
    names !==
    files
      .map((t) => t.name)
      .sort()
      .join()
  )
    return {
      outcome: 'silent-change',
      detail: `loaded tensors [${[...loaded.keys()].join(', ')}], file has [${files.map((t) => t.name).join(', ')}]`,
    };
  for (const ft of files) {
    const d = await compareTensor(ft, loaded.get(ft.name)!);
    if (d) return { outcome: 'silent-change', detail: d };
  }
  return { outcome: 'accepted' };
}

// ---- the campaign --------------------------------------------------------------------------------

/** Policy checkpoints and plain safetensors files, mutated and loaded. */
export function checkpointsCampaign(): Campaign {
  let pristine: Pristine | undefined;
  let dir = '';
  return {
    name: 'checkpoints',
    kinds: CHECKPOINT_KINDS,
    leakUnit: 'GPU bytes in use',
    async setup() {
      await cappedEngine();
      dir = scratchDir('ckpt-');
      const config = fuzzPolicyConfig();
      manualSeed(11);
      const policy = InternVLAA1Policy.create(config);
      const ckpt = {} as Pristine['ckpt'];
      for (const dtype of ['F32', 'F16', 'BF16'] as const) {
        const parsed = parseFile(await savePolicy(undefined, policy, { dtype }));
        if (!parsed.ok)
          throw new Error(`the oracle rejects a pristine ${dtype} checkpoint: ${parsed.reason}`);
        ckpt[dtype] = { tensors: copyTensors(parsed.file.tensors), metadata: { ...parsed.file.metadata! } };
      }
      policy.dispose();
      const host: Record<string, HostTensor> = {
        f32: {
          dtype: 'F32',
          shape: [3, 4],
          data: Float32Array.from({ length: 12 }, (_, i) => (i - 5.5) / 3),
        },
        f16: { dtype: 'F16', shape: [5], data: Uint16Array.from([0x3c00, 0xc000, 0x0001, 0x7bff, 0x3555]) },
        bf16: {
          dtype: 'BF16',
          shape: [2, 3],
          data: Uint16Array.from([0x3f80, 0xbf80, 0x4049, 0x0000, 0x4700, 0x3e80]),
        },
        f64: { dtype: 'F64', shape: [4], data: Float64Array.from([0.1, -2.5, 1e-3, 12345.678]) },
        i32: { dtype: 'I32', shape: [3], data: Int32Array.from([-7, 0, 2 ** 31 - 1]) },
        u32: { dtype: 'U32', shape: [2, 2], data: Uint32Array.from([0, 1, 2 ** 32 - 1, 77]) },
        i64: { dtype: 'I64', shape: [3], data: BigInt64Array.from([-5n, 0n, 2n ** 31n - 1n]) },
        i16: { dtype: 'I16', shape: [2], data: Int16Array.from([-32768, 32767]) },
        u16: { dtype: 'U16', shape: [2], data: Uint16Array.from([0, 65535]) },
        i8: { dtype: 'I8', shape: [3], data: Int8Array.from([-128, 0, 127]) },
        u8: { dtype: 'U8', shape: [7], data: Uint8Array.from([0, 1, 2, 3, 128, 254, 255]) },
        mask: { dtype: 'BOOL', shape: [5], data: Uint8Array.from([1, 0, 0, 1, 1]) },
      };
      const plain = parseFile(serializeSafetensors(host));
      if (!plain.ok) throw new Error(`the oracle rejects tensor-webgpu's own file: ${plain.reason}`);
      pristine = { ckpt, plain: { tensors: copyTensors(plain.file.tensors) }, config };
    },
    makeCase(kind: string, ctx: CaseContext): FuzzCase {
      const p = pristine!;
      const file = join(dir, `case-${ctx.index}.safetensors`);
      const plain = kind.startsWith('st:');
      const m = plain ? mutatePlain(kind, ctx.rng, p) : mutateCheckpoint(kind, ctx.rng, p);
      const target: Target =
        m.target ??
        ctx.rng.pick(['loadPolicy', 'loadPolicy', 'loadPolicyWeights', 'loadPolicy-f16'] as const);
      const call = plain
        ? `loadSafetensors(file, { floatDtype: '${m.floatDtype}' })`
        : target === 'loadPolicyWeights'
          ? 'loadPolicyWeights(tinyPolicy, file)'
          : `loadPolicy(file${target === 'loadPolicy-f16' ? ", { weightDtype: 'f16' }" : ''})`;
      return {
        kind,
        description: `${call} on ${m.what}`,
        subjects: [`case-${ctx.index}.safetensors`],
        async run(): Promise<Verdict> {
          writeFileSync(file, m.bytes);
          try {
            if (plain) {
              const loaded = await loadSafetensors(file, { floatDtype: m.floatDtype });
              try {
                return await checkPlain(m.bytes, loaded);
              } finally {
                for (const t of loaded.values()) t.dispose();
              }
            }
            if (target === 'loadPolicyWeights') {
              const policy = InternVLAA1Policy.create(p.config);
              try {
                await loadPolicyWeights(policy, file);
                return await checkPolicy(m.bytes, policy);
              } finally {
                policy.dispose();
              }
            }
            const policy = await loadPolicy(file, target === 'loadPolicy-f16' ? { weightDtype: 'f16' } : {});
            try {
              return await checkPolicy(m.bytes, policy);
            } finally {
              policy.dispose();
            }
          } finally {
            rmSync(file, { force: true });
          }
        },
      };
    },
    judgeError(error: unknown, fuzzCase: FuzzCase): Verdict {
      const plain = fuzzCase.kind.startsWith('st:');
      return judgeByClass(error, fuzzCase, plain ? [SafetensorsError] : [CheckpointError, SafetensorsError]);
    },
    leakProbe: gpuBytesInUse,
    async teardown() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
