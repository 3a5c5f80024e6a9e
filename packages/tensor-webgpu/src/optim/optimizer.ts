// What every optimizer shares: parameter groups, the step count that drives the learning-rate
// schedule, optional fused global-norm clipping, per-parameter state tensors owned by the optimizer,
// and a state dict (tensors + string metadata) that saveSafetensors can write as it is.
import { noGrad } from '../autograd.js';
import { keep } from '../scope.js';
import { Tensor } from '../tensor.js';
import type { FusedClip } from '../kernels/optimizer.js';
import { checkNumber } from '../ops/validate.js';
import { contiguousGrad, globalGradNorm } from './clipGradNorm.js';
import type { LrSchedule } from './schedules.js';

/** A set of parameters with its own weight decay or learning-rate scale. */
export interface ParamGroup {
  params: Iterable<Tensor>;
  /** Overrides the optimizer's weight decay for these parameters (e.g. 0 for norms and biases). */
  weightDecay?: number;
  /** Multiplies the scheduled learning rate for these parameters (default 1). */
  lrScale?: number;
}

/** Options every optimizer takes. */
export interface OptimizerOptions {
  /** A fixed learning rate or a schedule of the 0-based step. */
  lr: number | LrSchedule;
  weightDecay?: number;
  /** Clip the global gradient norm to this before each step (fused into the update; no readback). */
  maxGradNorm?: number;
}

/** An optimizer's state: tensors named `<param>.<buffer>` plus string metadata, ready for saveSafetensors. */
export interface OptimizerStateDict {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

/** Per-parameter state. @internal */
export interface ParamState {
  /** Updates applied to this parameter so far. */
  step: number;
  buffers: Record<string, Tensor>;
}

/** Hyper-parameters that apply to one parameter at one step. @internal */
export interface StepContext {
  lr: number;
  weightDecay: number;
  clip?: FusedClip;
}

/** Base class of {@link AdamW} and {@link SGD}. */
export abstract class Optimizer {
  /** Every parameter, in the order given. */
  readonly params: readonly Tensor[];
  /** Optimizer steps taken (the schedule's input for the next step). */
  stepCount = 0;
  /** The global gradient norm before clipping at the last step (when `maxGradNorm` is set). Owned by the optimizer. */
  lastGradNorm: Tensor | null = null;
  protected readonly schedule: LrSchedule;
  protected readonly options: OptimizerOptions;
  private readonly groupOf = new Map<Tensor, { weightDecay?: number; lrScale: number }>();
  private readonly state = new Map<Tensor, ParamState>();

  /** Name written to the state dict's metadata. */
  protected abstract readonly kind: string;
  /** Names of the per-parameter state buffers (e.g. exp_avg, exp_avg_sq). */
  protected abstract readonly bufferNames: readonly string[];
  /** Updates one parameter in place. */
  protected abstract update(param: Tensor, grad: Tensor, state: ParamState, ctx: StepContext): void;

  constructor(params: Iterable<Tensor> | readonly ParamGroup[], options: OptimizerOptions) {
    const list: Tensor[] = [];
    const groups: ParamGroup[] =
      Array.isArray(params) && params.length && 'params' in params[0]
        ? (params as ParamGroup[])
        : [{ params: params as Iterable<Tensor> }];
    const kind = new.target.name;
    for (const g of groups) {
      if (g.weightDecay !== undefined) checkNumber(kind, 'group weightDecay', g.weightDecay, { min: 0 });
      if (g.lrScale !== undefined) checkNumber(kind, 'group lrScale', g.lrScale, { min: 0 });
      for (const p of g.params) {
        if (this.groupOf.has(p))
          throw new Error(`${new.target.name}: parameter${p.describe()} is listed twice`);
        if (p.dtype !== 'f32' && p.dtype !== 'f16')
          throw new Error(`${new.target.name}: parameter${p.describe()} is not a float tensor`);
        this.groupOf.set(p, { weightDecay: g.weightDecay, lrScale: g.lrScale ?? 1 });
        list.push(p);
      }
    }
    this.params = list;
    this.options = options;
    const lr = options.lr;
    if (typeof lr !== 'function') checkNumber(kind, 'lr', lr, { min: 0 });
    this.schedule = typeof lr === 'function' ? lr : () => lr;
    if (options.weightDecay !== undefined) checkNumber(kind, 'weightDecay', options.weightDecay, { min: 0 });
    if (options.maxGradNorm !== undefined) checkNumber(kind, 'maxGradNorm', options.maxGradNorm, { above: 0 });
  }

  /** The learning rate the next step will use. */
  get lr(): number {
    return this.schedule(this.stepCount);
  }

  /**
   * Applies one update to every parameter that has a gradient, in place, without recording autograd.
   * Gradients are left as they are (call {@link Optimizer.zeroGrad} before the next backward).
   */
  step(): void {
    noGrad(() => {
      // A schedule is user code: check what it returns before any update runs.
      const lr = checkNumber(this.kind, `lr (from the schedule at step ${this.stepCount})`, this.lr, { min: 0 });
      let clip: FusedClip | undefined;
      if (this.options.maxGradNorm !== undefined) {
        this.lastGradNorm?.dispose();
        this.lastGradNorm = null;
        const norm = globalGradNorm(this.params);
        if (norm) {
          this.lastGradNorm = keep(norm);
          clip = { norm, maxNorm: this.options.maxGradNorm };
        }
      }
      for (const p of this.params) {
        const grad = contiguousGrad(p);
        if (!grad) continue;
        if (p.isDisposed) throw new Error(`${this.kind}: parameter${p.describe()} was disposed`);
        let state = this.state.get(p);
        if (!state) {
          state = { step: 0, buffers: this.newBuffers(p) };
          this.state.set(p, state);
        }
        state.step++;
        const group = this.groupOf.get(p)!;
        this.update(p, grad, state, {
          lr: lr * group.lrScale,
          weightDecay: group.weightDecay ?? this.options.weightDecay ?? 0,
          clip,
        });
      }
      this.stepCount++;
    });
  }

