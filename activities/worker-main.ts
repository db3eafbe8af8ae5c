import { loadConfig } from './config'
import { createDb } from './db/db'
import { assertSchemaCurrent } from './db/schema-check'
import { runMain } from './infra/errors'
import { externalServices } from './infra/external'
import { createLogger } from './infra/logger'
import { checkDatabase } from './infra/postgres'
import { installTemporalRuntime } from './runtime'
import { createShutdown } from './shutdown'
import { createWorker } from './worker'
import { loadFieldCipher, loadPayloadCodec } from './crypto/keyring'
import { loadCommandKeys } from './crypto/command-signing'
import { createMailTransport } from './mail/transport'
import { startNotificationSweeper } from './notifications/sweeper'
import { ensureSearchAttributes } from './infra/search-attributes'
import { connectClient } from './infra/temporal-client'
import { ensureSchedules } from './schedules'

/** `npm run worker`: one worker process; run as many as the load needs, on the same task queue. */
runMain(async () => {
  const config = loadConfig()
  const log = createLogger(config.logLevel)
  installTemporalRuntime(log)
  const { databaseUrl, temporal, smtpUrl } = externalServices(config, 'npm run worker', {
    smtp: true,
  })
  const lifecycle = createShutdown(log)
  await lifecycle.start(async () => {
    await checkDatabase(databaseUrl)
    const db = createDb(databaseUrl)
    lifecycle.add('database pool', () => db.destroy())
    await assertSchemaCurrent(db)
    const codec = await loadPayloadCodec(config)
    const cipher = await loadFieldCipher(config)
    const commandKeys = await loadCommandKeys(config)
    const client = await connectClient(temporal, { codec, commandKeys })
    lifecycle.add('temporal client', () => client.connection.close())
    // Before anything runs: on a namespace without them, every case's workflow task would fail.
    await ensureSearchAttributes(client, temporal, config.temporal.searchAttributes, log)
    const mail = { transport: createMailTransport(smtpUrl!), from: config.mail.from }
    lifecycle.add('mail transport', async () => mail.transport.close())
    const { worker, connection } = await createWorker({
      temporal,
      taskQueue: config.temporal.taskQueue,
      db,
      mail,
      cipher,
      publicUrl: config.api.publicUrl,
      codec,
      commandKeys,
      log,
      registry: config.registry,
      memory: config.worker,
      partnerWebhooks: config.partnerWebhooks,
      temporalClient: client,
    })
    // The retention and recertification schedules, created once by the first worker.
    await ensureSchedules(client, config, log)
    const sweeper = startNotificationSweeper({ db, ...mail, cipher, log }, log)
    lifecycle.add('notification sweeper', () => sweeper.stop())
    lifecycle.add('worker connection', () => connection.close())
    const done = worker.run()
    lifecycle.add('worker', async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown()
      await done
    })
    done.catch((error: unknown) => {
      log.error({ err: error }, 'the worker stopped on a fatal error')
      void lifecycle.shutdown('worker failure').then(() => process.exit(1))
    })
    log.info({ taskQueue: config.temporal.taskQueue, address: temporal.address }, 'worker running')
  })
  await lifecycle.stopped
})
