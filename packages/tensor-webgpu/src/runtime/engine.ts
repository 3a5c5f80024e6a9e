// The engine owns the device: buffer pool, compiled kernels, and a deferred command stream. Many
// dispatches share one compute pass and one submission (like tfjs and ORT WebGPU); readbacks and
// explicit syncs flush. Errors from allocation, compilation and validation are collected through
// error scopes and rethrown, with the op label, at the next sync point. An optional memory budget
// caps the bytes of live tensor buffers (memoryBudget.ts).
import { halfStorageOnlyMessage } from '../dtype.js';
import type { DeviceBuffer } from './backend.js';
import { BufferPool, bucketSize, type PoolStats } from './bufferPool.js';
import { requestGpu, type Gpu, type RequestGpuOptions } from './device.js';
import { GpuMemoryBudgetError, parseByteSize, resolveMemoryBudget } from './memoryBudget.js';

/** A WGSL program and the key that identifies its compiled variant. */
export interface Kernel {
  /** Unique per generated WGSL text: template name plus every parameter baked into the code. */
  key: string;
  /** Produces the WGSL source; called once per key. Entry point must be `main`. */
  code: () => string;
}

/** One storage buffer bound to a dispatch; bindings are numbered in array order from 0. */
export interface StorageBinding {
  buffer: DeviceBuffer;
  /** Bound read-only (`var<storage, read>`) when true, `read_write` otherwise. */
  readOnly: boolean;
  offset?: number;
  size?: number;
}

/** Everything needed to record one compute dispatch. */
export interface Dispatch {
  kernel: Kernel;
  /** Op name and shapes, used in error messages (e.g. "matmul [8,3]x[3,5]"). */
  label: string;
  storage: StorageBinding[];
  /** Uniform block bound right after the storage buffers (binding = storage.length). */
  uniforms?: ArrayBufferView;
  /** Workgroup counts; use {@link Engine.grid} for large 1-D launches. */
  workgroups: readonly [number, number?, number?];
}

/** A tensor's storage as a GPU buffer; a CPU engine's block here means tensors of two engines were mixed. */
export function gpuBuffer(buf: DeviceBuffer): GPUBuffer {
  if ('ptr' in buf) throw new Error('a tensor of the CPU engine was passed to the WebGPU engine: move it first (await tensor.to(engine))');
  return buf;
}

/** Thrown when the GPU device is lost; the engine is unusable afterwards. */
export class DeviceLostError extends Error {
  constructor(
    /** The loss reason the device reported (`destroyed`, `unknown`). */
    readonly reason: string,
    /** The device's own message. */
    readonly detail: string,
    /** What was under way when the loss surfaced (e.g. `readback of tensor [2, 3] f32`). */
    readonly during?: string,
  ) {
    super(
      `GPU device lost (${reason})${during ? ` during ${during}` : ''}: ${detail || 'no message'}. Create a new engine to continue.`,
    );
    this.name = 'DeviceLostError';
  }
}

/** Thrown for out-of-memory, shader compilation and validation errors, naming the op. */
export class GpuOpError extends Error {
  constructor(
    readonly op: string,
    readonly kind: string,
    message: string,
  ) {
    super(`${kind} in ${op}: ${message}`);
    this.name = 'GpuOpError';
  }
}

const UNIFORM = 0x40; // GPUBufferUsage.UNIFORM
const COPY_DST = 0x8;
const MAP_READ = 0x1;

/** Engine options. */
export interface EngineOptions extends RequestGpuOptions {
  /** Dispatches recorded before an automatic submit (default 16). */
  dispatchesPerSubmit?: number;
  /**
   * Cap on the bytes of live tensor buffers (the pool's in-use, parked and free buffers; the small
   * uniform and readback staging buffers are not counted): bytes, or a string such as `"6GiB"` or
   * `"512MB"`. When an allocation would cross it, free pooled buffers are destroyed first; if that is
   * not enough, the allocation throws a {@link GpuMemoryBudgetError} instead of growing until the
   * process is killed. Default: the environment variable `VLA_GPU_MEMORY_BUDGET` (same format) when
   * set, else no cap; `null` turns the cap off whatever the environment says.
   */
  memoryBudget?: number | string | null;
}

