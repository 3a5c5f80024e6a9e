// An optional cap on the bytes of live tensor buffers. Without it, a loop that allocates without
// disposing grows until the driver or the OS kills the process; with it, the allocation that would
// cross the cap throws a GpuMemoryBudgetError that says how much is alive and what to do.

/** Environment variable read when {@link EngineOptions.memoryBudget} is not given. */
export const MEMORY_BUDGET_ENV = 'VLA_GPU_MEMORY_BUDGET';

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tib: 1024 ** 4,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
};

/**
 * Parses a byte count: a non-negative number of bytes, or a string such as `"1073741824"`,
 * `"512MiB"`, `"1.5 GiB"`, `"4G"` (K/M/G/T alone and KiB/MiB/GiB/TiB are powers of 1024; kB/MB/GB/TB
 * powers of 1000; case-insensitive). Throws an Error naming `what` and the value otherwise.
 */
export function parseByteSize(value: number | string, what: string): number {
  let bytes = NaN;
  if (typeof value === 'number') bytes = value;
  else if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)\s*$/i.exec(value);
    const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
    if (m && unit !== undefined) bytes = Number(m[1]) * unit;
  }
  if (!Number.isFinite(bytes) || bytes < 0) {
    throw new Error(
      `${what}: expected a byte count such as 1073741824, "512MiB" or "4GB", got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`,
    );
  }
  return Math.floor(bytes);
}

/**
 * The budget an engine runs with: the option when given (`null` turns the cap off even if the
 * environment variable is set), else the environment variable, else none.
 * @internal
 */
export function resolveMemoryBudget(option: number | string | null | undefined): number | null {
  if (option === null) return null;
  if (option !== undefined) return parseByteSize(option, 'EngineOptions.memoryBudget');
  const env = typeof process !== 'undefined' ? process.env?.[MEMORY_BUDGET_ENV] : undefined;
  if (env === undefined || env.trim() === '') return null;
  return parseByteSize(env, MEMORY_BUDGET_ENV);
}

/** A byte count for messages: exact bytes plus a readable size. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = -1;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${bytes} B (${v.toFixed(v < 10 ? 2 : 1)} ${units[i]})`;
}

/**
 * Thrown by an allocation that would take the tensor buffers in use on an engine over its memory
 * budget (see `EngineOptions.memoryBudget`). Nothing was allocated and nothing was freed. Dispose
 * tensors you no longer need (or run each loop iteration inside `tidy`) and allocate again.
 */
export class GpuMemoryBudgetError extends Error {
  constructor(
    /** What was being allocated (e.g. `tensor [1024, 1024] f32`). */
    readonly what: string,
    /** Bytes the failed allocation needed (its pool bucket size). */
    readonly requestedBytes: number,
    /** Bytes of tensor buffers in use when it failed (free pooled buffers do not count: they can be destroyed). */
    readonly inUseBytes: number,
    /** The budget in bytes. */
    readonly budgetBytes: number,
  ) {
    super(
      `GPU memory budget exceeded allocating ${what}: ${formatBytes(requestedBytes)} more would bring tensor ` +
        `buffers in use from ${formatBytes(inUseBytes)} to ${formatBytes(inUseBytes + requestedBytes)}, over the ` +
        `budget of ${formatBytes(budgetBytes)}. Dispose tensors you no longer need (or run each loop ` +
        `iteration inside tidy()); raise the budget with EngineOptions.memoryBudget or ${MEMORY_BUDGET_ENV}.`,
    );
    this.name = 'GpuMemoryBudgetError';
  }
}
