import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Prints once per run what a run skipped for lack of PostgreSQL (not once per file).
    globalSetup: ['test/support/globalSetup.ts'],
    // Face models are CPU-heavy and the machines have two cores: run files one at a time.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