/** Owns a GPUDevice and runs kernels on it. */
export class Engine {
  /** Which backend this is (see {@link Backend}). */
  readonly kind = 'webgpu' as const;
  readonly device: GPUDevice;
  readonly gpu: Gpu;
  readonly pool: BufferPool;
  /**
   * True when f16 arithmetic is available (`shader-f16`). Without it f16 tensors still exist, as
   * storage only: they upload, read back, cast, copy, gather, and serve as the weight operand of
   * `linear` / `matmul` / `conv2d` / `convTranspose2d` with f32 activations (weight-only f16);
   * other ops on them throw.
   */
  readonly hasF16: boolean;
  readonly hasSubgroups: boolean;
  readonly hasTimestamps: boolean;
  readonly limits: GPUSupportedLimits;
  readonly dispatchesPerSubmit: number;

  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly layouts = new Map<string, GPUBindGroupLayout>();
  private readonly uniformPool = new BufferPool((size, usage) => this.device.createBuffer({ size, usage }), UNIFORM | COPY_DST);
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private pending = 0;
  private batchLabels: string[] = [];
  private errors: GpuOpError[] = [];
  private checks: Promise<void>[] = [];
  private lost: DeviceLostError | null = null;
  private destroyed = false;
  private budget: number | null;
  /** Total dispatches and submissions, for tests and profiling. */
  readonly counters = { dispatches: 0, submits: 0, readbacks: 0 };

  private constructor(gpu: Gpu, options: EngineOptions) {
    this.gpu = gpu;
    this.device = gpu.device;
    this.limits = gpu.device.limits;
    this.hasF16 = gpu.features.has('shader-f16');
    this.hasSubgroups = gpu.features.has('subgroups');
    this.hasTimestamps = gpu.features.has('timestamp-query');
    this.dispatchesPerSubmit = options.dispatchesPerSubmit ?? 16;
    this.budget = resolveMemoryBudget(options.memoryBudget);
    this.pool = new BufferPool((size, usage) => this.createBufferChecked(size, usage));
    void this.device.lost.then((info) => {
      if (!this.destroyed) this.lost = new DeviceLostError(String(info.reason), info.message);
    });
    this.device.addEventListener?.('uncapturederror', (ev) => {
      const e = (ev as GPUUncapturedErrorEvent).error;
      this.errors.push(new GpuOpError('(uncaptured)', 'GPU error', e.message));
    });
  }

  /** Requests a device (see {@link requestGpu}) and builds an engine on it. */
  static async create(options: EngineOptions = {}): Promise<Engine> {
    // A malformed budget fails before a device is requested.
    resolveMemoryBudget(options.memoryBudget);
    return new Engine(await requestGpu(options), options);
  }

  /** A one-line description: `WebGPU (nvidia hopper)`, `WebGPU (SwiftShader)`. */
  get description(): string {
    const a = this.gpu.adapterInfo;
    return `WebGPU (${[a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' ') || 'unknown adapter'})`;
  }

  /** True when the adapter runs on the CPU (SwiftShader, llvmpipe). */
  get isCpuAdapter(): boolean {
    const a = this.gpu.adapterInfo;
    return /swiftshader|llvmpipe|lavapipe/i.test(`${a.vendor} ${a.architecture} ${a.device} ${a.description}`);
  }

  /** Splits a 1-D launch of `n` workgroups into x/y so that neither exceeds the device limit. */
  grid(n: number): [number, number, number] {
    const max = this.limits.maxComputeWorkgroupsPerDimension;
    if (n <= max) return [Math.max(1, n), 1, 1];
    const y = Math.ceil(n / max);
    return [Math.ceil(n / y), y, 1];
  }

