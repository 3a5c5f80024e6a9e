import { defineConfig } from 'vitest/config';

// The test starts `vla-control serve` as a child process; loading the policy takes a few seconds.
export default defineConfig({
  test: { include: ['test/**/*.test.ts'], pool: 'forks', testTimeout: 120_000, hookTimeout: 120_000 },
});
