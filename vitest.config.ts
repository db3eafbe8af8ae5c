import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // Component tests of the console and the public pages live beside them (their own tsconfig,
    // with the DOM) and pick their environment per file (`// @vitest-environment happy-dom`).
    include: ['test/**/*.test.ts', 'admin-ui/**/*.test.tsx', 'public-ui/**/*.test.tsx'],
    exclude: ['**/node_modules/**', 'test/faults/**'],
    // One real PostgreSQL and one real Temporal dev server for the whole run (test/helpers).
    globalSetup: ['test/helpers/global-setup.ts'],
    // Files share those servers and a 2-core machine: run them one after another.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
  },
})
