import path from 'node:path'
import { createApp } from './api/app'
import { serveApi } from './api/server'
import { loadConfig } from './activities/config'
import { createDb } from './activities/db/db'
import { migrateToLatest } from './activities/db/migrate'
import { DEMO_PASSWORD, seedDemo } from './activities/db/seed'
import { runMain } from './activities/infra/errors'
import { createLogger } from './activities/infra/logger'
import { describeUrl } from './activities/infra/postgres'
import { startStack } from './activities/infra/stack'
import { connectClient } from './activities/infra/temporal-client'
import { installTemporalRuntime } from './activities/runtime'
import { createShutdown } from './activities/shutdown'
import { createWorker } from './activities/worker'
import { loadFieldCipher, loadPayloadCodec } from './activities/crypto/keyring'
import { createMailTransport } from './activities/mail/transport'
import { startNotificationSweeper } from './activities/notifications/sweeper'
import { ensureUiBuilt } from './activities/infra/ui-build'
import { ensureSchedules } from './activities/schedules'

/**
 * `npm start`: the whole system on one machine. Starts what is not configured (PostgreSQL, the
 * Temporal dev server, a mail sink), migrates, seeds the demo once, and runs the worker and the
 * API in this process. Ctrl-C stops everything.
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

    const db = createDb(stack.databaseUrl)
    lifecycle.add('database pool', () => db.destroy())
    const applied = await migrateToLatest(db)
    if (applied.length) log.info({ applied }, 'database migrated')
    const seed = config.seedDemo ? await seedDemo(db) : undefined

    const codec = await loadPayloadCodec(config)
    const cipher = await loadFieldCipher(config)
    const temporal = await connectClient(stack.temporal, { codec })
    lifecycle.add('temporal client', () => temporal.connection.close())
    const mail = { transport: createMailTransport(stack.mail.smtpUrl!), from: config.mail.from }
    lifecycle.add('mail transport', async () => mail.transport.close())
    const publicUrl = config.api.publicUrl ?? `http://${config.host}:${config.api.port}`
    const { worker, connection } = await createWorker({
      temporal: stack.temporal,
      taskQueue: config.temporal.taskQueue,
      db,
      mail,
      cipher,
      publicUrl,
      codec,
      log,
      registry: config.registry,
      temporalClient: temporal,
    })
    // The retention and recertification schedules, created once by the first worker.
    await ensureSchedules(temporal, config, log)
    const sweeper = startNotificationSweeper({ db, ...mail, cipher, log }, log)
    lifecycle.add('notification sweeper', () => sweeper.stop())
    lifecycle.add('worker connection', () => connection.close())
    const workerDone = worker.run()
    lifecycle.add('worker', async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown()
      await workerDone
    })
    workerDone.catch((error: unknown) => {
      log.error({ err: error }, 'the worker stopped on a fatal error')
      void lifecycle.shutdown('worker failure').then(() => process.exit(1))
    })

    // The console and public pages are built here when their sources are newer than the build.
    await ensureUiBuilt(log)
    const server = await serveApi(
      createApp({
        db,
        temporal,
        log,
        codec,
        cipher,
        taskQueue: config.temporal.taskQueue,
        secureCookies: config.api.publicUrl?.startsWith('https:') ?? false,
      }),
      config.host,
      config.api.port,
    )
    lifecycle.add('api server', () => server.close())

    const lines = [
      '',
      'RSU Casework is running.',
      `  Console       ${server.url}/admin/`,
      `  Public pages  ${server.url}/  (submit and follow a grievance)`,
      `  API           ${server.url}/api`,
      `  API docs      ${server.url}/api/docs  (OpenAPI: ${server.url}/api/openapi.json)`,
      `  Health        ${server.url}/api/health/ready`,
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
        '                supervisors, managers and administrators enrol a TOTP app at first sign-in',
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
