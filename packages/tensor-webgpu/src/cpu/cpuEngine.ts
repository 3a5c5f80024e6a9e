// The CPU engine: tensors live in one shared WebAssembly.Memory, and kernels are C compiled to
// wasm32 with 128-bit SIMD (csrc/), run across worker threads that share that memory. It offers the
// same surface the ops use on the WebGPU engine (alloc, upload, read, copy, sync, pool statistics,
// memory budget); kernel calls are synchronous, so there is no command stream to flush.
import type { DeviceBuffer } from '../runtime/backend.js';
import { BufferPool, bucketSize, type PoolStats } from '../runtime/bufferPool.js';
import { GpuMemoryBudgetError, parseByteSize, resolveMemoryBudget } from '../runtime/memoryBudget.js';
import { KERNELS_SINGLE_WASM_BASE64, KERNELS_WASM_BASE64 } from './kernels.generated.js';
import { argWords, type CpuArgType, type CpuProgram } from './program.js';
import { CPU_PROGRAMS } from './programs/index.js';
import { CTRL, isNode, runShared, startWorkers, stopWorkers, type WorkerInit } from './threads.js';

const PAGE = 65536;
/** Alignment of every block: a cache line, and whole SIMD vectors. */
const ALIGN = 64;
/** Bytes of the argument block a kernel call is packed into. */
const ARGS_BYTES = 64 * 1024;
/** Stack of each worker thread. */
const WORKER_STACK = 1 << 20;
/** Default work (roughly scalar operations) per extra thread: below it waking a thread costs more. */
const GRAIN = 1 << 15;
/** Environment variable that sets the thread count. */
export const CPU_THREADS_ENV = 'VLA_CPU_THREADS';

/** A block of the CPU engine's memory: `ptr` is its byte address in the WebAssembly memory. */
export class CpuBuffer {
  /** Made by the engine's allocator only. @internal */
  constructor(
    readonly ptr: number,
    readonly size: number,
    private readonly arena: Arena,
  ) {}
  /** Gives the block back to the engine's address space. */
  destroy(): void {
    this.arena.free(this.ptr, this.size);
  }
}

/** A tensor's storage as a CPU block; a GPU buffer here means tensors of two engines were mixed. */
export function cpuBuffer(buf: DeviceBuffer): CpuBuffer {
  if (!(buf instanceof CpuBuffer))
    throw new Error(
      'a tensor of a WebGPU engine was passed to the CPU engine: move it first (await tensor.to(engine))',
    );
  return buf;
}

/** The byte address of a tensor's element 0 in the CPU engine's memory. */
export function addressOf(t: { buffer: DeviceBuffer; byteOffset: number }): number {
  return cpuBuffer(t.buffer).ptr + t.byteOffset;
}

/** First-fit allocator over the memory above the module's heap base; grows the memory on demand. */
class Arena {
  /** Free ranges, sorted by address, never adjacent (they coalesce). */
  private holes: { at: number; size: number }[] = [];
  private top: number;

  constructor(
    private readonly memory: WebAssembly.Memory,
    base: number,
    private readonly maxBytes: number,
  ) {
    this.top = Math.ceil(base / ALIGN) * ALIGN;
  }

  alloc(bytes: number, what: string): number {
    const size = Math.ceil(bytes / ALIGN) * ALIGN;
    const i = this.holes.findIndex((h) => h.size >= size);
    if (i >= 0) {
      const h = this.holes[i];
      const at = h.at;
      if (h.size === size) this.holes.splice(i, 1);
      else this.holes[i] = { at: h.at + size, size: h.size - size };
      return at;
    }
    const at = this.top;
    const end = at + size;
    if (end > this.maxBytes) {
      throw new Error(
        `CPU engine out of memory: ${what} needs ${size} bytes, ${this.top} of the ${this.maxBytes}-byte WebAssembly memory are in use or reserved (wasm32 addresses at most 4 GiB)`,
      );
    }
    const have = this.memory.buffer.byteLength;
    if (end > have) this.memory.grow(Math.ceil((end - have) / PAGE));
    this.top = end;
    return at;
  }

