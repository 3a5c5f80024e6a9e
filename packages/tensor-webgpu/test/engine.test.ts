// Engine failure modes: readbacks cut short by engine.destroy() or a device loss, and the memory
// budget that turns runaway allocation into a GpuMemoryBudgetError. Each test makes its own engines
// (budgets and destroyed devices must not leak into other tests). These are the WebGPU engine's own
// failure modes (device loss, deferred submission); the CPU engine's are in cpuEngine.node.test.ts, so the
// CPU run of the suite skips them.
import { afterEach, describe, expect, it } from 'vitest';
import {
  add,
  bucketSize,
  DeviceLostError,
  Engine,
  full,
  GpuMemoryBudgetError,
  mul,
  Tensor,
} from '../src/index.js';
import { onWebGpu } from './setup.js';

const engines: Engine[] = [];
async function newEngine(options: Parameters<typeof Engine.create>[0] = {}): Promise<Engine> {
  const e = await Engine.create(options);
  engines.push(e);
  return e;
}
afterEach(() => {
  for (const e of engines.splice(0)) e.destroy();
});

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  return expect.fail('expected the promise to reject');
}

describe.runIf(onWebGpu)('aborted readbacks', () => {
  it('engine.destroy() during a pending readback names the readback and the reason', async () => {
    const eng = await newEngine();
    const t = Tensor.fromData([1, 2, 3, 4, 5, 6], [2, 3], 'f32', eng);
    const pending = t.toArray();
    eng.destroy();
    const err = await failure(pending);
    expect(err.name).not.toBe('AbortError');
    expect(err.message).toMatch(/^readback of tensor \[2, 3\] f32 was aborted: the engine was destroyed/);
    expect((err.cause as Error | undefined)?.name).toBe('AbortError');
    // Later reads say the same without touching the device.
    await expect(t.toArray()).rejects.toThrow(
      /^readback of tensor \[2, 3\] f32: the engine has been destroyed/,
    );
  });

  it('a device loss during a pending readback is a DeviceLostError naming the readback', async () => {
    const eng = await newEngine();
    const t = Tensor.fromData(new Int32Array([7, 8, 9]), [3], 'i32', eng);
    const pending = t.toArray();
    eng.device.destroy(); // what a driver reset looks like to the engine
    const err = await failure(pending);
    expect(err).toBeInstanceOf(DeviceLostError);
    expect(err.message).toMatch(/^GPU device lost \(destroyed\) during readback of tensor \[3\] i32: /);
    expect((err as DeviceLostError).reason).toBe('destroyed');
  });

  it('disposing the tensor while its readback is pending still returns its values', async () => {
    const eng = await newEngine();
    const t = Tensor.fromData([4, 5, 6], [3], 'f32', eng);
    const pending = t.toArray();
    t.dispose();
    eng.pool.trim(); // even destroying the buffer: the copy was already submitted
    expect(Array.from(await pending)).toEqual([4, 5, 6]);
  });
});

