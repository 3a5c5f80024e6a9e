// Headless Debian Chromium with WebGPU on SwiftShader (after packages/sim/test/browserHarness.ts).
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium, or `CHROMIUM_PATH` (a browser is never downloaded). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Whether the browser test can run here (the skip is visible in the test report). */
export const HAS_CHROMIUM = existsSync(CHROMIUM);

// WebGPU on SwiftShader (no GPU needed); nothing reaches the network.
const FLAGS = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--no-sandbox',
  '--headless',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  // The compositor's GL must be ANGLE on SwiftShader too, or the GPU process drops the device.
  '--use-angle=swiftshader',
];

/** Launches headless Chromium with WebGPU on SwiftShader. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
}
