// Node file paths: atomic writes, reads through a FileHandle at offsets beyond 2 GiB (sparse file).
import { mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loadSafetensors,
  readSafetensors,
  saveSafetensors,
  serializeSafetensors,
  Tensor,
  writeSafetensors,
} from '../src/index.js';
import { eng } from './setup.js';
import { randomArray } from './util.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vla-safetensors-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('safetensors files (Node)', () => {
  it('saves to a path atomically and loads it back; bytes match the in-memory serialization', async () => {
    const x = randomArray(10, 5);
    const t = Tensor.fromData(x, [2, 5]);
    const path = join(dir, 'model.safetensors');
    await saveSafetensors(path, { 'embed.weight': t }, { format: 'pt' });
    const mem = await saveSafetensors(undefined, { 'embed.weight': t }, { format: 'pt' });
    expect(new Uint8Array(await readFile(path))).toEqual(mem);
    const back = (await loadSafetensors(path)).get('embed.weight')!;
    expect(Array.from(await back.toArray())).toEqual(Array.from(x));
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    t.dispose();
    back.dispose();
  });

  it('a failed save leaves the previous file untouched and no temporary file behind', async () => {
    const path = join(dir, 'keep.safetensors');
    await writeSafetensors(path, { a: { dtype: 'U8', shape: [2], data: Uint8Array.of(1, 2) } });
    const before = await readFile(path);
    const good = Tensor.fromData([1, 2, 3], [3]);
    const gone = Tensor.fromData([1], [1]);
    gone.dispose();
    await expect(saveSafetensors(path, { good, gone })).rejects.toThrow(/disposed/);
    expect(await readFile(path)).toEqual(before);
    expect((await readdir(dir)).filter((f) => f.includes('keep.safetensors.'))).toEqual([]);
    good.dispose();
  });

  it('names the file in errors', async () => {
    const path = join(dir, 'broken.safetensors');
    await writeFile(path, Uint8Array.of(255, 255, 255, 255, 0, 0, 0, 0, 123));
    await expect(readSafetensors(path)).rejects.toThrow(
      `safetensors (${path}): header length 4294967295 exceeds the limit`,
    );
  });

  it('reads a tensor past the 2 GiB mark of a sparse 3 GiB file without reading the rest', async () => {
    // "big" (U8, 3 GiB of holes) then "tail" (F32 [2]): tail's bytes start beyond 2^31.
    const big = 3 * 2 ** 30;
    const header = JSON.stringify({
      big: { dtype: 'U8', shape: [big], data_offsets: [0, big] },
      tail: { dtype: 'F32', shape: [2], data_offsets: [big, big + 8] },
    });
    const path = join(dir, 'sparse.safetensors');
    const prefix = new Uint8Array(8 + header.length);
    new DataView(prefix.buffer).setBigUint64(0, BigInt(header.length), true);
    prefix.set(new TextEncoder().encode(header), 8);
    const h = await open(path, 'w');
    await h.write(prefix, 0, prefix.length, 0);
    const tail = new Uint8Array(Float32Array.of(6.5, -1).buffer);
    await h.write(tail, 0, 8, prefix.length + big);
    await h.close();

    const file = await readSafetensors(path);
    expect(file.tensors.get('big')!.byteLength).toBe(big);
    expect(file.tensors.get('tail')!.fileOffset).toBe(prefix.length + big);
    expect(Array.from((await file.tensors.get('tail')!.data()) as Float32Array)).toEqual([6.5, -1]);
    await file.close();
    const loaded = await loadSafetensors(path, { filter: (n) => n === 'tail' });
    expect(Array.from(await loaded.get('tail')!.toArray())).toEqual([6.5, -1]);
    loaded.get('tail')!.dispose();
    await rm(path);
  });

  it('host-level writeSafetensors produces the same bytes as serializeSafetensors', async () => {
    const tensors = { z: { dtype: 'BOOL' as const, shape: [3], data: Uint8Array.of(1, 0, 1) } };
    const path = join(dir, 'host.safetensors');
    await writeSafetensors(path, tensors, { a: 'b' });
    expect(new Uint8Array(await readFile(path))).toEqual(serializeSafetensors(tensors, { a: 'b' }));
    expect(eng).toBeTruthy();
  });
});
