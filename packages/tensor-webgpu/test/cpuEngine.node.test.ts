// Node only: it reads and sets environment variables (the browser suite runs cpu.browser.test.ts).
// The CPU engine's own machinery, independent of any op: memory blocks, the budget, thread fan-out,
// traps on worker threads, moving tensors between engines, and how the default backend is chosen.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fill32 } from '../src/cpu/programs/core.js';
import { CpuEngine, createBackend, Engine, GpuMemoryBudgetError, sum, Tensor } from '../src/index.js';

let one: CpuEngine;
let three: CpuEngine;

beforeAll(async () => {
  one = await CpuEngine.create({ threads: 1 });
  three = await CpuEngine.create({ threads: 3 });
});

afterAll(() => {
  one?.destroy();
  three?.destroy();
});

describe('CpuEngine', () => {
  it('describes itself and its thread count', () => {
    expect(one.kind).toBe('cpu');
    expect(three.threads).toBe(3);
    expect(three.description).toBe('CPU (WebAssembly SIMD128, 3 threads)');
    expect(one.hasF16).toBe(false);
  });

  it('round-trips host data through blocks, at offsets, and copies between blocks', async () => {
    const a = three.alloc(4099);
    const b = three.alloc(8192);
    const data = new Uint8Array(4099).map((_, i) => (i * 31 + 7) & 255);
    three.upload(a, data);
    three.upload(b, data.subarray(1000, 1100), 12);
    expect(new Uint8Array(await three.read(a, 0, 4099))).toEqual(data);
    expect(new Uint8Array(await three.read(b, 12, 100))).toEqual(data.subarray(1000, 1100));
    three.copy(a, 5, b, 2000, 333);
    expect(new Uint8Array(await three.read(b, 2000, 333))).toEqual(data.subarray(5, 338));
    expect(() => three.upload(a, new Uint8Array(a.size + 1))).toThrow(/overflows/);
    three.release(a);
    three.release(b);
  });

  it('reuses released blocks, and grows the memory for new ones without moving live data', async () => {
    const before = three.poolStats();
    const a = three.alloc(1 << 20);
    three.release(a);
    const b = three.alloc(1 << 20);
    expect(b.ptr).toBe(a.ptr); // the same bucket comes back
    const keep = Tensor.fromData(
      Float32Array.from({ length: 1000 }, (_, i) => i * 0.5),
      [1000],
      'f32',
      three,
    );
    // 64 MiB more than the memory holds now: it grows, and the existing tensor keeps its values.
    const big = three.alloc(three.memory.buffer.byteLength + (64 << 20));
    expect(three.memory.buffer.byteLength).toBeGreaterThanOrEqual(big.ptr + big.size);
    expect(Array.from((await keep.toArray()).slice(995))).toEqual([497.5, 498, 498.5, 499, 499.5]);
    three.release(big);
    three.release(b);
    keep.dispose();
    expect(three.poolStats().inUseBytes).toBe(before.inUseBytes);
  });

  it('caps live bytes with a memory budget and names what did not fit', () => {
    const e = one;
    e.setMemoryBudget('1MiB');
    try {
      const a = e.alloc(600 * 1024, 'first');
      expect(() => e.alloc(600 * 1024, 'tensor [153600] f32')).toThrow(GpuMemoryBudgetError);
      expect(() => e.alloc(600 * 1024, 'tensor [153600] f32')).toThrow(/tensor \[153600\] f32/);
      e.release(a);
      e.release(e.alloc(600 * 1024)); // fits again once the first is released
    } finally {
      e.setMemoryBudget(null);
    }
  });

  it('splits a kernel over the threads and each share runs once', async () => {
    const n = 1_000_003;
    const buf = three.alloc(n * 4);
    three.run(fill32, { dst: buf.ptr, n, value: 0xdeadbeef }, { label: 'fill', threads: 3 });
    const got = new Uint32Array(await three.read(buf, 0, n * 4));
    expect(got.every((v) => v === 0xdeadbeef)).toBe(true);
    // A partial fill: exactly [0, n/2) changes whatever the thread count.
    three.run(fill32, { dst: buf.ptr, n: n >> 1, value: 1 }, { label: 'fill', threads: 2 });
    const after = new Uint32Array(await three.read(buf, 0, n * 4));
    expect(after.findIndex((v) => v !== 1)).toBe(n >> 1);
    expect(after[n - 1]).toBe(0xdeadbeef);
    three.release(buf);
  });

  it('turns a trap on a worker thread into an error naming the kernel, and keeps working', async () => {
    const end = three.memory.buffer.byteLength;
    // Shares 1 and 2 run past the end of memory; share 0 stays inside.
    const dst = end - 4 * 100;
    expect(() =>
      three.run(fill32, { dst, n: 300, value: 5 }, { label: 'fill past the end', threads: 3 }),
    ).toThrow(/CPU kernel fill32 failed on worker thread \d in fill past the end/);
    // And on the calling thread.
    expect(() =>
      three.run(fill32, { dst: end, n: 4, value: 5 }, { label: 'fill at the end', threads: 1 }),
    ).toThrow(/CPU kernel fill32 failed in fill at the end/);
    const ok = three.alloc(64);
    three.run(fill32, { dst: ok.ptr, n: 16, value: 9 }, { label: 'fill', threads: 3 });
    expect(Array.from(new Uint32Array(await three.read(ok, 0, 64)))).toEqual(new Array(16).fill(9));
    three.release(ok);
  });

  it('rejects a bad thread count', async () => {
    await expect(CpuEngine.create({ threads: 0 })).rejects.toThrow(/threads must be a positive integer/);
    const saved = process.env.VLA_CPU_THREADS;
    process.env.VLA_CPU_THREADS = 'many';
    try {
      await expect(CpuEngine.create()).rejects.toThrow(/VLA_CPU_THREADS=many/);
    } finally {
      if (saved === undefined) delete process.env.VLA_CPU_THREADS;
      else process.env.VLA_CPU_THREADS = saved;
    }
  });

  it('runs the single-threaded build on unshared memory (pages without cross-origin isolation)', async () => {
    const e = await CpuEngine.create({ threads: 4, sharedMemory: false });
    try {
      expect(e.threads).toBe(1);
      expect(e.memory.buffer instanceof SharedArrayBuffer).toBe(false);
      const x = Tensor.fromData(
        Float32Array.from({ length: 5000 }, (_, i) => i),
        [50, 100],
        'f32',
        e,
      );
      // Growing plain memory detaches its old buffer: views must be taken afresh.
      const big = e.alloc(e.memory.buffer.byteLength + (8 << 20));
      const s = sum(x, 1);
      const got = await s.toArray();
      expect(got[49]).toBe(Array.from({ length: 100 }, (_, i) => 4900 + i).reduce((a, b) => a + b, 0));
      e.release(big);
      for (const t of [x, s]) t.dispose();
    } finally {
      e.destroy();
    }
  });

  it('refuses to use after destroy', async () => {
    const e = await CpuEngine.create({ threads: 2 });
    const b = e.alloc(16);
    e.destroy();
    expect(() => e.alloc(16)).toThrow(/destroyed/);
    await expect(e.read(b, 0, 16)).rejects.toThrow(/destroyed/);
  });
});

