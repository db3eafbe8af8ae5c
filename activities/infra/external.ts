import type { Config } from '../config'
import { StartupError } from './errors'
import type { TemporalSettings } from './temporal-client'

/**
 * The production shape (`npm run api`, `npm run worker`) starts nothing: it needs a Temporal
 * cluster and a PostgreSQL, and says which variables are missing when they are not given.
 */
export function externalServices(
  config: Config,
  command: string,
  needs: { smtp?: boolean } = {},
): { databaseUrl: string; temporal: TemporalSettings; smtpUrl?: string } {
  const missing = [
    ...(config.database.url ? [] : ['DATABASE_URL']),
    ...(config.temporal.address ? [] : ['TEMPORAL_ADDRESS']),
    ...(needs.smtp && !config.mail.smtpUrl ? ['SMTP_URL'] : []),
  ]
  if (missing.length) {
    throw new StartupError(
      'CONFIG_MISSING',
      `${command} runs against external services: set ${missing.join(' and ')} (or use \`npm start\`, which starts them embedded)`,
    )
  }
  const { namespace, tls, apiKey } = config.temporal
  return {
    databaseUrl: config.database.url!,
    temporal: { address: config.temporal.address!, namespace, tls, apiKey },
    smtpUrl: config.mail.smtpUrl,
  }
}