  private assertUsable(op?: string): void {
    if (this.lost) throw op ? new DeviceLostError(this.lost.reason, this.lost.detail, op) : this.lost;
    if (this.destroyed) throw new Error(op ? `${op}: the engine has been destroyed` : 'Engine has been destroyed');
  }

  private watch(label: string, filter: GPUErrorFilter): void {
    const p = this.device.popErrorScope().then((err) => {
      if (err) this.errors.push(new GpuOpError(label, filter === 'out-of-memory' ? 'GPU out of memory' : 'GPU validation error', err.message));
    });
    this.checks.push(p.catch(() => undefined));
  }

  private createBufferChecked(size: number, usage: number): GPUBuffer {
    this.assertUsable();
    if (size > this.limits.maxBufferSize) {
      throw new GpuOpError(this.currentLabel, 'GPU out of memory', `buffer of ${size} bytes exceeds maxBufferSize ${this.limits.maxBufferSize}`);
    }
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    const buf = this.device.createBuffer({ size, usage });
    this.watch(`allocating ${size} bytes for ${this.currentLabel}`, 'validation');
    this.watch(`allocating ${size} bytes for ${this.currentLabel}`, 'out-of-memory');
    return buf;
  }

  /** Label of the op being recorded, for allocation errors. */
  currentLabel = '(no op)';

  /**
   * A pooled storage buffer of at least `bytes` bytes. Release with {@link Engine.release}. `what`
   * (e.g. `tensor [2, 3] f32`) names the allocation in a {@link GpuMemoryBudgetError}.
   */
  alloc(bytes: number, what?: string): GPUBuffer {
    this.assertUsable();
    if (this.budget !== null) this.makeRoom(bytes, what ?? `a buffer of ${bytes} bytes`);
    return this.pool.acquire(bytes);
  }

  /** The memory budget in bytes (see {@link EngineOptions.memoryBudget}); null when uncapped. */
  get memoryBudget(): number | null {
    return this.budget;
  }

  /**
   * Changes the memory budget (bytes or a string such as `"2GiB"`; null removes it). Buffers already
   * alive stay alive; the next allocation that does not fit throws.
   */
  setMemoryBudget(budget: number | string | null): void {
    this.budget = budget === null ? null : parseByteSize(budget, 'Engine.setMemoryBudget');
  }

  /**
   * Makes room for a new buffer of `bytes` within the budget, or throws before anything changes
   * (flushing and destroying free pooled buffers only happen when they are enough).
   */
  private makeRoom(bytes: number, what: string): void {
    const budget = this.budget!;
    const size = bucketSize(bytes);
    const fits = () => this.pool.hasFree(bytes) || this.pool.getStats().liveBytes + size <= budget;
    if (fits()) return;
    // Parked and free buffers can be given back; buffers in use cannot.
    const inUse = this.pool.getStats().inUseBytes;
    if (inUse + size > budget) throw new GpuMemoryBudgetError(what, size, inUse, budget);
    // Released buffers wait for the submission of the commands that used them; with nothing
    // recorded they are reusable now.
    if (this.encoder) this.flush();
    else this.pool.submitted();
    if (fits()) return;
    this.pool.evict(this.pool.getStats().liveBytes + size - budget);
  }

  /** Returns a buffer to the pool; it is reused only after the submission that last used it. */
  release(buf: DeviceBuffer): void {
    this.pool.release(gpuBuffer(buf));
  }

  /** Copies host data into a buffer (ordered before any later-submitted dispatch). */
  upload(target: DeviceBuffer, data: ArrayBufferView, offset = 0): void {
    this.assertUsable();
    const buf = gpuBuffer(target);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    // writeBuffer needs a multiple of 4 bytes.
    if (bytes.byteLength % 4 !== 0) {
      const padded = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
      padded.set(bytes);
      this.device.queue.writeBuffer(buf, offset, padded);
    } else {
      this.device.queue.writeBuffer(buf, offset, bytes as Uint8Array<ArrayBuffer>);
    }
  }

