import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One real PostgreSQL and one real Temporal dev server for the whole run (test/helpers).
    globalSetup: ['test/helpers/global-setup.ts'],
    // Files share those servers and a 2-core machine: run them one after another.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
  },
})
