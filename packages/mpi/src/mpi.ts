import { writeSync } from 'node:fs';
import { resolveTimeoutMs } from './collectiveTimeout';
import { requireSummable, requireView, type SummableArray } from './elementTypes';
import { MpiError } from './mpiError';
import { loadNativeMpi, type NativeMpi } from './nativeAddon';

/** Options of {@link Mpi.init}. */
export interface MpiInitOptions {
  /**
   * Longest one collective may take, in milliseconds, before the whole job is aborted. Default: the
   * `VLA_MPI_TIMEOUT_MS` environment variable, else 10 minutes.
   */
  timeoutMs?: number;
  /** Environment read for `VLA_MPI_TIMEOUT_MS` (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Exit status of a job aborted because a collective overran its timeout (as `timeout(1)` uses). */
export const MPI_TIMEOUT_EXIT_CODE = 124;

// Only Mpi.init() may construct an Mpi.
const CONSTRUCT = Symbol('Mpi.init');

let world: Mpi | undefined;
let finalizedOnce = false;

/**
 * The MPI world (`MPI_COMM_WORLD`) of this process: rank, size and the collectives data-parallel
 * training needs, working in place on typed arrays' own memory (no copies, SharedArrayBuffer and
 * `WebAssembly.Memory` views included).
 *
 * Each collective runs on a libuv worker thread, so JavaScript keeps running meanwhile. MPI needs
 * every rank to issue collectives in the same order; calls are queued and run one at a time in call
 * order, so several may be started without awaiting. Before a broadcast or all-reduce the ranks
 * agree on the element count (and root): a mismatch rejects on every rank with an {@link MpiError}
 * naming both counts. A collective that takes longer than the timeout prints which one, how long
 * and the rank on stderr and aborts the whole job (`MPI_Abort`): MPI cannot cancel a collective.
 *
 * Argument and state errors (unsupported type, bad root, after finalize) throw synchronously;
 * mismatches and MPI error codes reject the returned promise.
 */
export class Mpi {
  /** This process's rank in `MPI_COMM_WORLD`, `0 <= rank < size`. */
  readonly rank: number;
  /** Number of processes in `MPI_COMM_WORLD` (1 outside mpirun). */
  readonly size: number;
  /** Per-collective timeout in milliseconds. */
  readonly timeoutMs: number;
  /** The MPI library's version string (`MPI_Get_library_version`). */
  readonly library: string;

  private readonly native: NativeMpi;
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;
  private isFinalized = false;

  /** @internal Use {@link Mpi.init}. */
  constructor(token: symbol, native: NativeMpi, timeoutMs: number) {
    if (token !== CONSTRUCT) throw new MpiError('new Mpi(): use Mpi.init()');
    this.native = native;
    this.timeoutMs = timeoutMs;
    const info = native.init();
    if (info.threadLevel < info.threadSerialized) {
      native.finalize();
      throw new MpiError(
        `Mpi.init: the MPI library provides thread level ${info.threadLevel}, below MPI_THREAD_SERIALIZED ` +
          `(${info.threadSerialized}) which collectives on a worker thread need`,
      );
    }
    this.rank = info.rank;
    this.size = info.size;
    this.library = info.library;
  }

  /**
   * Initialises MPI (`MPI_Init_thread` with `MPI_THREAD_SERIALIZED`, errors returned rather than
   * fatal) and returns the world. Loads the native addon on first call. Idempotent: later calls
   * return the same object (a different explicit `timeoutMs` throws). Works outside mpirun as a
   * world of size 1. Throws an {@link MpiError} after {@link Mpi.finalize} (MPI cannot restart).
   */
  static init(options: MpiInitOptions = {}): Mpi {
    if (finalizedOnce)
      throw new MpiError('Mpi.init after finalize: MPI cannot be initialised twice in one process');
    if (world) {
      if (options.timeoutMs !== undefined && options.timeoutMs !== world.timeoutMs)
        throw new MpiError(
          `Mpi.init: already initialised with timeoutMs ${world.timeoutMs}, called again with ${options.timeoutMs}`,
        );
      return world;
    }
    const timeoutMs = resolveTimeoutMs(options.timeoutMs, options.env ?? process.env);
    world = new Mpi(CONSTRUCT, loadNativeMpi(), timeoutMs);
    return world;
  }

