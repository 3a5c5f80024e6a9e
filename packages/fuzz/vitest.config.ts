import { defineConfig } from 'vitest/config';

// Cases run in child processes with their own time limits; a campaign at the CI count takes well
// under a minute of CPU, more wall time on a busy machine (real ffmpeg, real sockets, SwiftShader).
export default defineConfig({
  test: { include: ['test/**/*.test.ts'], testTimeout: 600_000, hookTimeout: 60_000 },
});
