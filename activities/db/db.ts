import { CamelCasePlugin, CompiledQuery, Kysely, type DatabaseConnection } from 'kysely'
import {
  PostgresJSDialect,
  PostgresJSDriver,
  type PostgresJSDialectConfig,
} from 'kysely-postgres-js'
import postgres from 'postgres'
import type { Database } from './schema'

export type Db = Kysely<Database>

/**
 * Kysely's PostgreSQL driver, on a failed ROLLBACK, marks the connection for discard through a
 * private symbol that only its own (node-postgres) connections implement: with the postgres.js
 * adapter that call threw `TypeError: connection[PRIVATE_MARK_FOR_DISCARD_METHOD] is not a
 * function`, which replaced the connection error, so a transaction cut by an outage answered 500
 * instead of 503. postgres.js replaces a closed connection by itself; what the caller needs is the
 * connection's own error (CONNECTION_CLOSED, 57P01…), which `isOutage` recognises.
 */
class Driver extends PostgresJSDriver {
  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'))
  }
}

class Dialect extends PostgresJSDialect {
  constructor(private readonly settings: PostgresJSDialectConfig) {
    super(settings)
  }

  override createDriver(): Driver {
    return new Driver(this.settings)
  }
}

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
    dialect: new Dialect({
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