  /** The world {@link Mpi.init} returned; throws an {@link MpiError} before init or after finalize. */
  static instance(): Mpi {
    if (finalizedOnce) throw new MpiError('Mpi.instance after finalize');
    if (!world) throw new MpiError('Mpi.instance before Mpi.init()');
    return world;
  }

  /** Whether {@link Mpi.finalize} has been called. */
  get finalized(): boolean {
    return this.isFinalized;
  }

  /** Resolves once every rank has called `barrier` (`MPI_Barrier`). */
  barrier(): Promise<void> {
    this.requireActive('barrier');
    return this.enqueue('barrier', () => this.native.barrier(), undefined);
  }

  /**
   * Copies `root`'s bytes of `view` into every other rank's `view`, in place (`MPI_Bcast`). Any
   * TypedArray or DataView; only the view's bytes change (`byteOffset`..`byteOffset + byteLength`).
   * Every rank must pass the same byte length and root. Keep the view's memory unchanged and
   * attached (no transfer, no `WebAssembly.Memory.grow` of a non-shared memory) until it resolves.
   * Resolves to `view`.
   */
  broadcast<T extends ArrayBufferView>(view: T, root = 0): Promise<T> {
    this.requireActive('broadcast');
    requireView('broadcast', view);
    if (!Number.isInteger(root) || root < 0 || root >= this.size)
      throw new MpiError(`broadcast: root ${root} is not a rank of a world of size ${this.size}`);
    return this.enqueue('broadcast', () => this.native.broadcast(view, root), view);
  }

  /**
   * Replaces `view` on every rank by the element-wise sum over ranks, in place (`MPI_Allreduce`
   * with `MPI_IN_PLACE`, `MPI_SUM`). Float32Array, Float64Array or Int32Array; every rank must pass
   * the same length. The same memory rules as {@link Mpi.broadcast}. Resolves to `view`.
   */
  allReduceSum<T extends SummableArray>(view: T): Promise<T> {
    this.requireActive('allReduceSum');
    requireSummable('allReduceSum', view);
    return this.enqueue('allReduceSum', () => this.native.allReduceSum(view), view);
  }

  /**
   * Ends MPI (`MPI_Finalize`); every rank must call it. Throws an {@link MpiError} while
   * collectives are still queued or running (await them first). Later calls of any method throw.
   */
  finalize(): void {
    this.requireActive('finalize');
    if (this.pending > 0)
      throw new MpiError(`finalize: ${this.pending} collective(s) still queued or running; await them first`);
    this.isFinalized = true;
    finalizedOnce = true;
    this.native.finalize();
  }

  private requireActive(op: string): void {
    if (this.isFinalized) throw new MpiError(`${op} after finalize`);
  }

  /** Runs `start` after every earlier collective has settled, under the timeout. */
  private enqueue<T>(op: string, start: () => Promise<void>, result: T): Promise<T> {
    this.pending += 1;
    const run = async (): Promise<T> => {
      const began = Date.now();
      const timer = setTimeout(() => this.abortOnTimeout(op, began), this.timeoutMs);
      try {
        await start();
      } catch (error) {
        throw new MpiError(`${op}: ${(error as Error).message}`);
      } finally {
        clearTimeout(timer);
        this.pending -= 1;
      }
      return result;
    };
    const done = this.tail.then(run);
    // A failed collective fails for its caller only; the queue moves on.
    this.tail = done.catch(() => undefined);
    return done;
  }

  private abortOnTimeout(op: string, began: number): void {
    const seconds = ((Date.now() - began) / 1000).toFixed(1);
    // Synchronous write: MPI_Abort ends the process right after.
    writeSync(
      2,
      `@vla/mpi: rank ${this.rank} of ${this.size}: ${op} did not finish within ${this.timeoutMs} ms ` +
        `(${seconds} s); aborting the MPI job (a rank is stuck, dead or calling collectives in another order)\n`,
    );
    this.native.abort(MPI_TIMEOUT_EXIT_CODE);
    process.exit(MPI_TIMEOUT_EXIT_CODE);
  }
}