describe.runIf(onWebGpu)('memory budget', () => {
  const KiB = 1024;

  it('a loop that never disposes hits GpuMemoryBudgetError at the predicted iteration, and recovers after dispose', async () => {
    const budget = 1024 * KiB;
    const eng = await newEngine({ memoryBudget: '1MiB' });
    expect(eng.memoryBudget).toBe(budget);
    const n = 16_000; // 64,000 bytes → one 64 KiB bucket each
    const per = bucketSize(n * 4);
    expect(per).toBe(64 * KiB);
    const expectedOk = Math.floor(budget / per); // 16
    const kept: Tensor[] = [];
    let err: unknown = null;
    for (let i = 0; i < 100 && !err; i++) {
      try {
        kept.push(Tensor.empty([n], 'f32', eng));
      } catch (e) {
        err = e;
      }
    }
    expect(kept.length).toBe(expectedOk);
    expect(err).toBeInstanceOf(GpuMemoryBudgetError);
    const be = err as GpuMemoryBudgetError;
    expect([be.requestedBytes, be.inUseBytes, be.budgetBytes]).toEqual([per, expectedOk * per, budget]);
    expect(be.what).toBe('tensor [16000] f32');
    expect(be.message).toMatch(
      /^GPU memory budget exceeded allocating tensor \[16000\] f32: 65536 B \(64\.0 KiB\) more/,
    );
    expect(be.message).toMatch(/over the budget of 1048576 B \(1\.00 MiB\)\. Dispose tensors/);
    expect(be.message).toMatch(/VLA_GPU_MEMORY_BUDGET/);

    // The failed allocation left nothing behind, and failing again changes nothing.
    const before = eng.poolStats();
    expect(before).toMatchObject({ inUseBytes: budget, liveBytes: budget, live: expectedOk });
    expect(() => Tensor.empty([n], 'f32', eng)).toThrow(GpuMemoryBudgetError);
    expect(eng.poolStats()).toEqual(before);

    // One disposed tensor makes room for exactly one more of the same size.
    kept.pop()!.dispose();
    kept.push(Tensor.fromData(new Float32Array(n).fill(3), [n], 'f32', eng));
    expect(eng.poolStats().live).toBe(expectedOk);
    expect(() => Tensor.empty([n], 'f32', eng)).toThrow(GpuMemoryBudgetError);
    expect((await kept[kept.length - 1].toArray())[n - 1]).toBe(3);

    // Everything disposed: a larger tensor fits after the pool gives back free buffers.
    for (const t of kept) t.dispose();
    const big = Tensor.fromData(new Float32Array(128 * KiB).fill(2), [128 * KiB], 'f32', eng); // 512 KiB
    const s = eng.poolStats();
    expect(s.inUseBytes).toBe(512 * KiB);
    expect(s.liveBytes).toBeLessThanOrEqual(budget);
    expect((await big.toArray())[128 * KiB - 1]).toBe(2);
    big.dispose();
  });

  it('buffers released by ops still being recorded are reclaimed (flush) before giving up', async () => {
    const eng = await newEngine({ memoryBudget: 256 * KiB });
    const n = 16 * KiB; // 64 KiB per f32 tensor
    const a = full([n], 2, 'f32', eng);
    const b = add(a, 1);
    const c = mul(b, 3); // three dispatches recorded, none submitted yet
    a.dispose();
    b.dispose(); // parked until the submission of the commands that read them
    expect(eng.poolStats()).toMatchObject({ inUseBytes: 64 * KiB, parkedBytes: 128 * KiB });
    const d = full([2 * n], 5, 'f32', eng); // 128 KiB: needs the parked buffers given back
    expect(eng.poolStats().liveBytes).toBeLessThanOrEqual(256 * KiB);
    expect(Array.from((await c.toArray()).slice(0, 3))).toEqual([9, 9, 9]);
    expect(Array.from((await d.toArray()).slice(-3))).toEqual([5, 5, 5]);
    c.dispose();
    d.dispose();
  });

  // Environment variables exist only in Node; the browser run skips this one.
  it.skipIf(typeof process === 'undefined')(
    'reads VLA_GPU_MEMORY_BUDGET, accepts unit suffixes, and rejects malformed sizes naming the source',
    async () => {
      const saved = process.env.VLA_GPU_MEMORY_BUDGET;
      try {
        process.env.VLA_GPU_MEMORY_BUDGET = '3 MiB';
        const eng = await newEngine();
        expect(eng.memoryBudget).toBe(3 * 1024 * KiB);
        process.env.VLA_GPU_MEMORY_BUDGET = 'lots';
        await expect(Engine.create()).rejects.toThrow(
          /^VLA_GPU_MEMORY_BUDGET: expected a byte count .*, got "lots"/,
        );
        await expect(Engine.create({ memoryBudget: -1 })).rejects.toThrow(
          /^EngineOptions\.memoryBudget: .* got -1/,
        );
        delete process.env.VLA_GPU_MEMORY_BUDGET;

        const cases: [number | string, number][] = [
          [4096, 4096],
          ['1048576', 1048576],
          ['512KiB', 512 * KiB],
          ['1.5 GiB', 1.5 * 1024 ** 3],
          ['4G', 4 * 1024 ** 3],
          ['2gb', 2e9],
          ['10MB', 1e7],
          ['7b', 7],
        ];
        for (const [v, bytes] of cases) {
          eng.setMemoryBudget(v);
          expect(eng.memoryBudget, String(v)).toBe(bytes);
        }
        for (const bad of ['', '1.2.3', 'MiB', '-5MB', '5 parsecs', NaN, Infinity]) {
          expect(() => eng.setMemoryBudget(bad), String(bad)).toThrow(
            /^Engine\.setMemoryBudget: expected a byte count/,
          );
        }
        eng.setMemoryBudget(null);
        expect(eng.memoryBudget).toBeNull();
      } finally {
        if (saved === undefined) delete process.env.VLA_GPU_MEMORY_BUDGET;
        else process.env.VLA_GPU_MEMORY_BUDGET = saved;
      }
    },
  );
});
