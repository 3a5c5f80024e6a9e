// Module base (written first so every model package codes against one API; layers build on it).
// Parameters are registered by name, children by name, so state-dict keys read like PyTorch's
// (`layers.0.self_attn.q_proj.weight`). Inside `meta(() => ...)` modules record parameter shapes
// without allocating, which lets a 3B-parameter configuration be built and counted anywhere.
import { noGrad } from '../autograd.js';
import { isFloat, storageBytes, type DType } from '../dtype.js';
import { hooks } from '../hooks.js';
import { cast } from '../ops/index.js';
import { keep, tidy } from '../scope.js';
import { shapeSize, type Tensor } from '../tensor.js';

let metaDepth = 0;

/** Builds modules without allocating parameters: shapes are recorded, tensors stay null. */
export function meta<T>(fn: () => T): T {
  metaDepth++;
  try {
    return fn();
  } finally {
    metaDepth--;
  }
}

/** True inside {@link meta}. */
export function isMeta(): boolean {
  return metaDepth > 0;
}

let matrixDtype: DType | null = null;

/**
 * Builds modules whose weight matrices (Linear, Embedding, convolutions) are stored in `dtype` from the start:
 * each matrix is initialised and converted one at a time, so a large model built for weight-only
 * f16 never holds all its weights in f32. Same result as building, then
 * `toDtype(dtype, { matricesOnly: true })`.
 */
export function withMatrixDtype<T>(dtype: 'f32' | 'f16', fn: () => T): T {
  const outer = matrixDtype;
  matrixDtype = dtype;
  try {
    return fn();
  } finally {
    matrixDtype = outer;
  }
}

/** The dtype set by an enclosing {@link withMatrixDtype}, else null. */
export function currentMatrixDtype(): DType | null {
  return matrixDtype;
}

/** Shape and dtype of a registered parameter or buffer. */
export interface TensorSpec {
  shape: readonly number[];
  dtype: DType;
  /** Buffers (persistent, non-trainable) vs parameters. */
  kind: 'parameter' | 'buffer';
  /** A weight matrix (Linear, Embedding, convolution kernels) that `toDtype` with `matricesOnly` converts. */
  matrix?: boolean;
}

/** Options of {@link Module.param}. */
export interface ParamOptions {
  dtype?: DType;
  /** False registers a frozen parameter (no gradient; still in the state dict). */
  trainable?: boolean;
  /** Marks a weight matrix (see {@link ToDtypeOptions.matricesOnly}). */
  matrix?: boolean;
}

/** Options of {@link Module.toDtype}. */
export interface ToDtypeOptions {
  /**
   * Convert only the weight matrices: the weights of Linear, Embedding, Conv2d and ConvTranspose2d
   * (the GEMM operands); norms, biases and buffers keep their dtype. With `'f16'` this is
   * weight-only f16: the matrices take half the memory while activations and arithmetic stay f32,
   * on every device (no shader-f16 needed).
   */
  matricesOnly?: boolean;
}

/** Options of {@link Module.loadStateDict}. */
export interface LoadOptions {
  /** Throw on missing or unexpected keys (default true). Shape mismatches always throw. */
  strict?: boolean;
}

/** Base class of every layer and model. */
export class Module {
  /** Training mode flag (dropout-like behaviour keys off it); see {@link Module.train}. */
  training = true;
  private readonly specs = new Map<string, TensorSpec>();
  private readonly tensors = new Map<string, Tensor | null>();
  private readonly children = new Map<string, Module>();
  /** Dotted path of this module inside the model it was registered into ('' for a root). */
  private prefix = '';

  /**
   * Registers a parameter. `init` creates its initial value (not called inside {@link meta}, where
   * the returned value is a null placeholder that must not be used).
   */
  protected param(
    name: string,
    shape: readonly number[],
    init: (shape: readonly number[]) => Tensor,
    options: ParamOptions = {},
  ): Tensor {
    return this.register(name, shape, init, options.dtype ?? 'f32', 'parameter', options.trainable ?? true, options.matrix);
  }

  /** Registers a persistent non-trainable tensor (saved in the state dict). */
  protected buffer(
    name: string,
    shape: readonly number[],
    init: (shape: readonly number[]) => Tensor,
    dtype: DType = 'f32',
  ): Tensor {
    return this.register(name, shape, init, dtype, 'buffer', false);
  }

