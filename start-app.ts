import { createApp } from './api/app'
import { serveApi } from './api/server'
import { loadConfig } from './activities/config'
import { createDb } from './activities/db/db'
import { runMain } from './activities/infra/errors'
import { externalServices } from './activities/infra/external'
import { createLogger } from './activities/infra/logger'
import type { ReadyMessage } from './activities/infra/supervise'
import { connectClient } from './activities/infra/temporal-client'
import { installTemporalRuntime } from './activities/runtime'
import { createShutdown } from './activities/shutdown'
import { createWorker } from './activities/worker'
import { loadFieldCipher, loadPayloadCodec } from './activities/crypto/keyring'
import { loadCommandKeys } from './activities/crypto/command-signing'
import { createMailTransport } from './activities/mail/transport'
import { startNotificationSweeper } from './activities/notifications/sweeper'
import { ensureSchedules } from './activities/schedules'

/**
 * The API and the worker of `npm start`, in one process that `start.ts` runs, supervises and
 * restarts should it die. It gets the servers `start.ts` started (or was configured with) as
 * DATABASE_URL, TEMPORAL_ADDRESS and SMTP_URL, tells it through IPC once it serves, and stops
 * itself if `start.ts` goes away (its IPC channel closes): it never outlives it.
 */
runMain(async () => {
  const config = loadConfig()
  const log = createLogger(config.logLevel)
  installTemporalRuntime(log)
  const {
    databaseUrl,
    temporal: settings,
    smtpUrl,
  } = externalServices(config, 'npm start', {
    smtp: true,
  })
  const lifecycle = createShutdown(log)
  process.once('disconnect', () => void lifecycle.shutdown('npm start went away'))
  await lifecycle.start(async () => {
    const db = createDb(databaseUrl)
    lifecycle.add('database pool', () => db.destroy())
    const codec = await loadPayloadCodec(config)
    const cipher = await loadFieldCipher(config)
    const commandKeys = await loadCommandKeys(config)
    const temporal = await connectClient(settings, { codec, commandKeys })
    lifecycle.add('temporal client', () => temporal.connection.close())
    const mail = { transport: createMailTransport(smtpUrl!), from: config.mail.from }
    lifecycle.add('mail transport', async () => mail.transport.close())
    const publicUrl = config.api.publicUrl ?? `http://${config.host}:${config.api.port}`
    const { worker, connection } = await createWorker({
      temporal: settings,
      taskQueue: config.temporal.taskQueue,
      db,
      mail,
      cipher,
      publicUrl,
      codec,
      commandKeys,
      log,
      registry: config.registry,
      temporalClient: temporal,
      memory: config.worker,
      partnerWebhooks: config.partnerWebhooks,
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

    const server = await serveApi(
      createApp({
        db,
        temporal,
        log,
        codec,
        cipher,
        taskQueue: config.temporal.taskQueue,
        secureCookies: config.api.publicUrl?.startsWith('https:') ?? false,
        publicUrl: config.api.publicUrl,
        trustProxy: config.api.trustProxy,
        temporalUiOrigins: config.temporal.uiOrigins,
        partnerWebhooks: config.partnerWebhooks,
      }),
      config.host,
      config.api.port,
    )
    lifecycle.add('api server', () => server.close())
    log.info({ url: server.url, pid: process.pid }, 'API and worker running')
    process.send?.({ type: 'ready', url: server.url } satisfies ReadyMessage)
  })
  await lifecycle.stopped
})
