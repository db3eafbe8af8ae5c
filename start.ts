import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { childEnv, loadConfig } from './activities/config'
import { createDb } from './activities/db/db'
import { migrateToLatest } from './activities/db/migrate'
import { DEMO_PASSWORD, seedDemo } from './activities/db/seed'
import { runMain } from './activities/infra/errors'
import { createLogger } from './activities/infra/logger'
import { describeUrl } from './activities/infra/postgres'
import { startStack } from './activities/infra/stack'
import { supervise } from './activities/infra/supervise'
import { installTemporalRuntime } from './activities/runtime'
import { createShutdown } from './activities/shutdown'
import { loadFieldCipher, loadPayloadCodec } from './activities/crypto/keyring'
import { loadCommandKeys } from './activities/crypto/command-signing'
import { ensureUiBuilt } from './activities/infra/ui-build'

const appEntry = fileURLToPath(new URL('./start-app.ts', import.meta.url))

/**
 * `npm start`: the whole system on one machine. Starts what is not configured (PostgreSQL, the
 * Temporal dev server, a mail sink), migrates, seeds the demo once, then runs the worker and the
 * API in one child process (`start-app.ts`) that it restarts should it die (EMBEDDED_RESTARTS in
 * a row, with backoff); on giving up, it stops the servers it started rather than leave them
 * running. Ctrl-C stops everything: the API and worker first, then the servers.
 */
runMain(async () => {
  const config = loadConfig()
  const log = createLogger(config.logLevel)
  installTemporalRuntime(log)
  const lifecycle = createShutdown(log)
  await lifecycle.start(async () => {
    log.info({ dataDir: config.dataDir }, 'starting RSU Casework')
    const stack = await startStack(config, log, {
      extraPorts: [{ port: config.api.port, purpose: 'the API (API_PORT)' }],
      // The Web UI asks our API to decode the encrypted payloads it shows to an operator.
      uiCodecEndpoint: config.api.port
        ? `http://${config.host}:${config.api.port}/api/temporal-codec`
        : undefined,
    })
    lifecycle.add('embedded services', () => stack.stop())

    const db = createDb(stack.databaseUrl, { max: 2 })
    let seed: Awaited<ReturnType<typeof seedDemo>> | undefined
    try {
      const applied = await migrateToLatest(db)
      if (applied.length) log.info({ applied }, 'database migrated')
      seed = config.seedDemo ? await seedDemo(db) : undefined
    } finally {
      await db.destroy()
    }
    // Here rather than in the child: a bad key is one line, and the key files exist before it reads them.
    await loadPayloadCodec(config)
    await loadFieldCipher(config)
    await loadCommandKeys(config)
    // The console and public pages are built here when their sources are newer than the build.
    await ensureUiBuilt(log)

    const app = supervise({
      entry: appEntry,
      env: childEnv({
        DATABASE_URL: stack.databaseUrl,
        TEMPORAL_ADDRESS: stack.temporal.address,
        TEMPORAL_NAMESPACE: stack.temporal.namespace,
        SMTP_URL: stack.mail.smtpUrl!,
      }),
      maxRestarts: config.embeddedRestarts,
      log,
    })
    lifecycle.add('API and worker process', () => app.stop())
    const { url } = await app.firstReady
    void app.gaveUp.then(() => {
      process.exitCode = 1
      return lifecycle.shutdown('the API and worker process keeps exiting')
    })

    const lines = [
      '',
      'RSU Casework is running.',
      `  Console       ${url}/admin/`,
      `  Public pages  ${url}/  (submit and follow a grievance)`,
      `  API           ${url}/api`,
      `  API docs      ${url}/api/docs  (OpenAPI: ${url}/api/openapi.json)`,
      `  Health        ${url}/api/health/ready`,
      `  Temporal UI   ${stack.temporal.uiUrl ?? `(cluster at ${stack.temporal.address})`}`,
      `  Mail sink     ${stack.mail.uiUrl ?? `(relay ${new URL(stack.mail.smtpUrl!).host})`}`,
      `  PostgreSQL    ${describeUrl(stack.databaseUrl)}${config.database.url ? '' : ` (embedded, data in ${path.join(config.dataDir, 'postgres')})`}`,
    ]
    if (seed?.seeded) {
      lines.push(
        `  Demo data     seeded: ${seed.userCount} users; every demo password is ${DEMO_PASSWORD}`,
      )
      for (const a of seed.accounts)
        lines.push(`                ${a.username.padEnd(30)} ${a.role} @ ${a.area}`)
      lines.push(
        `                ${'exploitant'.padEnd(30)} Temporal operator (decodes payloads: docs/temporal-operators.md)`,
      )
      lines.push(
        '                supervisors, managers, administrators and the operator enrol a TOTP app at first sign-in',
      )
    } else if (seed) {
      lines.push(
        `  Demo data     already seeded (${seed.userCount} users, password ${DEMO_PASSWORD})`,
      )
    }
    lines.push('Press Ctrl-C to stop.', '')
    process.stdout.write(lines.join('\n') + '\n')
  })

  await lifecycle.stopped
  log.info('stopped')
})