  private register(
    name: string,
    shape: readonly number[],
    init: (s: readonly number[]) => Tensor,
    dtype: DType,
    kind: TensorSpec['kind'],
    trainable: boolean,
    matrix = false,
  ): Tensor {
    if (this.specs.has(name) || this.children.has(name))
      throw new Error(`${this.constructor.name}: "${name}" registered twice`);
    const stored = matrix && matrixDtype && isFloat(dtype) ? matrixDtype : dtype;
    this.specs.set(name, { shape: [...shape], dtype: stored, kind, ...(matrix ? { matrix } : {}) });
    if (isMeta()) {
      this.tensors.set(name, null);
      return null as unknown as Tensor;
    }
    const t = keep(
      tidy(() => {
        const v = init(shape);
        return v.dtype === stored ? v : cast(v, stored);
      }),
    );
    if (t.shape.join() !== shape.join()) {
      throw new Error(`${this.constructor.name}.${name}: init returned [${t.shape}] for shape [${shape}]`);
    }
    t.requiresGrad = kind === 'parameter' && trainable;
    t.name = this.prefix + name;
    this.tensors.set(name, t);
    return t;
  }

  /** Registers a child module under `name` and returns it. */
  protected module<M extends Module>(name: string, child: M): M {
    if (this.specs.has(name) || this.children.has(name))
      throw new Error(`${this.constructor.name}: "${name}" registered twice`);
    this.children.set(name, child);
    child.setPrefix(`${this.prefix}${name}.`);
    return child;
  }

  // Tensor names are full state-dict names (optimizer state and error messages use them), so a
  // subtree is renamed whenever it is attached below a parent.
  private setPrefix(prefix: string): void {
    this.prefix = prefix;
    for (const [n, t] of this.tensors) if (t) t.name = prefix + n;
    for (const [n, c] of this.children) c.setPrefix(`${prefix}${n}.`);
  }

  /** Child modules with their names. */
  namedChildren(): [string, Module][] {
    return [...this.children];
  }

  /** Every parameter and buffer spec with its full dotted name (works inside {@link meta}). */
  namedSpecs(prefix = ''): [string, TensorSpec][] {
    const out: [string, TensorSpec][] = [];
    for (const [n, s] of this.specs) out.push([prefix + n, s]);
    for (const [n, c] of this.children) out.push(...c.namedSpecs(`${prefix}${n}.`));
    return out;
  }

  /** Total parameter count (buffers excluded); works inside {@link meta}. */
  numParameters(): number {
    let n = 0;
    for (const [, s] of this.namedSpecs()) if (s.kind === 'parameter') n += shapeSize(s.shape);
    return n;
  }

