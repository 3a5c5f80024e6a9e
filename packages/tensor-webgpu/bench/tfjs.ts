// TensorFlow.js's WebGPU backend on the very same GPUDevice, as the reference point. In Node,
// tfjs-backend-webgpu only registers itself when `navigator.gpu` exists; it never uses it beyond that
// check when given a device, so a placeholder is enough and we construct WebGPUBackend ourselves.
import * as tf from '@tensorflow/tfjs-core';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { Engine } from '../src/index.js';

/** tfjs bound to the engine's device, and its sync. */
export interface Tfjs {
  tf: typeof tf;
  sync: () => Promise<void>;
}

/** Registers tfjs's WebGPU backend on `engine.device` (kernels are registered under the name 'webgpu'). */
export async function tfjsOnEngine(engine: Engine): Promise<Tfjs> {
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (!g.navigator)
    Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  if (!g.navigator!.gpu) g.navigator!.gpu = { placeholder: 'device handed to WebGPUBackend directly' };
  const info = engine.gpu.adapterInfo as unknown as GPUAdapterInfo;
  tf.registerBackend('webgpu', () => new WebGPUBackend(engine.device, info), 10);
  if (!(await tf.setBackend('webgpu')))
    throw new Error('tfjs: could not initialise the webgpu backend on our device');
  // Silence tfjs's one-time console notes (e.g. about timestamp queries) in the benchmark output.
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  const backend = tf.backend() as WebGPUBackend;
  return {
    tf,
    sync: async () => {
      // What tfjs does before its own readbacks: close the open pass, submit the encoder.
      backend.ensureCommandEncoderReady();
      backend.endComputePassEncoder();
      backend.submitQueue();
      await engine.device.queue.onSubmittedWorkDone();
    },
  };
}
