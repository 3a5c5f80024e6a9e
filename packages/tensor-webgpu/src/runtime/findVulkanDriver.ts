// Dawn on Linux needs a Vulkan driver. Machines without a GPU can still run WebGPU on SwiftShader,
// the CPU Vulkan driver that Debian's `chromium` package ships. Registered ICD files prove nothing
// (mesa installs Intel/AMD manifests on machines without those GPUs); GPU device nodes do. The
// driver must be chosen before the first Dawn instance: a second instance after a failed first one
// aborts the process at its first readback on SwiftShader.

/** Places a SwiftShader ICD manifest is installed by common Linux packages. */
export const SWIFTSHADER_ICD_PATHS = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib64/chromium/vk_swiftshader_icd.json',
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
  '/opt/google/chrome/vk_swiftshader_icd.json',
];

/** Which Vulkan driver Dawn ended up with in Node. */
export interface VulkanDriverChoice {
  /** 'env' when VK_ICD_FILENAMES was set by the user, 'system' for the loader's own choice, 'swiftshader' for our fallback. */
  kind: 'env' | 'system' | 'swiftshader' | 'none';
  /** The manifest in use, when known. */
  icd?: string;
}

/** The installed SwiftShader manifest, or null. */
export async function findSwiftShader(): Promise<string | null> {
  if (typeof process === 'undefined' || process.platform !== 'linux') return null;
  const fs = await import('node:fs');
  return SWIFTSHADER_ICD_PATHS.find((p) => fs.existsSync(p)) ?? null;
}

const GPU_DEVICE_NODES = ['/dev/nvidia0', '/dev/nvidiactl', '/dev/kfd', '/dev/dxg'];

/** True when the machine exposes a GPU device node (NVIDIA, AMD KFD, a DRM render node, or WSL's dxg). */
export async function hasGpuDeviceNode(): Promise<boolean> {
  if (typeof process === 'undefined' || process.platform !== 'linux') return true;
  const fs = await import('node:fs');
  if (GPU_DEVICE_NODES.some((p) => fs.existsSync(p))) return true;
  try {
    return fs.readdirSync('/dev/dri').some((n) => n.startsWith('renderD'));
  } catch {
    return false;
  }
}

/** The message shown when no WebGPU adapter exists; it says exactly what to install. */
export function noAdapterMessage(choice: VulkanDriverChoice): string {
  const lines = ['No WebGPU adapter is available.'];
  if (choice.kind === 'none' || choice.kind === 'system') {
    lines.push(
      'No working Vulkan driver was found. Without a GPU on Debian/Ubuntu, install the SwiftShader CPU driver:',
      '  sudo apt-get install -y chromium libvulkan1',
      `(it provides ${SWIFTSHADER_ICD_PATHS[0]}, which vla picks up automatically).`,
      'With a GPU, install its driver with Vulkan support (e.g. NVIDIA driver + libnvidia-gl) and libvulkan1.',
    );
  } else {
    lines.push(
      `VK_ICD_FILENAMES points at ${choice.icd}, which gave no adapter.`,
      'Check that libvulkan1 is installed (sudo apt-get install -y libvulkan1) and that the file exists.',
    );
  }
  return lines.join('\n');
}
