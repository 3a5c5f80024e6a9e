// Size-bucketed pool of storage buffers. A released buffer is parked until the queue submission that
// last used it has been made: reusing it earlier would let a queue.writeBuffer for its new owner run
// before the still-unsubmitted commands of its old owner.

/** Usage of every pooled storage buffer. */
export const STORAGE_USAGE = 0x80 /* STORAGE */ | 0x4 /* COPY_SRC */ | 0x8; /* COPY_DST */

/** Rounds a byte size up to its bucket: powers of two up to 1 MiB, then steps of 1/8 of a power of two. */
export function bucketSize(bytes: number): number {
  const n = Math.max(256, Math.ceil(bytes / 4) * 4);
  const pow = 2 ** Math.ceil(Math.log2(n));
  if (pow <= 1 << 20) return pow;
  const step = pow / 8;
  return Math.ceil(n / step) * step;
}

/** Bytes the pool holds, for leak tests and progress displays. */
export interface PoolStats {
  /** Bytes in buffers handed out and not yet released. */
  inUseBytes: number;
  /** Bytes in free buffers ready for reuse. */
  freeBytes: number;
  /** Bytes released but waiting for their submission. */
  parkedBytes: number;
  /** Buffers ever created by the pool. */
  created: number;
  /** Live GPU buffers (in use + free + parked). */
  live: number;
  /** Bytes of all live buffers: in use + free + parked (what a memory budget caps). */
  liveBytes: number;
  /**
   * Bytes of every buffer ever handed out (reused or new), a running total: the difference over a
   * piece of code is its allocation traffic (e.g. to show that a step copies nothing that grows).
   */
  acquiredBytes: number;
}

/** A pool of buffers keyed by bucket size: GPU storage buffers, or the CPU engine's memory blocks. */
export class BufferPool<B extends { destroy(): void } = GPUBuffer> {
  private readonly free = new Map<number, B[]>();
  private parked: B[] = [];
  private readonly sizes = new WeakMap<B, number>();
  private stats: Omit<PoolStats, 'liveBytes'> = {
    inUseBytes: 0,
    freeBytes: 0,
    parkedBytes: 0,
    created: 0,
    live: 0,
    acquiredBytes: 0,
  };

  constructor(
    private readonly create: (size: number, usage: number) => B,
    private readonly usage: number = STORAGE_USAGE,
  ) {}

  /** A buffer of at least `bytes` bytes (contents undefined). */
  acquire(bytes: number): B {
    const size = bucketSize(bytes);
    const list = this.free.get(size);
    let buf = list?.pop();
    if (buf) {
      this.stats.freeBytes -= size;
    } else {
      buf = this.create(size, this.usage);
      this.sizes.set(buf, size);
      this.stats.created++;
      this.stats.live++;
    }
    this.stats.inUseBytes += size;
    this.stats.acquiredBytes += size;
    return buf;
  }

  /** Hands a buffer back; it becomes reusable after the next {@link BufferPool.submitted}. */
  release(buf: B): void {
    const size = this.sizes.get(buf);
    if (size === undefined) throw new Error('BufferPool.release: buffer does not belong to this pool');
    this.stats.inUseBytes -= size;
    this.stats.parkedBytes += size;
    this.parked.push(buf);
  }

  /** Called by the engine right after a queue submission: parked buffers become free. */
  submitted(): void {
    for (const buf of this.parked) {
      const size = this.sizes.get(buf)!;
      let list = this.free.get(size);
      if (!list) this.free.set(size, (list = []));
      list.push(buf);
      this.stats.parkedBytes -= size;
      this.stats.freeBytes += size;
    }
    this.parked = [];
  }

  /** True when {@link BufferPool.acquire} of `bytes` would reuse a free buffer instead of creating one. */
  hasFree(bytes: number): boolean {
    return !!this.free.get(bucketSize(bytes))?.length;
  }

  /** Destroys every free buffer (e.g. after a memory-hungry phase). */
  trim(): void {
    this.evict(Infinity);
  }

  /**
   * Destroys free buffers, largest buckets first, until at least `bytes` bytes are given back or
   * none is left; returns the bytes given back.
   */
  evict(bytes: number): number {
    let freed = 0;
    const sizes = [...this.free.keys()].sort((a, b) => b - a);
    for (const size of sizes) {
      const list = this.free.get(size)!;
      while (list.length && freed < bytes) {
        list.pop()!.destroy();
        this.stats.live--;
        this.stats.freeBytes -= size;
        freed += size;
      }
      if (!list.length) this.free.delete(size);
      if (freed >= bytes) break;
    }
    return freed;
  }

  /** A snapshot of the pool's byte counts. */
  getStats(): PoolStats {
    const s = this.stats;
    return { ...s, liveBytes: s.inUseBytes + s.freeBytes + s.parkedBytes };
  }
}
