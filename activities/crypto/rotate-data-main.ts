import path from 'node:path'
import { loadConfig } from '../config'
import { createDb } from '../db/db'
import { runMain } from '../infra/errors'
import { createLogger } from '../infra/logger'
import { startDatabase } from '../infra/postgres'
import { loadFieldCipher } from './keyring'
import { rotateDataKeys } from './rotate-data'

/**
 * `npm run keys:rotate-data`: after putting a new key first in DATA_KEYS (old keys kept after it),
 * re-encrypts every sensitive field with it; then the old key can be removed.
 */
runMain(async () => {
  const config = loadConfig()
  const log = createLogger(config.logLevel)
  const server = await startDatabase({
    url: config.database.url,
    dir: path.join(config.dataDir, 'postgres'),
    log,
  })
  const db = createDb(server.url, { max: 1 })
  try {
    const cipher = await loadFieldCipher(config)
    const changed = await rotateDataKeys(db, cipher)
    log.info({ ...changed, activeKeyId: cipher.activeKeyId }, 'data keys rotated')
  } finally {
    await db.destroy()
    await server.stop()
  }
})
