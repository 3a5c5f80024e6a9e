// GPU plumbing shared by the GPU campaigns: the engine, a hard cap on what one case may allocate
// (so a loader that builds a 3B-parameter policy before validating fails fast instead of filling
// the machine's memory), and the leak probe.
import { init, type Backend } from '@vla/tensor-webgpu';

/** Thrown by the harness when a case allocates past {@link GPU_CAP_BYTES}. */
export class HarnessAllocationCapError extends Error {
  override name = 'HarnessAllocationCapError';
}

/** GPU bytes in use that one case may reach (the tiny inputs need a few MiB). */
export const GPU_CAP_BYTES = 64 * 2 ** 20;

let engine: Backend | undefined;

/** The default engine, with the allocation cap installed (once per process). */
export async function cappedEngine(): Promise<Backend> {
  if (engine) return engine;
  const eng = await init();
  const alloc = eng.alloc.bind(eng);
  // An own property shadows the prototype method, so every tensor allocation passes through here.
  Object.defineProperty(eng, 'alloc', {
    value: (bytes: number, what?: string) => {
      const inUse = eng.poolStats().inUseBytes;
      if (inUse + bytes > GPU_CAP_BYTES)
        throw new HarnessAllocationCapError(
          `fuzz harness: allocating ${bytes} bytes${what ? ` for ${what}` : ''} with ${inUse} in use passes the cap of ${GPU_CAP_BYTES} bytes`,
        );
      return alloc(bytes, what);
    },
  });
  engine = eng;
  return eng;
}

/** GPU pool bytes in use now (after letting queued work finish). */
export async function gpuBytesInUse(): Promise<number> {
  const eng = await cappedEngine();
  await eng.sync();
  return eng.poolStats().inUseBytes;
}
