// Reverse-mode autograd. Each differentiable op records a node on its output: the inputs, the
// tensors it saved (extra references, so scopes may dispose the originals), and a backward function
// from the output gradient to one gradient per input. `backward()` walks the graph in reverse
// topological order with gradient recording switched off, accumulates into leaf `.grad`, and frees
// the graph (like PyTorch with retain_graph=false).
import { hooks } from './hooks.js';
import { isFloat } from './dtype.js';
import { keep, tidy } from './scope.js';
import type { Tensor } from './tensor.js';

/** Gradient of the output → gradient of each input (null where an input needs none). */
export type BackwardFn = (gradOutput: Tensor, saved: readonly Tensor[]) => (Tensor | null)[];

/**
 * One recorded op. @internal
 *
 * Nodes are reference-counted so a graph lives exactly as long as something can still run backward
 * through it: one reference from the output tensor (dropped when it is disposed) and one from each
 * live downstream node that consumes it. At zero the saved tensors are freed and the upstream nodes
 * lose a reference, so disposing the last tensor of a graph frees the whole graph, whichever scopes
 * its pieces were made in.
 */
export class GradNode {
  private alive = true;
  private refs = 1;
  private outputHeld = true;
  /** The distinct live nodes of the inputs; this node holds one reference on each. */
  private readonly upstream: GradNode[];
  constructor(
    readonly name: string,
    readonly inputs: readonly (Tensor | null)[],
    readonly saved: readonly Tensor[],
    readonly backwardFn: BackwardFn,
  ) {
    const up = new Set<GradNode>();
    for (const t of inputs) if (t?.gradNode?.alive) up.add(t.gradNode);
    this.upstream = [...up];
    for (const node of this.upstream) node.refs++;
  }
  /** The output tensor was disposed: drops its reference (idempotent). */
  dropOutput(): void {
    if (!this.outputHeld) return;
    this.outputHeld = false;
    if (--this.refs === 0) this.release();
  }
  /**
   * Frees the saved tensors now and drops this node's references on its inputs' nodes, releasing
   * those that nothing else holds. Backward calls it on every node it consumed; idempotent.
   */
  release(): void {
    // A worklist, not recursion: graphs of big models are deep.
    const stack: GradNode[] = [this];
    while (stack.length) {
      const node = stack.pop()!;
      if (!node.alive) continue;
      node.alive = false;
      for (const t of node.saved) t.dispose();
      for (const up of node.upstream) if (--up.refs === 0) stack.push(up);
    }
  }
  get isAlive(): boolean {
    return this.alive;
  }
}

let gradDepth = 0;

/** True unless inside {@link noGrad}. */
export function isGradEnabled(): boolean {
  return gradDepth === 0;
}

/** Runs `fn` without recording ops for autograd (inference, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  gradDepth++;
  try {
    return fn();
  } finally {
    gradDepth--;
  }
}

/**
 * Records `output = op(inputs)` for autograd. Does nothing when recording is off or no input
 * requires a gradient. `saved` tensors are retained until backward has used them or no live tensor's
 * graph reaches the node any more.
 * The backward function must return gradients with exactly the inputs' shapes.
 */
export function recordOp(
  name: string,
  output: Tensor,
  inputs: readonly Tensor[],
  backward: BackwardFn,
  saved: readonly Tensor[] = [],
): Tensor {
  if (!isGradEnabled() || !isFloat(output.dtype)) return output;
  if (!inputs.some((t) => t.requiresGrad)) return output;
  output.requiresGrad = true;
  output.gradNode = new GradNode(
    name,
    inputs.map((t) => (t.requiresGrad ? t : null)),
    saved.map((t) => t.retain()),
    backward,
  );
  return output;
}

/** Returns a tensor that shares data with `t` but is cut from the graph (stop-gradient). */
export function detach(t: Tensor): Tensor {
  return t.view(t.shape, t.strides, t.offset);
}

function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  // Iterative DFS (graphs of big models are deep enough to overflow recursion).
  const stack: [Tensor, boolean][] = [[root, false]];
  while (stack.length) {
    const [t, expanded] = stack.pop()!;
    if (expanded) {
      order.push(t);
      continue;
    }
    if (visited.has(t)) continue;
    visited.add(t);
    stack.push([t, true]);
    for (const input of t.gradNode?.inputs ?? []) if (input && !visited.has(input)) stack.push([input, false]);
  }
  return order.reverse();
}

function backward(root: Tensor, seed?: Tensor): void {
  if (!root.requiresGrad) throw new Error(`backward(): tensor${root.describe()} does not require grad`);
  if (!seed && root.size !== 1) {
    throw new Error(`backward(): tensor${root.describe()} is not a scalar; pass the output gradient explicitly`);
  }
  if (seed && seed.shape.join() !== root.shape.join()) {
    throw new Error(`backward(): gradient [${seed.shape}] does not match tensor [${root.shape}]`);
  }
  const order = topoOrder(root);
  noGrad(() =>
    tidy(() => {
      const grads = new Map<Tensor, Tensor>();
      grads.set(root, seed ?? hooks.onesLike(root));
      for (const t of order) {
        const g = grads.get(t);
        const node = t.gradNode;
        if (!g) continue;
        if (!node) {
          // A leaf: accumulate into .grad, owned by the leaf and kept across scopes.
          if (g.shape.join() !== t.shape.join()) {
            throw new Error(`autograd: gradient [${g.shape}] for leaf${t.describe()} has the wrong shape`);
          }
          const prev = t.grad;
          // A view, never `g` itself: one gradient may feed several leaves.
          t.grad = keep(prev ? hooks.add(prev, g) : detach(g));
          prev?.dispose();
          continue;
        }
        if (!node.isAlive) throw new Error(`autograd: the graph through ${node.name} was already freed (backward called twice?)`);
        const inputGrads = node.backwardFn(g, node.saved);
        node.inputs.forEach((input, i) => {
          const gi = inputGrads[i];
          if (!input || !gi) return;
          if (gi.shape.join() !== input.shape.join()) {
            throw new Error(`autograd: ${node.name} produced gradient [${gi.shape}] for input [${input.shape}]`);
          }
          const prev = grads.get(input);
          grads.set(input, prev ? hooks.add(prev, gi) : gi);
        });
      }
    }),
  );
  // Release the saved tensors but keep the (dead) nodes: a second backward through this graph then
  // fails with a clear error instead of treating the outputs as leaves and silently doing nothing.
  for (const t of order) t.gradNode?.release();
}

hooks.backward = backward;
