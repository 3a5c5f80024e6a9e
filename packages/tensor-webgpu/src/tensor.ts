// A tensor is a view (shape, strides, element offset, dtype) on reference-counted GPU storage.
// Views share storage; the buffer goes back to the engine's pool when the last view is disposed.
import { bytesPerElement, storageBytes, type DType } from './dtype.js';
import { floatsToHalf, halfToFloats } from './half.js';
import type { Backend, DeviceBuffer } from './runtime/backend.js';
import { engine as defaultEngine } from './runtime/session.js';
import { track } from './scope.js';
import type { GradNode } from './autograd.js';
import { hooks } from './hooks.js';

/** Reference-counted device storage (a GPU buffer or a CPU memory block) shared by a tensor and its views. @internal */
export class Storage {
  refs = 1;
  constructor(
    readonly engine: Backend,
    readonly buffer: DeviceBuffer,
    readonly bytes: number,
  ) {}
  retain(): this {
    this.refs++;
    return this;
  }
  release(): void {
    if (--this.refs === 0) this.engine.release(this.buffer);
    if (this.refs < 0) throw new Error('Storage released more often than retained');
  }
}

/** Row-major strides of a shape. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** Number of elements of a shape. */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function checkShape(shape: readonly number[], what: string): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`${what}: invalid shape [${shape.join(', ')}]`);
  }
}

/** Host data accepted when creating a tensor. */
export type HostData = ArrayLike<number> | Float32Array | Int32Array | Uint32Array | Uint8Array;

/** An n-dimensional array on a device (a GPU through WebGPU, or the CPU) with optional gradient tracking. */
export class Tensor {
  /** Brand used by scopes to find tensors inside returned values. */
  readonly isTensor = true;
  /** Set by `keep()`: no scope disposes this tensor. */
  kept = false;
  /** Whether gradients flow to this tensor. Set on parameters; ops set it on their outputs. */
  requiresGrad = false;
  /** Accumulated gradient after `backward()` (leaf tensors only). Owned by this tensor. */
  grad: Tensor | null = null;
  /** The op that produced this tensor, while a graph is alive. @internal */
  gradNode: GradNode | null = null;
  /** Optional name (parameters get their state-dict name). */
  name?: string;
  private storageRef: Storage | null;

  /** Use the creation functions (`tensor`, `zeros`, ...) or {@link Tensor.fromStorage}. @internal */
  constructor(
    storage: Storage,
    readonly shape: readonly number[],
    readonly dtype: DType,
    readonly strides: readonly number[] = contiguousStrides(shape),
    readonly offset = 0,
  ) {
    this.storageRef = storage;
    track(this);
  }

  /** Wraps storage (taking over one reference) as a tensor. @internal */
  static fromStorage(storage: Storage, shape: readonly number[], dtype: DType, strides?: readonly number[], offset = 0): Tensor {
    return new Tensor(storage, [...shape], dtype, strides ? [...strides] : undefined, offset);
  }

  /** Allocates an uninitialised contiguous tensor on an engine. @internal */
  static empty(shape: readonly number[], dtype: DType = 'f32', eng: Backend = defaultEngine()): Tensor {
    checkShape(shape, 'empty');
    const bytes = storageBytes(dtype, shapeSize(shape));
    const buffer = eng.alloc(bytes, `tensor [${shape.join(', ')}] ${dtype}`);
    return new Tensor(new Storage(eng, buffer, bytes), [...shape], dtype);
  }

  /** Uploads host data as a contiguous tensor (f32 values are converted to half for f16). */
  static fromData(data: HostData, shape: readonly number[], dtype: DType = 'f32', eng: Backend = defaultEngine()): Tensor {
    checkShape(shape, 'tensor');
    const n = shapeSize(shape);
    if (data.length !== n) throw new Error(`tensor: ${data.length} values do not fill shape [${shape.join(', ')}] (${n} elements)`);
    const t = Tensor.empty(shape, dtype, eng);
    let view: ArrayBufferView;
    switch (dtype) {
      case 'f32':
        view = data instanceof Float32Array ? data : Float32Array.from(data);
        break;
      case 'f16':
        view = floatsToHalf(data);
        break;
      case 'i32':
        view = data instanceof Int32Array ? data : Int32Array.from(data);
        break;
      case 'u8':
        view = data instanceof Uint8Array ? data : Uint8Array.from(data);
        break;
      default:
        view = data instanceof Uint32Array ? data : Uint32Array.from(data);
    }
    if (n > 0) eng.upload(t.buffer, view);
    return t;
  }

  /** Uploads IEEE half bit patterns (e.g. an F16 safetensors payload) as an f16 tensor, unconverted. */
  static fromHalfBits(bits: Uint16Array, shape: readonly number[], eng: Backend = defaultEngine()): Tensor {
    checkShape(shape, 'fromHalfBits');
    if (bits.length !== shapeSize(shape))
      throw new Error(`fromHalfBits: ${bits.length} values do not fill shape [${shape.join(', ')}] (${shapeSize(shape)} elements)`);
    const t = Tensor.empty(shape, 'f16', eng);
    if (bits.length) eng.upload(t.buffer, bits);
    return t;
  }

