// A checkpoint is validated whole before anything is allocated (config and manifest schemas, every
// tensor against the parameters the config implies, sizes against the device); every failure is a
// CheckpointError naming the file and the field or tensor, and leaves the GPU pool where it was.
import CRC32 from 'crc-32';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { manualSeed, type Backend } from '@vla/tensor-webgpu';
import {
  a13bConfig,
  CheckpointError,
  InternVLAA1Policy,
  loadPolicy,
  loadPolicyWeights,
  readPolicyManifest,
  savePolicy,
  tinyConfig,
} from '../src/index.js';
import { eng } from './setup.js';

const config = tinyConfig({
  width: 32,
  layers: 1,
  visionLayers: 1,
  textTokens: 4,
  vocabSize: 48,
  imageSize: 32,
});

type Header = Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> & {
  __metadata__: Record<string, string>;
};

/** The checkpoint with its header (and optionally data) edited; tensor offsets stay as they are. */
function rewrite(bytes: Uint8Array, edit: (header: Header, data: Uint8Array) => void): Uint8Array {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Header;
  const data = bytes.slice(8 + n);
  edit(header, data);
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

type Json = Record<string, unknown>;
const editConfig = (bytes: Uint8Array, edit: (c: Json) => void) =>
  rewrite(bytes, (h) => {
    const c = JSON.parse(h.__metadata__.config) as Json;
    edit(c);
    h.__metadata__.config = JSON.stringify(c);
  });
const editManifest = (bytes: Uint8Array, edit: (m: Json[]) => unknown) =>
  rewrite(bytes, (h) => {
    const m = JSON.parse(h.__metadata__.manifest) as Json[];
    h.__metadata__.manifest = JSON.stringify(edit(m) ?? m);
  });
const setMeta = (bytes: Uint8Array, key: string, value: string | undefined) =>
  rewrite(bytes, (h) => {
    if (value === undefined) delete h.__metadata__[key];
    else h.__metadata__[key] = value;
  });

/** The error a load fails with, or 'loaded' (the policy is disposed: a failed assertion never prints a whole model). */
function loadError(load: Promise<InternVLAA1Policy | void>): Promise<unknown> {
  return load.then(
    (policy) => {
      policy?.dispose();
      return 'loaded';
    },
    (e: unknown) => e,
  );
}

/** Runs `load` expecting a CheckpointError matching `message`, with no allocation and the pool unchanged. */
async function rejectsBeforeAllocating(
  engine: Backend,
  load: () => Promise<InternVLAA1Policy | void>,
  message: RegExp,
): Promise<void> {
  const alloc = vi.spyOn(engine, 'alloc');
  const start = engine.poolStats().inUseBytes;
  const err = await loadError(load());
  expect(engine.poolStats().inUseBytes - start, 'bytes leaked').toBe(0);
  expect(alloc.mock.calls.length, 'buffers allocated').toBe(0);
  expect(err, String(err)).toBeInstanceOf(CheckpointError);
  expect((err as Error).message).toMatch(/^policy checkpoint buffer: /);
  expect((err as Error).message).toMatch(message);
  alloc.mockRestore();
}

afterEach(() => vi.restoreAllMocks());

describe('checkpoint validation', () => {
  let good: Uint8Array;
  let names: string[];
  beforeAll(async () => {
    manualSeed(3);
    const policy = new InternVLAA1Policy(config);
    good = await savePolicy(undefined, policy);
    names = Object.keys(policy.stateDict());
    policy.dispose();
  });

  it('a config that claims other sizes is refused before anything is allocated (a1-3b, 40 layers)', async () => {
    const claims3b = setMeta(good, 'config', JSON.stringify(a13bConfig()));
    const deeper = editConfig(good, (c) => ((c.vlm as { text: Json }).text.numLayers = 40));
    for (let i = 0; i < 3; i++) {
      await rejectsBeforeAllocating(
        eng,
        () => loadPolicy(claims3b),
        /does not match the policy's tensors: missing .*; shape mismatch und_expert\.visual\.patch_embed\.proj\.weight \[32, 3, 2, 16, 16\] vs \[1024, 3, 2, 16, 16\]/,
      );
      await rejectsBeforeAllocating(
        eng,
        () => loadPolicy(deeper),
        /does not match the policy's tensors: missing und_expert\.language_model\.layers\.1\..*\(\d+\)/,
      );
    }
    await rejectsBeforeAllocating(
      eng,
      () => loadPolicy(editConfig(good, (c) => ((c.vlm as { text: Json }).text.numLayers = 2000))),
      /__metadata__\.config\.vlm\.text\.numLayers must be a positive integer <= 512, got 2000/,
    );
  });

  it('integer data under a float parameter is a type mismatch, even with a consistent CRC', async () => {
    const name = 'action_out_proj.weight';
    for (const dtype of ['I32', 'U32']) {
      // Same bytes, relabelled: the CRC-32 of the data still matches the manifest.
      const relabelled = rewrite(good, (h) => {
        h[name].dtype = dtype;
        const m = JSON.parse(h.__metadata__.manifest) as Json[];
        m.find((t) => t.name === name)!.dtype = dtype;
        h.__metadata__.manifest = JSON.stringify(m);
      });
      const message = new RegExp(
        `type mismatch ${name.replace(/\./g, '\\.')} is ${dtype} in the file but the policy holds f32`,
      );
      await rejectsBeforeAllocating(eng, () => loadPolicy(relabelled), message);
      const policy = new InternVLAA1Policy(config);
      const before = await policy.stateDict()[name].toArray();
      expect(String(await loadError(loadPolicyWeights(policy, relabelled)))).toMatch(message);
      expect(await policy.stateDict()[name].toArray()).toEqual(before); // nothing was loaded
      policy.dispose();
    }
  });

  it('a value that overflows f16 is an error naming the tensor, and repeated failures leak nothing', async () => {
    const name = 'action_out_proj.weight';
    const big = rewrite(good, (h, data) => {
      const [begin, end] = h[name].data_offsets;
      const values = new Float32Array(data.buffer, begin, (end - begin) / 4);
      values[5] = 1e5;
      const m = JSON.parse(h.__metadata__.manifest) as Json[];
      const crc = (CRC32.buf(data.subarray(begin, end)) >>> 0).toString(16).padStart(8, '0');
      m.find((t) => t.name === name)!.crc32 = crc;
      h.__metadata__.manifest = JSON.stringify(m);
    });
    await eng.sync();
    const start = eng.poolStats().inUseBytes;
    for (let i = 0; i < 2; i++) {
      expect(String(await loadError(loadPolicy(big, { weightDtype: 'f16' })))).toMatch(
        new RegExp(
          `CheckpointError: policy checkpoint buffer: tensor "${name}": F32 element 5 = 100000 overflows f16`,
        ),
      );
      expect(eng.poolStats().inUseBytes).toBe(start);
    }
    // In f32 the value is representable and loads.
    const f32 = await loadPolicy(big);
    expect((await f32.stateDict()[name].toArray())[5]).toBe(1e5);
    f32.dispose();
    // A corrupted tensor found after allocation frees the policy too.
    const flipped = Uint8Array.from(good);
    flipped[flipped.length - 3] ^= 0x40;
    for (let i = 0; i < 2; i++) {
      expect(String(await loadError(loadPolicy(flipped)))).toMatch(/CheckpointError: .* is corrupted/);
      expect(eng.poolStats().inUseBytes).toBe(start);
    }
  });

  // WebGPU buffer limits (the CPU engine's only limit is its 4 GiB address space, checked the same way).
  it.runIf(eng.kind === 'webgpu')(
    'checks every tensor against the device limits before allocating',
    async () => {
      const manifest = await readPolicyManifest(good);
      const own = Object.getOwnPropertyDescriptor(eng, 'limits')!;
      for (const [limit, max] of [
        ['maxBufferSize', 20_000],
        ['maxStorageBufferBindingSize', 5000],
      ] as const) {
        // Reference: the first tensor in file order whose f32 bytes exceed the limit.
        const first = manifest.tensors.find((t) => 4 * t.shape.reduce((a, b) => a * b, 1) > max)!;
        const bytes = 4 * first.shape.reduce((a, b) => a * b, 1);
        Object.defineProperty(eng, 'limits', {
          value: { maxBufferSize: 1 << 30, maxStorageBufferBindingSize: 1 << 30, [limit]: max },
          configurable: true,
        });
        try {
          await rejectsBeforeAllocating(
            eng,
            () => loadPolicy(good),
            new RegExp(
              `tensor "${first.name.replace(/\./g, '\\.')}": shape \\[${first.shape.join(', ')}\\] as f32 needs ${bytes} bytes, more than the device's ${limit} of ${max}`,
            ),
          );
        } finally {
          Object.defineProperty(eng, 'limits', own);
        }
      }
    },
  );

  // Each of these threw a bare TypeError (or loaded) before the schemas.
  const manifestHead = (edit: (t: Json) => void) => (m: Json[]) => void edit(m[0]);
  const configField = (path: string, value: unknown) => (c: Json) => {
    const keys = path.split('.');
    let o = c;
    for (const k of keys.slice(0, -1)) o = o[k] as Json;
    if (value === undefined) delete o[keys[keys.length - 1]];
    else o[keys[keys.length - 1]] = value;
  };
  const malformed: [string, (b: Uint8Array) => Uint8Array, RegExp][] = [
    ['config null', (b) => setMeta(b, 'config', 'null'), /__metadata__\.config must be an object, got null/],
    [
      'config an array',
      (b) => setMeta(b, 'config', '[1]'),
      /__metadata__\.config must be an object, got \[1\]/,
    ],
    ['config missing', (b) => setMeta(b, 'config', undefined), /__metadata__\.config is missing/],
    ['config not JSON', (b) => setMeta(b, 'config', '{"name":'), /__metadata__\.config is not valid JSON/],
    [
      'vlm null',
      (b) => editConfig(b, configField('vlm', null)),
      /__metadata__\.config\.vlm must be an object, got null/,
    ],
    [
      'vlm.text missing',
      (b) => editConfig(b, configField('vlm.text', undefined)),
      /config\.vlm\.text must be an object, got undefined/,
    ],
    ['vae null', (b) => editConfig(b, configField('vae', null)), /config\.vae must be an object, got null/],
    [
      'action null',
      (b) => editConfig(b, configField('action', null)),
      /config\.action must be an object, got null/,
    ],
    [
      'tokenIds null',
      (b) => editConfig(b, configField('tokenIds', null)),
      /config\.tokenIds must be an object, got null/,
    ],
    [
      'channelMult null',
      (b) => editConfig(b, configField('vae.channelMult', null)),
      /config\.vae\.channelMult must be a list of positive integers, got null/,
    ],
    [
      'mropeSection null',
      (b) => editConfig(b, configField('vlm.text.mropeSection', null)),
      /config\.vlm\.text\.mropeSection must be a list of 3 slot counts, got null/,
    ],
    [
      'deepstack indexes an object',
      (b) => editConfig(b, configField('vlm.vision.deepstackVisualIndexes', {})),
      /deepstackVisualIndexes must be a list of block indexes, got \{\}/,
    ],
    [
      'genLossWeight null',
      (b) => editConfig(b, configField('genLossWeight', null)),
      /config\.genLossWeight must be a finite number >= 0, got null/,
    ],
    [
      'genLossWeight a string',
      (b) => editConfig(b, configField('genLossWeight', '0.01')),
      /config\.genLossWeight must be a finite number >= 0, got "0\.01"/,
    ],
    [
      'width a string',
      (b) => editConfig(b, configField('action.width', '32')),
      /config\.action\.width must be a positive integer <= 65536, got "32"/,
    ],
    [
      'manifest null',
      (b) => setMeta(b, 'manifest', 'null'),
      /__metadata__\.manifest must be a list of tensors, got null/,
    ],
    [
      'manifest an object',
      (b) => setMeta(b, 'manifest', '{"a":1}'),
      /__metadata__\.manifest must be a list of tensors, got \{"a":1\}/,
    ],
    [
      'manifest entry null',
      (b) => editManifest(b, (m) => [null, ...m.slice(1)]),
      /__metadata__\.manifest\[0\] must be an object \{name, shape, dtype, crc32\}, got null/,
    ],
    [
      'manifest name a number',
      (b) =>
        editManifest(
          b,
          manifestHead((t) => (t.name = 5)),
        ),
      /__metadata__\.manifest\[0\]\.name must be a string, got 5/,
    ],
    [
      'manifest shape a string',
      (b) =>
        editManifest(
          b,
          manifestHead((t) => (t.shape = 'abc')),
        ),
      /__metadata__\.manifest\[0\] \(tensor [\w.]+\)\.shape must be a list of non-negative integers, got "abc"/,
    ],
    [
      'manifest dim null',
      (b) =>
        editManifest(
          b,
          manifestHead((t) => (t.shape = [null])),
        ),
      /\.shape\[0\] must be a list of non-negative integers, got null/,
    ],
    [
      'manifest crc missing',
      (b) =>
        editManifest(
          b,
          manifestHead((t) => delete t.crc32),
        ),
      /\.crc32 must be 8 lower-case hex digits, got undefined \(missing\)/,
    ],
    [
      'manifest dtype F64',
      (b) =>
        editManifest(
          b,
          manifestHead((t) => (t.dtype = 'F64')),
        ),
      /\.dtype must be one of F32, F16, BF16, I32, U32, got "F64"/,
    ],
    [
      'manifest lists a tensor twice',
      (b) => editManifest(b, (m) => [...m, m[0]]),
      /__metadata__\.manifest lists tensor [\w.]+ twice/,
    ],
    [
      'format_version missing',
      (b) => setMeta(b, 'format_version', undefined),
      /__metadata__\.format_version is undefined; this package reads versions 1 to 2/,
    ],
  ];
  it.each(malformed)(
    'malformed metadata: %s → CheckpointError naming the field',
    async (_, mutate, message) => {
      const bad = mutate(good);
      await rejectsBeforeAllocating(eng, () => loadPolicy(bad), message);
      expect(
        String(
          await readPolicyManifest(bad).then(
            () => 'read',
            (e: unknown) => e,
          ),
        ),
      ).toMatch(message);
    },
  );

  it('the unmodified file still reads and its manifest lists every tensor', async () => {
    const manifest = await readPolicyManifest(rewrite(good, () => undefined));
    expect(manifest.tensors.map((t) => t.name)).toEqual(names);
  });
});
