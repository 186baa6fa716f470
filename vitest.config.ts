import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Scenario suites spawn the CLI and open real databases; two workers fit this 2-core machine.
    maxWorkers: 2,
  },
});
