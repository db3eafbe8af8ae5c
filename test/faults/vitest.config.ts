import { defineConfig } from 'vitest/config'

/**
 * The fault suite (`npm run test:faults`): the same real stack as `npm test` (the main global
 * setup: one PostgreSQL, one Temporal dev server, the SMTP sink, the workflow bundle), plus the
 * servers and processes each test starts itself so that it can kill them by process id.
 */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    // Faults are injected into processes and servers on a 2-core machine: one file at a time.
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
  },
})
