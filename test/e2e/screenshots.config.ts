import { defineConfig } from 'vitest/config'

/**
 * `npm run screenshots`: the browser tests, saving their screenshots over the ones the README
 * shows (docs/screenshots/), on purpose. `npm test` saves them under test-results/ (ignored), so
 * a test run changes no tracked file.
 */
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    // It checks where `npm test` saves them: not here.
    exclude: ['**/node_modules/**', 'test/e2e/screenshot-dir.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    provide: { screenshotDir: 'docs/screenshots' },
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
  },
})