  free(at: number, size: number): void {
    size = Math.ceil(size / ALIGN) * ALIGN;
    let i = 0;
    while (i < this.holes.length && this.holes[i].at < at) i++;
    this.holes.splice(i, 0, { at, size });
    // Coalesce with the next and the previous hole.
    if (i + 1 < this.holes.length && at + size === this.holes[i + 1].at) {
      this.holes[i].size += this.holes[i + 1].size;
      this.holes.splice(i + 1, 1);
    }
    if (i > 0 && this.holes[i - 1].at + this.holes[i - 1].size === at) {
      this.holes[i - 1].size += this.holes[i].size;
      this.holes.splice(i, 1);
      i--;
    }
    // A hole at the top goes back to the unused space.
    const last = this.holes[this.holes.length - 1];
    if (last && last.at + last.size === this.top) {
      this.top = last.at;
      this.holes.pop();
    }
  }
}

/** Options of {@link CpuEngine.create}. */
export interface CpuEngineOptions {
  /**
   * Threads kernels run on, the calling thread included. Default: the environment variable
   * `VLA_CPU_THREADS` when set, else every core in Node (`os.availableParallelism()`), and in a
   * browser every core when the page is cross-origin isolated (shared memory needs it), else 1.
   */
  threads?: number;
  /** Cap on the bytes of live tensor blocks, as for the WebGPU engine (bytes or `"2GiB"`; env `VLA_GPU_MEMORY_BUDGET`). */
  memoryBudget?: number | string | null;
  /**
   * Work (roughly scalar operations) each extra thread must get before a call is split (default
   * 32768: below it, waking a thread costs more than it saves). 1 splits every call over every
   * thread, which tests use to exercise the thread split on small inputs.
   */
  minWorkPerThread?: number;
  /**
   * Shared memory (the default wherever it exists: Node, cross-origin-isolated pages). `false` uses
   * the single-threaded build on plain memory, which is what other pages get.
   */
  sharedMemory?: boolean;
}

type ArgValue<T extends CpuArgType> = T extends readonly [unknown, number] ? readonly number[] : number;
/** The values of a kernel's argument block: addresses for pointers, numbers for scalars, arrays. */
export type CpuArgs<A extends Record<string, CpuArgType>> = { [K in keyof A]: ArgValue<A[K]> };

/** Options of one kernel call. */
export interface CpuRunOptions {
  /** The op and its shapes, for error messages. */
  label: string;
  /** Roughly how many scalar operations the call does: small calls run on one thread. */
  work?: number;
  /** Thread count for this call (default: from `work`, capped by the engine's). */
  threads?: number;
}

function defaultThreads(): number | undefined {
  const env = typeof process !== 'undefined' ? process.env?.[CPU_THREADS_ENV] : undefined;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`${CPU_THREADS_ENV}=${env}: expected a positive integer thread count`);
    return n;
  }
  const g = globalThis as { navigator?: { hardwareConcurrency?: number }; crossOriginIsolated?: boolean };
  if (!isNode()) return g.crossOriginIsolated ? Math.max(1, g.navigator?.hardwareConcurrency ?? 1) : 1;
  return undefined; // every core: resolved from node:os in create()
}

