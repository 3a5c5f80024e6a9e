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
}

/** A pool of GPU storage buffers keyed by bucket size. */
export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private parked: GPUBuffer[] = [];
  private readonly sizes = new WeakMap<GPUBuffer, number>();
  private stats: PoolStats = { inUseBytes: 0, freeBytes: 0, parkedBytes: 0, created: 0, live: 0 };

  constructor(
    private readonly create: (size: number, usage: number) => GPUBuffer,
    private readonly usage: number = STORAGE_USAGE,
  ) {}

  /** A buffer of at least `bytes` bytes (contents undefined). */
  acquire(bytes: number): GPUBuffer {
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
    return buf;
  }

  /** Hands a buffer back; it becomes reusable after the next {@link BufferPool.submitted}. */
  release(buf: GPUBuffer): void {
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

  /** Destroys every free buffer (e.g. after a memory-hungry phase). */
  trim(): void {
    for (const list of this.free.values()) {
      for (const buf of list) {
        buf.destroy();
        this.stats.live--;
      }
    }
    this.free.clear();
    this.stats.freeBytes = 0;
  }

  /** A snapshot of the pool's byte counts. */
  getStats(): PoolStats {
    return { ...this.stats };
  }
}
