// Host-level writing: typed arrays in, a spec-conforming file out (in memory or atomically on disk).
import { writeFileAtomic } from './atomicWrite.js';
import {
  planSafetensors,
  SAFETENSORS_DTYPE_BYTES,
  SafetensorsError,
  type SafetensorsDType,
} from './safetensorsFormat.js';

/** A tensor on the host: F16/BF16 as raw bits (Uint16Array), I64 as BigInt64Array, BOOL as 0/1 bytes. */
export interface HostTensor {
  dtype: SafetensorsDType;
  shape: readonly number[];
  data: ArrayBufferView;
}

/** Named tensors, as a record or a map (map order is kept). */
export type NamedTensors<T> = Record<string, T> | Map<string, T>;

/** Entries of a record or map, in order. @internal */
export function entriesOf<T>(tensors: NamedTensors<T>): [string, T][] {
  return tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
}

function checkHostTensor(name: string, t: HostTensor): Uint8Array {
  const n = t.shape.reduce((a, b) => a * b, 1);
  const want = n * (SAFETENSORS_DTYPE_BYTES[t.dtype] ?? NaN);
  if (!ArrayBuffer.isView(t.data))
    throw new SafetensorsError(undefined, `tensor ${JSON.stringify(name)}: data must be a typed array`);
  if (t.data.byteLength !== want) {
    throw new SafetensorsError(
      undefined,
      `tensor ${JSON.stringify(name)}: ${t.data.byteLength} bytes of data do not match shape [${t.shape.join(', ')}] of ${t.dtype} (${want} bytes)`,
    );
  }
  const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  if (t.dtype === 'BOOL') {
    const bad = bytes.findIndex((b) => b > 1);
    if (bad >= 0)
      throw new SafetensorsError(
        undefined,
        `tensor ${JSON.stringify(name)}: BOOL element ${bad} is ${bytes[bad]}, not 0 or 1`,
      );
  }
  return bytes;
}

function plan(tensors: NamedTensors<HostTensor>, metadata?: Record<string, string>) {
  const list = entriesOf(tensors);
  const bytes = new Map(list.map(([name, t]) => [name, checkHostTensor(name, t)]));
  const layout = planSafetensors(
    list.map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape })),
    metadata,
  );
  return { layout, bytes };
}

/** Serializes host tensors to safetensors bytes. */
export function serializeSafetensors(
  tensors: NamedTensors<HostTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const { layout, bytes } = plan(tensors, metadata);
  const out = new Uint8Array(layout.fileBytes);
  out.set(layout.prefix);
  for (const e of layout.order) out.set(bytes.get(e.name)!, layout.prefix.byteLength + e.begin);
  return out;
}

/** Writes host tensors to a safetensors file atomically (Node only). */
export async function writeSafetensors(
  path: string,
  tensors: NamedTensors<HostTensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  const { layout, bytes } = plan(tensors, metadata);
  await writeFileAtomic(path, async (write) => {
    await write(layout.prefix);
    for (const e of layout.order) await write(bytes.get(e.name)!);
  });
}