function decodeBase64(b64: string): Uint8Array {
  if (isNode()) {
    const B = (globalThis as unknown as { Buffer: { from(s: string, enc: string): Uint8Array } }).Buffer;
    return B.from(b64, 'base64');
  }
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Runs tensors on the CPU: WebAssembly SIMD kernels over shared memory, on worker threads. */
export class CpuEngine {
  /** Which backend this is. */
  readonly kind = 'cpu' as const;
  /** f16 tensors are storage only here, as on a WebGPU device without `shader-f16`. */
  readonly hasF16 = false;
  readonly hasSubgroups = false;
  /** Kernel calls and readbacks, for tests and profiling (`submits` stays 0: calls are synchronous). */
  readonly counters = { dispatches: 0, submits: 0, readbacks: 0 };
  /** Label of the op being run, for allocation errors. */
  currentLabel = '(no op)';
  readonly pool: BufferPool<CpuBuffer>;

  private readonly exports: Record<string, unknown>;
  private readonly kernelIndex = new Map<string, number>();
  private readonly fns: ((args: number, tid: number, n: number) => void)[];
  private readonly argsPtr: number;
  private readonly ctrl: Int32Array;
  private workers: { terminate(): unknown }[] = [];
  private workerError: string | null = null;
  private destroyed = false;
  private budget: number | null;

  private constructor(
    readonly memory: WebAssembly.Memory,
    instance: WebAssembly.Instance,
    private readonly arena: Arena,
    /** Threads kernels run on, the calling thread included. */
    readonly threads: number,
    budget: number | null,
    private readonly grain: number,
  ) {
    this.exports = instance.exports as Record<string, unknown>;
    this.fns = CPU_PROGRAMS.map((p, i) => {
      this.kernelIndex.set(p.name, i);
      return this.exports[`k_${p.name}`] as (args: number, tid: number, n: number) => void;
    });
    this.budget = budget;
    this.pool = new BufferPool<CpuBuffer>(
      (size) => new CpuBuffer(this.arena.alloc(size, this.currentLabel), size, this.arena),
      0,
    );
    this.argsPtr = arena.alloc(ARGS_BYTES, 'kernel arguments');
    const ctrlPtr = arena.alloc(CTRL.words * 4, 'thread control');
    this.ctrl = new Int32Array(memory.buffer, ctrlPtr, CTRL.words);
  }

  /** Compiles the kernels, creates the shared memory and starts the worker threads. */
  static async create(options: CpuEngineOptions = {}): Promise<CpuEngine> {
    const budget = resolveMemoryBudget(options.memoryBudget);
    let threads = options.threads ?? defaultThreads();
    if (threads === undefined) {
      const name = 'node:os'; // hidden from bundlers, like node:worker_threads
      const os = (await import(/* @vite-ignore */ name)) as typeof import('node:os');
      threads = os.availableParallelism?.() ?? os.cpus().length;
    }
    if (!Number.isInteger(threads) || threads < 1)
      throw new Error(`CpuEngine: threads must be a positive integer (got ${threads})`);
    // Shared memory (threads) always in Node; in a browser only when the page is cross-origin isolated.
    const shared =
      (options.sharedMemory ?? true) &&
      (isNode() || !!(globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated);
    if (!shared) threads = 1;
    const module = await WebAssembly.compile(
      decodeBase64(shared ? KERNELS_WASM_BASE64 : KERNELS_SINGLE_WASM_BASE64) as Uint8Array<ArrayBuffer>,
    );
    // Node reserves the whole 4 GiB; browsers may refuse that much address space.
    const maxPages = isNode() ? 65536 : 16384;
    const memory = new WebAssembly.Memory({ initial: 32, maximum: maxPages, shared });
    const instance = await WebAssembly.instantiate(module, { env: { memory } });
    const heapBase = (instance.exports.__heap_base as WebAssembly.Global).value as number;
    const arena = new Arena(memory, heapBase, maxPages * PAGE);
    const grain = options.minWorkPerThread ?? GRAIN;
    if (!(grain >= 1)) throw new Error(`CpuEngine: minWorkPerThread must be at least 1 (got ${grain})`);
    const eng = new CpuEngine(memory, instance, arena, threads, budget, grain);
    if (threads > 1) {
      const kernels = CPU_PROGRAMS.map((p) => p.name);
      const inits: WorkerInit[] = [];
      for (let tid = 1; tid < threads; tid++) {
        const stack = arena.alloc(WORKER_STACK, 'worker stack');
        inits.push({
          module,
          memory,
          ctrl: eng.ctrl.byteOffset,
          tid,
          stackTop: stack + WORKER_STACK,
          kernels,
        });
      }
      eng.workers = await startWorkers(inits, (message) => (eng.workerError = message));
    }
    return eng;
  }

  /** A one-line description: `CPU (WebAssembly SIMD128, 2 threads)`. */
  get description(): string {
    return `CPU (WebAssembly SIMD128, ${this.threads} thread${this.threads === 1 ? '' : 's'})`;
  }

  private assertUsable(op?: string): void {
    if (this.destroyed)
      throw new Error(op ? `${op}: the engine has been destroyed` : 'Engine has been destroyed');
  }

  /** A block of at least `bytes` bytes (contents undefined). Release with {@link CpuEngine.release}. */
  alloc(bytes: number, what?: string): CpuBuffer {
    this.assertUsable();
    if (this.budget !== null) this.makeRoom(bytes, what ?? `a buffer of ${bytes} bytes`);
    return this.pool.acquire(bytes);
  }

  private makeRoom(bytes: number, what: string): void {
    const budget = this.budget!;
    const size = bucketSize(bytes);
    if (this.pool.hasFree(bytes) || this.pool.getStats().liveBytes + size <= budget) return;
    const inUse = this.pool.getStats().inUseBytes;
    if (inUse + size > budget) throw new GpuMemoryBudgetError(what, size, inUse, budget);
    this.pool.evict(this.pool.getStats().liveBytes + size - budget);
  }

  /** Returns a block to the pool (reusable at once: kernel calls have finished when they return). */
  release(buf: DeviceBuffer): void {
    this.pool.release(cpuBuffer(buf));
    this.pool.submitted();
  }

  /** The memory budget in bytes; null when uncapped. */
  get memoryBudget(): number | null {
    return this.budget;
  }

  /** Changes the memory budget (bytes or a string such as `"2GiB"`; null removes it). */
  setMemoryBudget(budget: number | string | null): void {
    this.budget = budget === null ? null : parseByteSize(budget, 'CpuEngine.setMemoryBudget');
  }

  /** Bytes of the whole memory, viewed afresh (a grown memory has a new buffer). */
  bytes(): Uint8Array {
    return new Uint8Array(this.memory.buffer);
  }

  /** Copies host data into a block. */
  upload(target: DeviceBuffer, data: ArrayBufferView, offset = 0): void {
    this.assertUsable();
    const buf = cpuBuffer(target);
    if (offset + data.byteLength > buf.size)
      throw new Error(`upload of ${data.byteLength} bytes at ${offset} overflows a ${buf.size}-byte block`);
    this.bytes().set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), buf.ptr + offset);
  }

  /** Reads `bytes` bytes of a block back (a copy). */
  async read(
    source: DeviceBuffer,
    offset: number,
    bytes: number,
    what = `${bytes} bytes`,
  ): Promise<ArrayBuffer> {
    this.assertUsable(`readback of ${what}`);
    const buf = cpuBuffer(source);
    this.counters.readbacks++;
    const out = new Uint8Array(bytes);
    out.set(this.bytes().subarray(buf.ptr + offset, buf.ptr + offset + bytes));
    return out.buffer;
  }

  /** Copies `size` bytes between blocks. */
  copy(source: DeviceBuffer, srcOffset: number, target: DeviceBuffer, dstOffset: number, size: number): void {
    this.assertUsable();
    const src = cpuBuffer(source);
    const dst = cpuBuffer(target);
    this.bytes().copyWithin(dst.ptr + dstOffset, src.ptr + srcOffset, src.ptr + srcOffset + size);
  }

  /** Nothing is deferred on the CPU; present so code can treat both engines alike. */
  flush(): void {}

  /** Resolves at once (kernel calls are synchronous); rethrows a worker's failure. */
  async sync(): Promise<void> {
    this.assertUsable();
  }

  /** Bytes held by the block pool. */
  poolStats(): PoolStats {
    return this.pool.getStats();
  }

  /**
   * Runs a kernel over the engine's threads: packs `args` into the argument block as `program`
   * declares it, then calls `k_<name>(args, tid, nthreads)` on each thread and returns when all are done.
   */
  run<A extends Record<string, CpuArgType>>(
    program: CpuProgram<A>,
    args: CpuArgs<A>,
    options: CpuRunOptions,
  ): void {
    this.assertUsable(options.label);
    this.currentLabel = options.label;
    const index = this.kernelIndex.get(program.name);
    if (index === undefined)
      throw new Error(
        `CPU kernel ${program.name} is not in the built module (rebuild: npm run build -w @vla/tensor-webgpu)`,
      );
    const words = new DataView(this.memory.buffer, this.argsPtr, ARGS_BYTES);
    for (const f of argLayout(program)) {
      const v = (args as Record<string, number | readonly number[]>)[f.name];
      if (v === undefined)
        throw new Error(`${options.label}: kernel ${program.name} needs argument ${f.name}`);
      if (f.length) {
        const arr = v as readonly number[];
        if (arr.length > f.length)
          throw new Error(
            `${options.label}: kernel ${program.name} argument ${f.name} holds at most ${f.length} values (got ${arr.length})`,
          );
        for (let i = 0; i < f.length; i++) writeWord(words, f.byte + i * 4, f.word, arr[i] ?? 0);
      } else {
        writeWord(words, f.byte, f.word, v as number);
      }
    }
    const fn = this.fns[index];
    const n = Math.max(
      1,
      Math.min(this.threads, options.threads ?? Math.floor((options.work ?? Infinity) / this.grain)),
    );
    this.counters.dispatches++;
    try {
      if (n === 1 || this.workers.length === 0) fn(this.argsPtr, 0, 1);
      else runShared(this.ctrl, index, this.argsPtr, n, this.workers.length, () => fn(this.argsPtr, 0, n));
    } catch (err) {
      throw new Error(`CPU kernel ${program.name} failed in ${options.label}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    // (The control block lives in shared memory, which never detaches; without workers it is unused.)
    const failed = this.workers.length ? Atomics.exchange(this.ctrl, CTRL.failed, 0) : 0;
    if (failed) {
      throw new Error(
        `CPU kernel ${program.name} failed on worker thread ${failed} in ${options.label}${this.workerError ? `: ${this.workerError}` : ' (the worker reports the trap asynchronously)'}`,
      );
    }
  }

  /** Stops the worker threads. The memory goes with the engine. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.workers.length) stopWorkers(this.ctrl, this.workers);
    this.workers = [];
  }
}

interface ArgField {
  name: string;
  /** How each word is written (pointers are u32 addresses). */
  word: 'u32' | 'i32' | 'f32';
  /** Byte offset in the argument block. */
  byte: number;
  /** Capacity of an array field; 0 for a scalar. */
  length: number;
}

const layouts = new WeakMap<CpuProgram, ArgField[]>();

/** A program's argument layout, computed once: kernel calls are on the hot path. */
function argLayout(program: CpuProgram): ArgField[] {
  let fields = layouts.get(program);
  if (!fields) {
    fields = [];
    let at = 0;
    for (const [name, type] of Object.entries(program.args)) {
      const word =
        typeof type === 'string' ? (type.endsWith('*') ? 'u32' : (type as ArgField['word'])) : type[0];
      fields.push({ name, word, byte: at * 4, length: typeof type === 'string' ? 0 : type[1] });
      at += argWords(type);
    }
    layouts.set(program, fields);
  }
  return fields;
}

function writeWord(view: DataView, byte: number, type: 'u32' | 'i32' | 'f32', v: number): void {
  if (type === 'f32') view.setFloat32(byte, v, true);
  else if (type === 'i32') view.setInt32(byte, v, true);
  else view.setUint32(byte, v >>> 0, true);
}
