// The two engines a tensor can live on, and how the process-wide default is chosen. Both offer the
// same memory surface (alloc, upload, read, copy, sync, pool statistics, memory budget); every kernel
// family has one implementation per engine (src/kernels for WebGPU, src/cpu for WebAssembly), picked
// by `engine.kind`.
import type { CpuBuffer, CpuEngine } from '../cpu/cpuEngine.js';
import type { Engine } from './engine.js';

/** An engine tensors live on: the WebGPU {@link Engine} or the WebAssembly {@link CpuEngine}. */
export type Backend = Engine | CpuEngine;

/** Which engine: `'webgpu'` or `'cpu'`. */
export type BackendKind = Backend['kind'];

/** A tensor's storage on either engine. */
export type DeviceBuffer = GPUBuffer | CpuBuffer;

/** Environment variable that forces the default backend: `webgpu`, `cpu` or `auto`. */
export const BACKEND_ENV = 'VLA_BACKEND';