describe('tensors across engines', () => {
  let gpu: Engine;
  beforeAll(async () => {
    gpu = await Engine.create();
  });
  afterAll(() => gpu?.destroy());

  it('moves tensors between the CPU and WebGPU engines with to(), every dtype, f16 bits unconverted', async () => {
    const f = Float32Array.from({ length: 37 }, (_, i) => Math.sin(i) * 100);
    for (const [dtype, data] of [
      ['f32', f],
      ['i32', Int32Array.from(f, Math.trunc)],
      ['u8', Uint8Array.from(f, (v) => Math.abs(v) & 255)],
      ['bool', Uint32Array.from(f, (v) => (v > 0 ? 1 : 0))],
    ] as const) {
      const onCpu = Tensor.fromData(data, [37], dtype, three);
      const onGpu = await onCpu.to(gpu);
      expect(onGpu.engine).toBe(gpu);
      expect(Array.from(await onGpu.toArray())).toEqual(Array.from(data));
      const back = await onGpu.to(one);
      expect(back.engine).toBe(one);
      expect(Array.from(await back.toArray())).toEqual(Array.from(data));
      for (const t of [onCpu, onGpu, back]) t.dispose();
    }
    const bits = Uint16Array.from({ length: 9 }, (_, i) => 0x3c00 + i * 17);
    const h = Tensor.fromHalfBits(bits, [3, 3], three);
    const hg = await h.to(gpu);
    const hb = await hg.to(one);
    expect(new Uint16Array(await one.read(hb.buffer, 0, 18))).toEqual(bits);
    for (const t of [h, hg, hb]) t.dispose();
  });

  it('says which engine a foreign tensor came from when engines are mixed', () => {
    const c = Tensor.fromData([1, 2, 3], [3], 'f32', three);
    expect(() => gpu.upload(c.buffer, new Float32Array(3))).toThrow(
      /a tensor of the CPU engine was passed to the WebGPU engine/,
    );
    c.dispose();
  });
});

describe('choosing the default backend', () => {
  it('honours backend and VLA_BACKEND, and gives its reason', async () => {
    const forced = await createBackend({ backend: 'cpu', threads: 1 });
    expect(forced.engine.kind).toBe('cpu');
    expect(forced.reason).toMatch(/backend: 'cpu' was requested/);
    forced.engine.destroy();
    const saved = process.env.VLA_BACKEND;
    try {
      process.env.VLA_BACKEND = 'tpu';
      await expect(createBackend()).rejects.toThrow(/VLA_BACKEND=tpu: expected auto, webgpu or cpu/);
      process.env.VLA_BACKEND = 'auto';
      const auto = await createBackend({ threads: 1 });
      // This machine class has no GPU: auto must not settle for WebGPU on SwiftShader.
      if (auto.engine.kind === 'cpu') expect(auto.reason).toMatch(/no GPU|CPU one|no WebGPU adapter/);
      else expect(auto.engine.isCpuAdapter).toBe(false);
      auto.engine.destroy();
    } finally {
      if (saved === undefined) delete process.env.VLA_BACKEND;
      else process.env.VLA_BACKEND = saved;
    }
  });
});
