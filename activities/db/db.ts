import { CamelCasePlugin, Kysely } from 'kysely'
import { PostgresJSDialect } from 'kysely-postgres-js'
import postgres from 'postgres'
import type { Database } from './schema'

export type Db = Kysely<Database>

/** A Kysely instance over postgres.js. `max` bounds this process's connections. */
export function createDb(url: string, options: { max?: number } = {}): Db {
  return new Kysely<Database>({
    dialect: new PostgresJSDialect({
      postgres: postgres(url, {
        max: options.max ?? 10,
        connect_timeout: 10,
        onnotice: () => {},
      }),
    }),
    plugins: [new CamelCasePlugin()],
  })
}
