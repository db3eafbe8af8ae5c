import type { Config } from '../config'
import type { Db } from '../db/db'
import type { RegistryClient } from './client'
import { createDatabaseRegistry } from './database'
import { createDciRegistry } from './dci'
import { createRestRegistry } from './rest'

export type { RegistryClient } from './client'

/** The registry client the configuration asks for; without REGISTRY_URL, the households table. */
export function createRegistryClient(
  config: Config['registry'] | undefined,
  db: Db,
): RegistryClient {
  if (!config?.url) return createDatabaseRegistry(db)
  const options = { baseUrl: config.url, token: config.token }
  return config.adapter === 'rest' ? createRestRegistry(options) : createDciRegistry(options)
}

/** One line for the start-up log: which registry the cases will read and write. */
export function describeRegistry(registry: RegistryClient, config?: Config['registry']): string {
  return registry.kind === 'database'
    ? 'registry: no REGISTRY_URL, the households in PostgreSQL serve as the registry'
    : `registry: ${registry.kind.toUpperCase()} API at ${new URL(config!.url!).origin}`
}
