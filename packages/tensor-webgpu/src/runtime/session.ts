// The process-wide default engine, how it is chosen, and a helper that lets Node programs end when
// their work is done (a live Dawn instance otherwise keeps the event loop alive).
//
// Choice (`backend: 'auto'`): a GPU when one exists, otherwise the WebAssembly CPU engine, which on a
// machine without a GPU is 10-100x faster than WebGPU on SwiftShader (a CPU Vulkan driver); the
// WebGPU engine stays available there on request (`backend: 'webgpu'`, or VLA_BACKEND=webgpu).
import { CpuEngine, type CpuEngineOptions } from '../cpu/cpuEngine.js';
import { isNode } from '../cpu/threads.js';
import { BACKEND_ENV, type Backend, type BackendKind } from './backend.js';
import { Engine, type EngineOptions } from './engine.js';
import { hasGpuDeviceNode } from './findVulkanDriver.js';

/** Options of {@link init}: which backend, and that backend's options. */
export interface BackendOptions extends EngineOptions, CpuEngineOptions {
  /**
   * `'auto'` (default): a GPU adapter when one exists, else the CPU engine. `'webgpu'` or `'cpu'`
   * force one. Default: the environment variable `VLA_BACKEND` when set, else `'auto'`.
   */
  backend?: BackendKind | 'auto';
  /** Print the choice and its reason (default: once per process, on the first choice). */
  quiet?: boolean;
}

let current: Promise<Backend> | null = null;
let ready: Backend | null = null;
let announced = false;

function requestedBackend(options: BackendOptions): BackendKind | 'auto' {
  const env = typeof process !== 'undefined' ? process.env?.[BACKEND_ENV] : undefined;
  const want = options.backend ?? (env === undefined || env === '' ? 'auto' : env);
  if (want !== 'auto' && want !== 'webgpu' && want !== 'cpu') {
    throw new Error(`${options.backend ? 'init({ backend })' : BACKEND_ENV}=${want}: expected auto, webgpu or cpu`);
  }
  return want;
}

/** Creates the engine `options` ask for, with the reason for the choice. */
export async function createBackend(options: BackendOptions = {}): Promise<{ engine: Backend; reason: string }> {
  const want = requestedBackend(options);
  const forced = options.backend ? `backend: '${want}' was requested` : `${BACKEND_ENV}=${want}`;
  if (want === 'cpu') return { engine: await CpuEngine.create(options), reason: forced };
  if (want === 'webgpu') return { engine: await Engine.create(options), reason: forced };
  // auto: a machine without a GPU device node only has SwiftShader; do not even start Dawn there.
  if (isNode() && !(await hasGpuDeviceNode())) {
    return { engine: await CpuEngine.create(options), reason: `no GPU on this machine (WebGPU would run on SwiftShader; ${BACKEND_ENV}=webgpu forces it)` };
  }
  let gpu: Engine;
  try {
    gpu = await Engine.create(options);
  } catch (err) {
    const why = (err as Error).message.split('\n')[0];
    return { engine: await CpuEngine.create(options), reason: `no WebGPU adapter (${why})` };
  }
  if (gpu.isCpuAdapter) {
    const name = gpu.description;
    gpu.destroy();
    return { engine: await CpuEngine.create(options), reason: `the only WebGPU adapter is a CPU one, ${name} (${BACKEND_ENV}=webgpu forces it)` };
  }
  return { engine: gpu, reason: 'a GPU adapter is available' };
}

/** Creates (once) and returns the default engine used by tensors. */
export function initEngine(options: BackendOptions = {}): Promise<Backend> {
  if (!current) {
    current = createBackend(options).then(({ engine, reason }) => {
      if (!announced && !options.quiet) {
        announced = true;
        console.info(`vla: tensors run on ${engine.description}: ${reason}`);
      }
      return engine;
    });
    current.catch(() => (current = null));
  }
  return current;
}

/** Sets the default engine explicitly (e.g. one created with custom options). */
export function setEngine(engine: Backend): void {
  current = Promise.resolve(engine);
  ready = engine;
}

/** The default engine; throws if {@link init} has not completed. */
export function engine(): Backend {
  if (!ready) throw new Error('No engine: `await init()` before creating tensors.');
  return ready;
}

/** The engine type `init(options)` resolves to: narrowed when `options.backend` names one. */
export type EngineFor<O> = O extends { backend: 'webgpu' } ? Engine : O extends { backend: 'cpu' } ? CpuEngine : Backend;

/** Awaits the default engine (see {@link BackendOptions} for the choice) and remembers it for synchronous access. */
export async function init<O extends BackendOptions>(options?: O): Promise<EngineFor<O>> {
  ready = await initEngine(options ?? {});
  return ready as EngineFor<O>;
}

let webgpu: Promise<Engine> | null = null;

/**
 * A WebGPU engine for work that needs WebGPU itself (the simulator's renderer): the default engine
 * when it is one, else one created once beside it (on SwiftShader where no GPU exists). Tensors it
 * makes live on that engine; move them with {@link Tensor.to}.
 */
export async function initWebGpu(options: EngineOptions = {}): Promise<Engine> {
  const d = ready ?? (current ? await current : null);
  if (d?.kind === 'webgpu') return d;
  if (!webgpu) {
    webgpu = Engine.create(options);
    webgpu.catch(() => (webgpu = null));
  }
  return webgpu;
}

/** Destroys the default engine (and the WebGPU engine {@link initWebGpu} made beside it) if they exist. */
export function shutdown(): void {
  ready?.destroy();
  ready = null;
  current = null;
  const side = webgpu;
  webgpu = null;
  void side?.then((e) => e.destroy()).catch(() => undefined);
}

/**
 * Runs `main` with the default engine, destroys it and exits the process with 0 (or 1 after
 * printing the error). Use it for command-line programs in Node.
 */
export async function runAndExit<O extends BackendOptions>(main: (engine: EngineFor<O>) => Promise<void>, options?: O): Promise<never> {
  let code = 0;
  try {
    await main(await init(options));
  } catch (err) {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    code = 1;
  } finally {
    shutdown();
  }
  process.exit(code);
}
