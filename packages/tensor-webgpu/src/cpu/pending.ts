// Marks a kernel family the CPU engine does not run yet: the call names the op instead of failing
// somewhere inside the WebGPU path.
import type { Backend } from '../runtime/backend.js';
import type { Engine } from '../runtime/engine.js';

/** The engine as a WebGPU engine; throws naming `what` on the CPU engine. */
export function gpuOnly(engine: Backend, what: string): Engine {
  if (engine.kind === 'cpu') throw new Error(`${what} has no CPU kernel yet: use the WebGPU engine (init({ backend: 'webgpu' }))`);
  return engine;
}