  /** Drops every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  private newBuffers(p: Tensor): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    // Contents are undefined until the first update, which overwrites them without reading.
    for (const name of this.bufferNames) out[name] = keep(Tensor.empty(p.shape, 'f32', p.engine));
    return out;
  }

  /**
   * State-dict key of each parameter: its full name (Module sets it) when every parameter has a
   * distinct name, otherwise its index in the parameter list (PyTorch's scheme).
   */
  private keys(): Map<Tensor, string> {
    const names = this.params.map((p) => p.name);
    const byName = names.every((n) => n !== undefined && n !== '') && new Set(names).size === names.length;
    return new Map(this.params.map((p, i) => [p, byName ? p.name! : String(i)]));
  }

  /**
   * The optimizer state: tensors `<param name or index>.<buffer>` (the live state tensors, owned by the
   * optimizer: do not dispose them) and metadata with the step counts. Save it with
   * `saveSafetensors(path, sd.tensors, sd.metadata)`.
   */
  stateDict(): OptimizerStateDict {
    const tensors = new Map<string, Tensor>();
    const steps: Record<string, number> = {};
    for (const [p, key] of this.keys()) {
      const s = this.state.get(p);
      if (!s) continue;
      steps[key] = s.step;
      for (const name of this.bufferNames) tensors.set(`${key}.${name}`, s.buffers[name]);
    }
    return {
      tensors,
      metadata: {
        optimizer: this.kind,
        step_count: String(this.stepCount),
        param_steps: JSON.stringify(steps),
      },
    };
  }

  /**
   * Restores state saved by {@link Optimizer.stateDict} (e.g. read back with loadSafetensors), copying
   * the values into the optimizer's own tensors. Throws naming the key for a different optimizer,
   * unknown parameters, missing buffers or shape mismatches.
   */
  loadStateDict(sd: {
    tensors: Map<string, Tensor> | Record<string, Tensor>;
    metadata: Record<string, string>;
  }): void {
    const { metadata } = sd;
    const tensors = sd.tensors instanceof Map ? sd.tensors : new Map(Object.entries(sd.tensors));
    if (metadata.optimizer !== this.kind) {
      throw new Error(
        `${this.kind}.loadStateDict: state was saved by ${JSON.stringify(metadata.optimizer)}, not ${this.kind}`,
      );
    }
    const stepCount = Number(metadata.step_count);
    let steps: Record<string, number>;
    try {
      steps = JSON.parse(metadata.param_steps ?? '') as Record<string, number>;
    } catch {
      throw new Error(`${this.kind}.loadStateDict: metadata param_steps is not valid JSON`);
    }
    if (!Number.isInteger(stepCount) || stepCount < 0)
      throw new Error(
        `${this.kind}.loadStateDict: invalid step_count ${JSON.stringify(metadata.step_count)}`,
      );
    const byKey = new Map([...this.keys()].map(([p, k]) => [k, p]));
    const used = new Set<string>();
    const plan: [Tensor, number, Record<string, Tensor>][] = [];
    for (const [key, step] of Object.entries(steps)) {
      const p = byKey.get(key);
      if (!p) throw new Error(`${this.kind}.loadStateDict: state for unknown parameter "${key}"`);
      if (!Number.isInteger(step) || step < 1)
        throw new Error(`${this.kind}.loadStateDict: invalid step ${step} for "${key}"`);
      const src: Record<string, Tensor> = {};
      for (const name of this.bufferNames) {
        const k = `${key}.${name}`;
        const t = tensors.get(k);
        if (!t) throw new Error(`${this.kind}.loadStateDict: missing "${k}"`);
        if (t.shape.join() !== p.shape.join() || t.dtype !== 'f32') {
          throw new Error(
            `${this.kind}.loadStateDict: "${k}" is${t.describe()}, expected [${p.shape.join(', ')}] f32`,
          );
        }
        used.add(k);
        src[name] = t;
      }
      plan.push([p, step, src]);
    }
    for (const k of tensors.keys())
      if (!used.has(k)) throw new Error(`${this.kind}.loadStateDict: unexpected tensor "${k}"`);
    // Everything checked: now overwrite.
    this.resetState();
    for (const [p, step, src] of plan) {
      const buffers = this.newBuffers(p);
      for (const name of this.bufferNames) copyInto(buffers[name], src[name]);
      this.state.set(p, { step, buffers });
    }
    this.stepCount = stepCount;
  }

  private resetState(): void {
    for (const s of this.state.values()) for (const t of Object.values(s.buffers)) t.dispose();
    this.state.clear();
  }

  /** Frees the optimizer's state tensors. */
  dispose(): void {
    this.resetState();
    this.lastGradNorm?.dispose();
    this.lastGradNorm = null;
  }
}

/** Copies the values of a contiguous f32 tensor into another of the same size. @internal */
export function copyInto(dst: Tensor, src: Tensor): void {
  if (!src.isContiguous) throw new Error(`copy: source${src.describe()} must be contiguous`);
  if (src.size === 0) return;
  dst.engine.copy(src.buffer, src.byteOffset, dst.buffer, dst.byteOffset, src.size * 4);
}
