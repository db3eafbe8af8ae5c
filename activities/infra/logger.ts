import { pino, type Logger } from 'pino'

export type { Logger }

/**
 * Structured logs. Personal data never goes in: log case ids, codes and counts, never names,
 * phone numbers, narratives or IP addresses of complainants.
 */
export function createLogger(level: string, pretty = process.stdout.isTTY): Logger {
  return pino({
    level,
    base: undefined,
    transport: pretty
      ? {
          target: 'pino-pretty',
          options: { ignore: 'pid,hostname', translateTime: 'HH:MM:ss', singleLine: true },
        }
      : undefined,
  })
}
