import path from 'node:path'
import { loadConfig } from '../config'
import { runMain } from '../infra/errors'
import { createLogger } from '../infra/logger'
import { startDatabase } from '../infra/postgres'
import { createDb } from './db'
import { migrateDownOne, migrateToLatest } from './migrate'

/**
 * `npm run db:migrate` brings DATABASE_URL (or the embedded PostgreSQL under DATA_DIR) to the
 * newest schema; `npm run db:migrate -- --down` undoes the newest migration.
 */
runMain(async () => {
  const config = loadConfig()
  const log = createLogger(config.logLevel)
  const down = process.argv.includes('--down')
  const server = await startDatabase({
    url: config.database.url,
    dir: path.join(config.dataDir, 'postgres'),
    log,
  })
  const db = createDb(server.url, { max: 1 })
  try {
    const names = down ? await migrateDownOne(db) : await migrateToLatest(db)
    log.info(
      { migrations: names },
      names.length ? (down ? 'migration undone' : 'migrations applied') : 'schema already current',
    )
  } finally {
    await db.destroy()
    await server.stop()
  }
})