  /** The storage; throws a clear error after dispose. @internal */
  get storage(): Storage {
    if (!this.storageRef) throw new Error(`Tensor${this.describe()} was disposed and cannot be used`);
    return this.storageRef;
  }
  /** The device storage holding this tensor's data (a GPUBuffer on WebGPU, a memory block on the CPU). */
  get buffer(): DeviceBuffer {
    return this.storage.buffer;
  }
  /** The engine this tensor lives on. */
  get engine(): Backend {
    return this.storage.engine;
  }
  /** True once disposed. */
  get isDisposed(): boolean {
    return this.storageRef === null;
  }
  /** Number of elements. */
  get size(): number {
    return shapeSize(this.shape);
  }
  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }
  /** True when elements are laid out row-major with no gaps (offset may be non-zero). */
  get isContiguous(): boolean {
    const want = contiguousStrides(this.shape);
    for (let i = 0; i < this.shape.length; i++) if (this.shape[i] !== 1 && this.strides[i] !== want[i]) return false;
    return true;
  }
  /** Byte offset of element 0 in the buffer. */
  get byteOffset(): number {
    return this.offset * bytesPerElement(this.dtype);
  }

  /** A short description for messages: `[2, 3] f32`. */
  describe(): string {
    return ` [${this.shape.join(', ')}] ${this.dtype}${this.name ? ` (${this.name})` : ''}`;
  }

  /** A view sharing this tensor's storage with new shape/strides/offset (no copy). */
  view(shape: readonly number[], strides: readonly number[], offset: number): Tensor {
    return new Tensor(this.storage.retain(), [...shape], this.dtype, [...strides], offset);
  }

  /** An untracked handle on the same data, for autograd's saved tensors. @internal */
  retain(): Tensor {
    const t = Tensor.fromStorage(this.storage.retain(), this.shape, this.dtype, this.strides, this.offset);
    t.kept = true;
    return t;
  }

  /**
   * Releases this tensor's data (and its gradient), and its hold on the op that made it: that op's
   * saved tensors are freed once no live tensor's graph reaches it. Safe to call twice.
   */
  dispose(): void {
    if (this.storageRef) {
      this.storageRef.release();
      this.storageRef = null;
    }
    if (this.grad) {
      this.grad.dispose();
      this.grad = null;
    }
    // The node stays on the tensor: a live downstream graph may still run backward through it.
    this.gradNode?.dropOutput();
  }

  /** Reads the values back (async). f16 comes back as Float32Array, bool as Uint32Array of 0/1. */
  async toArray(): Promise<Float32Array | Int32Array | Uint32Array | Uint8Array> {
    const src: Tensor = this.isContiguous && (this.dtype !== 'u8' || this.offset % 4 === 0) ? this : hooks.contiguous(this);
    try {
      const n = src.size;
      const bpe = bytesPerElement(src.dtype);
      const start = src.byteOffset;
      // Reads must start on a 4-byte boundary; f16 views may start mid-word.
      const aligned = start - (start % 4);
      const raw = await src.engine.read(src.buffer, aligned, n * bpe + (start - aligned), `tensor${this.describe()}`);
      const skip = start - aligned;
      switch (src.dtype) {
        case 'f32':
          return new Float32Array(raw, 0, n);
        case 'f16':
          return halfToFloats(new Uint16Array(raw.slice(skip, skip + n * 2)));
        case 'i32':
          return new Int32Array(raw, 0, n);
        case 'u8':
          return new Uint8Array(raw, skip, n);
        default:
          return new Uint32Array(raw, 0, n);
      }
    } finally {
      if (src !== this) src.dispose();
    }
  }

  /**
   * A copy of this tensor on `target` (another engine: WebGPU ↔ CPU), contiguous, with no gradient
   * history: moving between engines is explicit and goes through host memory. On the same engine it
   * returns a contiguous copy.
   */
  async to(target: Backend): Promise<Tensor> {
    if (target === this.engine) return hooks.contiguous(this.view(this.shape, this.strides, this.offset));
    if (this.dtype === 'f16') {
      // Half bits travel unconverted.
      const src: Tensor = this.isContiguous && this.offset % 2 === 0 ? this : hooks.contiguous(this);
      try {
        const start = src.byteOffset;
        const raw = await src.engine.read(src.buffer, start, storageBytes('f16', src.size), `tensor${this.describe()}`);
        return Tensor.fromHalfBits(new Uint16Array(raw, 0, src.size), this.shape, target);
      } finally {
        if (src !== this) src.dispose();
      }
    }
    return Tensor.fromData(await this.toArray(), this.shape, this.dtype, target);
  }

  /** Reads a one-element tensor as a number. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new Error(`item(): tensor${this.describe()} has ${this.size} elements, not 1`);
    return (await this.toArray())[0];
  }

  /**
   * Backpropagates from this tensor. Without `grad`, the tensor must have one element and the seed
   * is 1. Gradients accumulate into `.grad` of leaf tensors with `requiresGrad`; the graph is freed.
   */
  backward(grad?: Tensor): void {
    hooks.backward(this, grad);
  }
}
