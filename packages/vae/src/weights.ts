// Loading converted Cosmos checkpoints. The released encoder.jit / decoder.jit are converted once to
// safetensors (see README); the two files (or one merged file) load here under their own names.
// Every file's header is checked against the tokenizer (names across files, shapes, float dtypes,
// device limits) before the first tensor is allocated, and every error path frees what it made.
import {
  canLoadAs,
  checkTensorFitsDevice,
  readSafetensors,
  SafetensorsError,
  tensorFromSafetensors,
  type ByteSourceInput,
  type SafetensorsEntry,
  type SafetensorsFile,
  type Tensor,
} from '@vla/tensor-webgpu';
import type { CosmosImageTokenizer } from './tokenizer.js';

/** Constant buffers of upstream's Haar (un)patcher; they hold fixed wavelet taps, not weights. */
const IGNORED = /(^|\.)(patcher|unpatcher)\.(wavelets|_arange)$/;

/** True for checkpoint keys that carry no learned weight (the patcher's constant buffers). */
export function isIgnoredCosmosKey(key: string): boolean {
  return IGNORED.test(key);
}

const show = (xs: string[]) => xs.slice(0, 8).join(', ') + (xs.length > 8 ? `, … (${xs.length})` : '');

/**
 * Loads converted Cosmos-Tokenizer safetensors (e.g. `encoder.safetensors` and `decoder.safetensors`,
 * or a single merged file) into `tokenizer`, strictly: every parameter must be present once across
 * the files with its shape and a float dtype (F16, BF16, F32 or F64; integer data is never read as
 * weights), and no unknown key may remain (patcher constants excepted). All of this, and each
 * tensor's size against the device, is checked from the headers before anything is allocated.
 * Throws `SafetensorsError` naming the file and the tensor; nothing stays allocated on error, and
 * the tokenizer is only written once every tensor has loaded.
 */
export async function loadCosmosWeights(
  tokenizer: CosmosImageTokenizer,
  sources: ByteSourceInput | ByteSourceInput[],
): Promise<void> {
  const list = Array.isArray(sources) ? sources : [sources];
  const files: SafetensorsFile[] = [];
  const merged = new Map<string, Tensor>();
  try {
    for (const src of list) files.push(await readSafetensors(src));
    const all = files.map((f) => f.source).join(' + ');

    // Where each key comes from: a key in two files (or a file passed twice) is ambiguous.
    const owner = new Map<string, [SafetensorsFile, SafetensorsEntry]>();
    for (const file of files) {
      for (const entry of file.tensors.values()) {
        if (isIgnoredCosmosKey(entry.name)) continue;
        const first = owner.get(entry.name);
        if (first)
          throw new SafetensorsError(
            file.source,
            `tensor ${JSON.stringify(entry.name)} also appears in ${first[0] === file ? 'the same file' : first[0].source} (given ${list.length} files; pass each once)`,
          );
        owner.set(entry.name, [file, entry]);
      }
    }

    const specs = new Map(tokenizer.namedSpecs());
    const missing = [...specs.keys()].filter((k) => !owner.has(k));
    const unexpected = [...owner.keys()].filter((k) => !specs.has(k));
    const mismatched: string[] = [];
    for (const [k, spec] of specs) {
      const entry = owner.get(k)?.[1];
      if (!entry) continue;
      if (entry.shape.join() !== spec.shape.join())
        mismatched.push(
          `${k} has shape [${entry.shape.join(', ')}] in the file but [${spec.shape.join(', ')}] in the tokenizer`,
        );
      else if (!canLoadAs(entry.dtype, spec.dtype))
        mismatched.push(
          `${k} is ${entry.dtype} in the file, a type mismatch for the tokenizer's ${spec.dtype}`,
        );
    }
    const problems = [
      missing.length ? `missing keys: ${show(missing)}` : '',
      unexpected.length ? `unexpected keys: ${show(unexpected)}` : '',
      mismatched.length ? show(mismatched) : '',
    ].filter(Boolean);
    if (problems.length)
      throw new SafetensorsError(all, `not the weights of this tokenizer: ${problems.join('; ')}`);

    for (const [k, [file, entry]] of owner)
      checkTensorFitsDevice(entry, specs.get(k)!.dtype, { source: file.source });
    for (const [k, [file, entry]] of owner) {
      const data = await entry.data();
      merged.set(k, tensorFromSafetensors(entry, data, specs.get(k)!.dtype, { source: file.source }));
    }
    await tokenizer.loadStateDict(merged, { strict: true });
  } finally {
    for (const t of merged.values()) t.dispose();
    for (const f of files) await f.close();
  }
}
