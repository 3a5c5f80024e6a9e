/**
 * How to get WebGPU in headless Chromium without a GPU (import from `@vla/tensor-webgpu/chromium`):
 * the command-line flags that put Chromium's Dawn on SwiftShader, the CPU Vulkan driver Debian's
 * `chromium` ships, and where that browser is. For tests, examples and tools that drive a page with
 * playwright-core; a browser is never downloaded.
 * @packageDocumentation
 */

/**
 * Chromium flags for WebGPU on SwiftShader (no GPU needed) with nothing reaching the network. The
 * compositor's GL goes through ANGLE on SwiftShader too: otherwise presenting a WebGPU canvas makes
 * the GPU process drop the device at the first frame.
 */
export const HEADLESS_WEBGPU_ARGS: readonly string[] = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--use-angle=swiftshader',
  '--no-sandbox',
  '--headless',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** The Chromium to launch: `$CHROMIUM_PATH`, else Debian's `/usr/bin/chromium`. */
export function chromiumExecutable(): string {
  return process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
}
