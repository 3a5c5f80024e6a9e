import { defineConfig } from 'vitest/config';

// Real ffmpeg processes on a 2-core machine: allow slow tests, never time them.
export default defineConfig({
  test: { include: ['test/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 },
});
