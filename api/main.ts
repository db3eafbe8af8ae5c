import { loadConfig } from '../activities/config'
import { createDb } from '../activities/db/db'
import { assertSchemaCurrent } from '../activities/db/schema-check'
import { runMain } from '../activities/infra/errors'
import { externalServices } from '../activities/infra/external'
import { createLogger } from '../activities/infra/logger'
import { checkDatabase } from '../activities/infra/postgres'
import { ensureSearchAttributes } from '../activities/infra/search-attributes'
import { connectClient } from '../activities/infra/temporal-client'
import { createShutdown } from '../activities/shutdown'
import { loadFieldCipher, loadPayloadCodec } from '../activities/crypto/keyring'
import { loadCommandKeys } from '../activities/crypto/command-signing'
import { createApp } from './app'
import { serveApi } from './server'

/** `npm run api`: the API alone, against an external Temporal cluster and PostgreSQL. */
runMain(async () => {
  const config = loadConfig()
  const log = createLogger(config.logLevel)
  const { databaseUrl, temporal: settings } = externalServices(config, 'npm run api')
  const lifecycle = createShutdown(log)
  await lifecycle.start(async () => {
    await checkDatabase(databaseUrl)
    const db = createDb(databaseUrl)
    lifecycle.add('database pool', () => db.destroy())
    await assertSchemaCurrent(db)
    const codec = await loadPayloadCodec(config)
    const cipher = await loadFieldCipher(config)
    const commandKeys = await loadCommandKeys(config)
    const temporal = await connectClient(settings, { codec, commandKeys })
    lifecycle.add('temporal client', () => temporal.connection.close())
    // Intakes would answer 201 for cases whose workflow tasks all fail on a namespace without them.
    await ensureSearchAttributes(temporal, settings, config.temporal.searchAttributes, log)
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
    log.info({ url: server.url }, 'API listening')
  })
  await lifecycle.stopped
})
