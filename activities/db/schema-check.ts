import { StartupError } from '../infra/errors'
import type { Db } from './db'
import { pendingMigrations } from './migrate'

/** Refuses to serve on a schema older than the code: the operator runs `npm run db:migrate`. */
export async function assertSchemaCurrent(db: Db): Promise<void> {
  const pending = await pendingMigrations(db)
  if (pending.length) {
    throw new StartupError(
      'SCHEMA_BEHIND',
      `the database schema lacks ${pending.length} migration(s) (first: ${pending[0]}): run \`npm run db:migrate\``,
    )
  }
}
