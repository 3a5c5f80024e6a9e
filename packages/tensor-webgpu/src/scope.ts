// Ownership rule: every tensor belongs to the innermost `tidy` scope that was open when it was
// created. When the scope ends, it disposes what it created except what the callback returns (found
// anywhere in arrays/objects) and what was `keep()`-ed. Outside any scope, call `dispose()` yourself.
import type { Tensor } from './tensor.js';

interface Scope {
  tensors: Tensor[];
}

const scopes: Scope[] = [];

/** Registers a newly created tensor with the innermost scope. @internal */
export function track(t: Tensor): void {
  const scope = scopes[scopes.length - 1];
  if (scope) scope.tensors.push(t);
}

/** Marks a tensor so no scope disposes it; returns it. */
export function keep<T extends Tensor>(t: T): T {
  t.kept = true;
  return t;
}

function collect(value: unknown, out: Set<Tensor>, seen = new Set<unknown>()): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if ((value as { isTensor?: boolean }).isTensor === true) {
    out.add(value as Tensor);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collect(v, out, seen);
  else if (value.constructor === Object || value instanceof Map) {
    const values = value instanceof Map ? [...value.values()] : Object.values(value);
    for (const v of values) collect(v, out, seen);
  }
}

/**
 * Runs `fn` and disposes every tensor it created, except the ones it returns and kept ones.
 * Returned tensors move to the enclosing scope. When `fn` throws, every tensor it created that was not
 * kept is disposed before the error propagates. Async functions are not supported: await outside.
 */
export function tidy<T>(fn: () => T): T {
  const scope: Scope = { tensors: [] };
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    // A throwing callback returns nothing, so everything it created (and did not keep) is garbage:
    // free it now, or a failed step (a budget error, a bad shape) leaks its intermediates.
    for (const t of scope.tensors) if (!t.kept) t.dispose();
    throw err;
  } finally {
    scopes.pop();
  }
  if (result instanceof Promise) throw new Error('tidy(fn): fn must be synchronous; await outside tidy');
  const survivors = new Set<Tensor>();
  collect(result, survivors);
  const parent = scopes[scopes.length - 1];
  const dropped: Tensor[] = [];
  for (const t of scope.tensors) {
    if (survivors.has(t)) parent?.tensors.push(t);
    else if (!t.kept) dropped.push(t);
  }
  // Autograd nodes are reference-counted (see GradNode): a dropped tensor's node outlives its data
  // only while a live tensor's graph still reaches it.
  for (const t of dropped) t.dispose();
  return result;
}

/** Depth of open tidy scopes (for tests). */
export function scopeDepth(): number {
  return scopes.length;
}
