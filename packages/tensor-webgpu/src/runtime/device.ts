// One way to get a GPUDevice: Dawn (npm `webgpu`) in Node, `navigator.gpu` in the browser.
import { findSwiftShader, hasGpuDeviceNode, noAdapterMessage, type VulkanDriverChoice } from './findVulkanDriver.js';

/** Options for {@link requestGpu}. */
export interface RequestGpuOptions {
  /** Ask for a high-performance adapter (default true). */
  powerPreference?: GPUPowerPreference;
  /** Optional features to enable when the adapter has them (default: shader-f16, subgroups, timestamp-query). */
  optionalFeatures?: GPUFeatureName[];
  /** Disable shader-f16 even when available (useful to test the f32 path). */
  disableF16?: boolean;
}

/** A device with what we learned while creating it. */
export interface Gpu {
  device: GPUDevice;
  adapterInfo: { vendor: string; architecture: string; device: string; description: string };
  features: ReadonlySet<string>;
  /** Which Vulkan driver Node used; undefined in the browser. */
  driver?: VulkanDriverChoice;
  /** True in Node (Dawn), false in a browser. */
  isNode: boolean;
}

const DEFAULT_OPTIONAL: GPUFeatureName[] = ['shader-f16', 'subgroups', 'timestamp-query'] as GPUFeatureName[];

function isNodeRuntime(): boolean {
  return typeof process !== 'undefined' && !!process.versions?.node && !(globalThis as { window?: unknown }).window;
}

async function loadDawn(): Promise<(flags: string[]) => GPU> {
  // The module name is hidden from bundlers: the browser build never loads Dawn.
  const name = 'webgpu';
  const dawn = (await import(/* @vite-ignore */ name)) as {
    create: (flags: string[]) => GPU;
    globals: Record<string, unknown>;
  };
  // WebGPU enum/constant globals (GPUBufferUsage, ...) are what kernels and users reference.
  for (const [k, v] of Object.entries(dawn.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  return dawn.create;
}

// Dawn's GPU instance must outlive every adapter and device made from it: when the garbage collector
// frees an unreferenced instance, the process crashes (SIGSEGV / std::system_error) at a later sync.
const dawnInstances: GPU[] = [];

async function nodeAdapter(powerPreference: GPUPowerPreference): Promise<{ adapter: GPUAdapter | null; driver: VulkanDriverChoice }> {
  const dawnCreate = await loadDawn();
  const create = (flags: string[]): GPU => {
    const gpu = dawnCreate(flags);
    dawnInstances.push(gpu);
    return gpu;
  };
  const userIcd = process.env.VK_ICD_FILENAMES ?? process.env.VK_DRIVER_FILES;
  if (userIcd) {
    const adapter = await create([]).requestAdapter({ powerPreference });
    return { adapter, driver: { kind: 'env', icd: userIcd } };
  }
  const swiftshader = await findSwiftShader();
  // No GPU device node: go straight to SwiftShader (the loader reads VK_ICD_FILENAMES when the
  // first instance is created, so it must be set now).
  if (swiftshader && !(await hasGpuDeviceNode())) {
    process.env.VK_ICD_FILENAMES = swiftshader;
    const adapter = await create([]).requestAdapter({ powerPreference });
    return { adapter, driver: { kind: 'swiftshader', icd: swiftshader } };
  }
  let adapter = await create([]).requestAdapter({ powerPreference });
  if (adapter || !swiftshader) return { adapter, driver: adapter ? { kind: 'system' } : { kind: 'none' } };
  // A GPU node exists but gave no adapter (driver missing): last resort, a second instance on
  // SwiftShader. This path is known to be fragile; the message below tells how to avoid it.
  console.warn(`vla: no adapter from the system Vulkan driver; retrying on SwiftShader (${swiftshader}). Set VK_ICD_FILENAMES to choose a driver explicitly.`);
  process.env.VK_ICD_FILENAMES = swiftshader;
  adapter = await create([]).requestAdapter({ powerPreference });
  return { adapter, driver: { kind: 'swiftshader', icd: swiftshader } };
}

/**
 * Creates a GPUDevice with the adapter's real limits and the helpful optional features it offers.
 * Throws an Error that says what to install when no adapter exists.
 */
export async function requestGpu(options: RequestGpuOptions = {}): Promise<Gpu> {
  const isNode = isNodeRuntime();
  const powerPreference = options.powerPreference ?? 'high-performance';
  let adapter: GPUAdapter | null;
  let driver: VulkanDriverChoice | undefined;
  if (isNode) {
    ({ adapter, driver } = await nodeAdapter(powerPreference));
    if (!adapter) throw new Error(noAdapterMessage(driver));
  } else {
    const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
    if (!gpu) {
      throw new Error(
        'WebGPU is not available in this browser (navigator.gpu is undefined). Use a browser with WebGPU enabled ' +
          '(Chromium on Linux: --enable-unsafe-webgpu) and serve the page from https or http://127.0.0.1.',
      );
    }
    adapter = await gpu.requestAdapter({ powerPreference });
    if (!adapter) throw new Error('navigator.gpu.requestAdapter() returned null: this browser has no usable GPU adapter.');
  }

  const wanted = (options.optionalFeatures ?? DEFAULT_OPTIONAL).filter(
    (f) => adapter.features.has(f) && !(options.disableF16 && f === 'shader-f16'),
  );
  // Request every limit at the adapter's maximum: the defaults (128 MiB bindings) are far too small.
  const requiredLimits: Record<string, number> = {};
  const limits = adapter.limits as unknown as Record<string, number>;
  for (const key in limits) {
    const v = limits[key];
    if (typeof v === 'number') requiredLimits[key] = v;
  }
  const device = await adapter.requestDevice({ requiredFeatures: wanted, requiredLimits });
  const info = adapter.info ?? ({} as GPUAdapterInfo);
  return {
    device,
    adapterInfo: {
      vendor: info.vendor ?? '',
      architecture: info.architecture ?? '',
      device: info.device ?? '',
      description: info.description ?? '',
    },
    features: new Set(wanted),
    driver,
    isNode,
  };
}
