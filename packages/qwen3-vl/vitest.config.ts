import { existsSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// Without a GPU, pick SwiftShader up front: letting the core fall back on its own creates a second
// Dawn instance, which aborts the process on this machine.
const swiftshader = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(swiftshader) && !existsSync('/dev/nvidia0') && !existsSync('/dev/dri/renderD128')) {
  process.env.VK_ICD_FILENAMES = swiftshader;
}

// SwiftShader is CPU-bound and Dawn is one device per process: run test files one at a time, in one
// process without module isolation, so every file shares one engine and its compiled pipelines
// (SwiftShader compiles each pipeline in ~0.5 s; recompiling per file would dominate the run).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    poolOptions: { forks: { singleFork: true, isolate: false } },
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
