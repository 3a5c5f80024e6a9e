import { defineConfig } from 'vitest/config';

// Expert episodes take seconds of physics on a busy 2-core machine; the timeout only guards against hangs.
export default defineConfig({ test: { include: ['test/**/*.test.ts'], testTimeout: 60_000 } });
