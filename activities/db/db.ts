import { CamelCasePlugin, Kysely } from 'kysely'
import { PostgresJSDialect } from 'kysely-postgres-js'
import postgres from 'postgres'
import type { Database } from './schema'

export type Db = Kysely<Database>

/**
 * A Kysely instance over postgres.js. `max` bounds this process's connections; `onQuery` hears
 * every SQL statement sent (tests count what a request costs).
 */
export function createDb(
  url: string,
  options: { max?: number; onQuery?: (sql: string) => void } = {},
): Db {
  const sql = postgres(url, {
    max: options.max ?? 10,
    connect_timeout: 10,
    onnotice: () => {},
  })
  return new Kysely<Database>({
    dialect: new PostgresJSDialect({
      // A factory (the dialect calls it once) returning the pool with a bounded end(): destroy()
      // gives running queries 5 s, then closes, so a shutdown while PostgreSQL is gone (it got
      // the same Ctrl-C) does not wait for reconnections that will never succeed.
      postgres: () => ({
        reserve: () => sql.reserve(),
        end: () => sql.end({ timeout: 5 }),
      }),
    }),
    plugins: [new CamelCasePlugin()],
    ...(options.onQuery
      ? {
          log: (event) => {
            options.onQuery!(event.query.sql)
          },
        }
      : {}),
  })
}
