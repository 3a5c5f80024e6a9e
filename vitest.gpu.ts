// Shared vitest settings for packages whose tests run WebGPU kernels. SwiftShader is CPU-bound and
// one Dawn device per process is plenty: run test files one at a time in a single fork. With
// `shareEngine`, files also share modules (and so one engine and its compiled pipelines: SwiftShader
// spends ~0.5 s compiling each pipeline, which would otherwise repeat per file).
import { configDefaults, defineConfig, type ViteUserConfig } from 'vitest/config';

/** Options of {@link gpuTestConfig}. */
export interface GpuTestOptions {
  /** Run every file in one module graph so they share one engine (default false). */
  shareEngine?: boolean;
  /** Extra globs to exclude (e.g. browser-only tests). */
  exclude?: string[];
  /** Per-test timeout in ms (default 120 000; training tests on SwiftShader may need more). */
  testTimeout?: number;
}

/** The vitest config for a package with GPU tests. */
export function gpuTestConfig(options: GpuTestOptions = {}): ViteUserConfig {
  return defineConfig({
    test: {
      include: ['test/**/*.test.ts'],
      exclude: [...configDefaults.exclude, ...(options.exclude ?? [])],
      pool: 'forks',
      poolOptions: { forks: { singleFork: true, isolate: !options.shareEngine } },
      testTimeout: options.testTimeout ?? 120_000,
      hookTimeout: 120_000,
    },
  });
}
