// Headless Debian Chromium with WebGPU on SwiftShader.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { HEADLESS_WEBGPU_ARGS, chromiumExecutable } from '@vla/tensor-webgpu/chromium';

/** Debian's Chromium, or `CHROMIUM_PATH` (a browser is never downloaded). */
export const CHROMIUM = chromiumExecutable();

/** Whether the browser test can run here (the skip is visible in the test report). */
export const HAS_CHROMIUM = existsSync(CHROMIUM);

/** Launches headless Chromium with WebGPU on SwiftShader. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...HEADLESS_WEBGPU_ARGS] });
}