  private namedTensors(prefix: string, kinds: TensorSpec['kind'][]): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, s] of this.specs) {
      if (!kinds.includes(s.kind)) continue;
      const t = this.tensors.get(n);
      if (!t) throw new Error(`${prefix}${n}: module was built inside meta(); it has no tensors`);
      out.push([prefix + n, t]);
    }
    for (const [n, c] of this.children) out.push(...c.namedTensors(`${prefix}${n}.`, kinds));
    return out;
  }

  /** Parameters with full dotted names, e.g. `layers.0.mlp.up_proj.weight`. */
  namedParameters(prefix = ''): [string, Tensor][] {
    return this.namedTensors(prefix, ['parameter']);
  }

  /** Trainable parameters (those with requiresGrad). */
  parameters(): Tensor[] {
    return this.namedParameters()
      .map(([, t]) => t)
      .filter((t) => t.requiresGrad);
  }

  /** Parameters and buffers by full name (the tensors themselves, not copies). */
  stateDict(): Record<string, Tensor> {
    return Object.fromEntries(this.namedTensors('', ['parameter', 'buffer']));
  }

  /**
   * Copies values into this module's tensors (in place, so references to them stay valid). Keys and
   * shapes must match (see {@link LoadOptions}); values of another float dtype are converted on the
   * GPU. Every key is checked before anything is copied: one error lists all missing, unexpected and
   * shape-mismatched keys.
   */
  async loadStateDict(
    state: Record<string, Tensor> | Map<string, Tensor>,
    options: LoadOptions = {},
  ): Promise<void> {
    const strict = options.strict ?? true;
    const entries = state instanceof Map ? state : new Map(Object.entries(state));
    const own = new Map(this.namedTensors('', ['parameter', 'buffer']));
    const missing = [...own.keys()].filter((k) => !entries.has(k));
    const unexpected = [...entries.keys()].filter((k) => !own.has(k));
    const mismatched: string[] = [];
    for (const [name, dst] of own) {
      const src = entries.get(name);
      if (!src) continue;
      if (src.shape.join() !== dst.shape.join()) {
        mismatched.push(
          `${name} has shape [${src.shape}] in the state dict but [${dst.shape}] in the module`,
        );
      } else if (src.dtype !== dst.dtype && !(isFloat(src.dtype) && isFloat(dst.dtype))) {
        mismatched.push(`${name} has dtype ${src.dtype} in the state dict but ${dst.dtype} in the module`);
      }
    }
    const show = (xs: string[]) => xs.slice(0, 8).join(', ') + (xs.length > 8 ? `, … (${xs.length})` : '');
    const problems: string[] = [];
    if (strict && missing.length) problems.push(`missing keys: ${show(missing)}`);
    if (strict && unexpected.length) problems.push(`unexpected keys: ${show(unexpected)}`);
    if (mismatched.length) problems.push(show(mismatched));
    if (problems.length) throw new Error(`loadStateDict: ${problems.join('; ')}`);
    for (const [name, dst] of own) {
      const src = entries.get(name);
      if (src) copyInto(dst, src);
    }
  }

  /**
   * Converts every floating-point parameter and buffer to `dtype`, or with `matricesOnly` just the
   * weight matrices (see {@link ToDtypeOptions}). Running a whole model in f16 needs
   * `engine.hasF16`; weight-only f16 runs anywhere. The tensors are replaced; fields of the module
   * that held the old tensors are re-pointed to the new ones. Create optimizers after converting.
   * Works inside {@link meta} (only the specs change).
   */
  toDtype(dtype: DType, options: ToDtypeOptions = {}): this {
    if (!isFloat(dtype)) throw new Error(`${this.constructor.name}.toDtype: ${dtype} is not a float dtype`);
    noGrad(() => {
      for (const [name, spec] of this.specs) {
        if (!isFloat(spec.dtype) || spec.dtype === dtype) continue;
        if (options.matricesOnly && !spec.matrix) continue;
        spec.dtype = dtype;
        const old = this.tensors.get(name);
        if (!old) continue;
        const t = keep(tidy(() => cast(old, dtype)));
        t.requiresGrad = old.requiresGrad;
        t.name = old.name;
        this.tensors.set(name, t);
        const fields = this as unknown as Record<string, unknown>;
        for (const key of Object.keys(fields)) if (fields[key] === old) fields[key] = t;
        old.dispose();
      }
    });
    for (const c of this.children.values()) c.toDtype(dtype, options);
    return this;
  }

  /** Sets training mode on this module and its children. */
  train(mode = true): this {
    this.training = mode;
    for (const c of this.children.values()) c.train(mode);
    return this;
  }

  /** Sets evaluation mode. */
  eval(): this {
    return this.train(false);
  }

  /** Sets every parameter's gradient to null (disposing it). */
  zeroGrad(): void {
    for (const [, t] of this.namedParameters()) {
      t.grad?.dispose();
      t.grad = null;
    }
  }

  /** Disposes every parameter and buffer. */
  dispose(): void {
    for (const t of this.tensors.values()) t?.dispose();
    for (const c of this.children.values()) c.dispose();
  }
}

/** A list of modules registered as `0`, `1`, … (PyTorch's nn.ModuleList). */
export class ModuleList<M extends Module> extends Module implements Iterable<M> {
  private readonly items: M[];
  constructor(items: M[]) {
    super();
    this.items = items.map((m, i) => this.module(String(i), m));
  }
  /** Item `i`. */
  at(i: number): M {
    const m = this.items[i];
    if (!m) throw new Error(`ModuleList: index ${i} out of range (length ${this.items.length})`);
    return m;
  }
  get length(): number {
    return this.items.length;
  }
  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}

/** Overwrites `dst` (contiguous) with the values of `src` (same shape), converting the dtype on the GPU. */
function copyInto(dst: Tensor, src: Tensor): void {
  if (dst.size === 0 || src === dst) return;
  if (!dst.isContiguous || dst.byteOffset % 4 !== 0)
    throw new Error(`loadStateDict: ${dst.name ?? 'tensor'} is not a contiguous tensor`);
  noGrad(() =>
    tidy(() => {
      let s = src.dtype === dst.dtype ? src : cast(src, dst.dtype);
      // A buffer copy needs a contiguous source starting on a 4-byte boundary.
      if (!s.isContiguous || s.byteOffset % 4 !== 0) s = hooks.contiguous(s);
      dst.engine.copy(s.buffer, s.byteOffset, dst.buffer, dst.byteOffset, storageBytes(dst.dtype, dst.size));
    }),
  );
}
