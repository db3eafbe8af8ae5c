import { loadConfig } from '../config'
import { runMain, StartupError } from './errors'
import { createLogger } from './logger'
import { resolveTemporalBinary } from './temporal-binary'

/**
 * `npm run temporal:install`: finds or builds the Temporal CLI (dev server) now, so that the first
 * `npm start` or `npm test` does not wait for it. Prints the binary's path.
 */
runMain(async () => {
  const config = loadConfig()
  const log = createLogger(config.logLevel)
  const binary = await resolveTemporalBinary({
    cliPath: config.temporal.cliPath,
    searchPath: config.temporal.searchPath,
    cacheDir: config.cacheDir,
    log,
    progress: (line) => process.stdout.write(`${line}\n`),
  })
  if (binary.kind !== 'binary') {
    throw new StartupError(
      'TEMPORAL_UNAVAILABLE',
      'no temporal binary and no Go toolchain: install Go, or set TEMPORAL_CLI_PATH',
    )
  }
  process.stdout.write(`temporal CLI (${binary.source}): ${binary.path}\n`)
})