  private layoutFor(readOnly: boolean[], hasUniform: boolean): GPUBindGroupLayout {
    const sig = readOnly.map((r) => (r ? 'r' : 'w')).join('') + (hasUniform ? 'u' : '');
    let layout = this.layouts.get(sig);
    if (!layout) {
      const entries: GPUBindGroupLayoutEntry[] = readOnly.map((r, i) => ({
        binding: i,
        visibility: 4, // GPUShaderStage.COMPUTE
        buffer: { type: r ? 'read-only-storage' : 'storage' },
      }));
      if (hasUniform) entries.push({ binding: readOnly.length, visibility: 4, buffer: { type: 'uniform' } });
      layout = this.device.createBindGroupLayout({ entries });
      this.layouts.set(sig, layout);
    }
    return layout;
  }

  private pipelineFor(kernel: Kernel, layout: GPUBindGroupLayout, sig: string, label: string): GPUComputePipeline {
    const key = `${kernel.key}|${sig}`;
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      const code = kernel.code();
      // Without shader-f16, f16 tensors are storage only; say so instead of a WGSL compile error.
      if (!this.hasF16 && /^enable f16;/m.test(code)) throw new Error(halfStorageOnlyMessage(label));
      this.device.pushErrorScope('validation');
      const module = this.device.createShaderModule({ code, label: kernel.key });
      pipeline = this.device.createComputePipeline({
        layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
        compute: { module, entryPoint: 'main' },
        label: kernel.key,
      });
      this.watch(`compiling kernel ${kernel.key} for ${label}`, 'validation');
      this.pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  /** Records a dispatch into the current batch; submits automatically every `dispatchesPerSubmit`. */
  dispatch(d: Dispatch): void {
    this.assertUsable();
    this.currentLabel = d.label;
    const readOnly = d.storage.map((s) => s.readOnly);
    const hasUniform = !!d.uniforms;
    const sig = readOnly.map((r) => (r ? 'r' : 'w')).join('') + (hasUniform ? 'u' : '');
    const layout = this.layoutFor(readOnly, hasUniform);
    const pipeline = this.pipelineFor(d.kernel, layout, sig, d.label);
    const entries: GPUBindGroupEntry[] = d.storage.map((s, i) => ({
      binding: i,
      resource: { buffer: gpuBuffer(s.buffer), offset: s.offset ?? 0, size: s.size },
    }));
    let uniformBuf: GPUBuffer | null = null;
    if (d.uniforms) {
      uniformBuf = this.uniformPool.acquire(Math.max(16, d.uniforms.byteLength));
      this.upload(uniformBuf, d.uniforms);
      entries.push({ binding: d.storage.length, resource: { buffer: uniformBuf } });
    }
    const pass = this.beginPass();
    const bindGroup = this.device.createBindGroup({ layout, entries });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    const [x, y = 1, z = 1] = d.workgroups;
    pass.dispatchWorkgroups(x, y, z);
    if (uniformBuf) this.uniformPool.release(uniformBuf);
    this.batchLabels.push(d.label);
    this.counters.dispatches++;
    if (++this.pending >= this.dispatchesPerSubmit) this.flush();
  }

  private beginEncoder(): GPUCommandEncoder {
    if (!this.encoder) {
      this.device.pushErrorScope('validation');
      this.encoder = this.device.createCommandEncoder();
    }
    return this.encoder;
  }

  private beginPass(): GPUComputePassEncoder {
    if (!this.pass) this.pass = this.beginEncoder().beginComputePass();
    return this.pass;
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }

  /** Records a buffer-to-buffer copy (sizes multiple of 4). */
  copy(src: DeviceBuffer, srcOffset: number, dst: DeviceBuffer, dstOffset: number, size: number): void {
    this.assertUsable();
    this.endPass();
    this.beginEncoder().copyBufferToBuffer(gpuBuffer(src), srcOffset, gpuBuffer(dst), dstOffset, size);
    this.batchLabels.push('copy');
  }

  /** Submits every recorded command; parked buffers then become reusable. */
  flush(): void {
    if (!this.encoder) return;
    this.endPass();
    const labels = this.batchLabels;
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.pending = 0;
    this.batchLabels = [];
    this.counters.submits++;
    const shown = labels.length > 6 ? [...labels.slice(0, 3), '...', ...labels.slice(-3)] : labels;
    this.watch(`a batch of ${labels.length} commands (${shown.join(', ')})`, 'validation');
    this.pool.submitted();
    this.uniformPool.submitted();
  }

  private async throwCollected(): Promise<void> {
    const checks = this.checks;
    this.checks = [];
    await Promise.all(checks);
    if (this.lost) throw this.lost;
    if (this.errors.length) {
      const [first, ...rest] = this.errors;
      this.errors = [];
      if (rest.length) first.message += ` (and ${rest.length} more GPU errors)`;
      throw first;
    }
  }

  /**
   * Reads `bytes` bytes of a buffer back to the host. `what` (e.g. `tensor [2, 3] f32`) names the
   * readback in errors: when the device is lost, the engine destroyed or the map aborted while the
   * read is pending, the error says which readback failed and why.
   */
  async read(source: DeviceBuffer, offset: number, bytes: number, what = `${bytes} bytes`): Promise<ArrayBuffer> {
    const op = `readback of ${what}`;
    const buf = gpuBuffer(source);
    this.assertUsable(op);
    const size = Math.ceil(bytes / 4) * 4;
    const staging = this.device.createBuffer({ size: Math.max(4, size), usage: MAP_READ | COPY_DST });
    this.endPass();
    this.beginEncoder().copyBufferToBuffer(buf, offset, staging, 0, size);
    this.batchLabels.push(op);
    this.flush();
    this.counters.readbacks++;
    let data: ArrayBuffer;
    try {
      await staging.mapAsync(MAP_READ);
      data = staging.getMappedRange(0, size).slice(0, bytes);
    } catch (e) {
      staging.destroy();
      throw await this.readFailure(op, e);
    }
    staging.destroy();
    await this.throwCollected();
    return data;
  }

  /** The error for a readback whose map was aborted: a device loss, engine.destroy(), or a GPU error. */
  private async readFailure(op: string, cause: unknown): Promise<Error> {
    // Dawn may abort the map just before it reports the loss: wait for the loss or an idle queue.
    if (!this.destroyed && !this.lost) {
      await Promise.race([this.device.lost, this.device.queue.onSubmittedWorkDone()]).catch(() => undefined);
    }
    if (this.lost) return new DeviceLostError(this.lost.reason, this.lost.detail, op);
    if (this.destroyed) {
      return new Error(`${op} was aborted: the engine was destroyed (engine.destroy() or shutdown()) before the data arrived`, { cause });
    }
    try {
      await this.throwCollected();
    } catch (err) {
      return err as Error;
    }
    const c = cause as { name?: string; message?: string } | undefined;
    return new Error(`${op} failed: ${c?.name ?? 'Error'}: ${c?.message || 'no message'}`, { cause });
  }

  /** Flushes and waits until the GPU has finished every submitted command; rethrows collected errors. */
  async sync(): Promise<void> {
    this.assertUsable();
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    await this.throwCollected();
  }

  /** Bytes held by the storage-buffer pool (`liveBytes` is what {@link EngineOptions.memoryBudget} caps). */
  poolStats(): PoolStats {
    return this.pool.getStats();
  }

  /** Destroys the device. In Node, call this (or {@link runAndExit}) so the process can end. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.pool.trim();
    this.device.destroy();
  }
}
