import { isIP } from 'node:net'
import { homedir } from 'node:os'
import path from 'node:path'
import { z } from 'zod'
import { StartupError } from './infra/errors'
import type { WorkerMemory } from './worker-cache'

/**
 * The only place that reads the environment. Every variable is documented in README.md
 * ("Configuration"); a bad value is reported as one line naming the variable.
 */

const port = (fallback: number) =>
  z.coerce.number().int('must be a whole number').min(0).max(65535).default(fallback)

const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
    .transform((v) => v === 'true' || v === '1' || v === 'yes')
    .default(fallback)

const urlWithProtocols = (protocols: string[], example: string) =>
  z.string().refine(
    (value) => {
      try {
        const url = new URL(value)
        return protocols.includes(url.protocol) && url.hostname !== ''
      } catch {
        return false
      }
    },
    { error: `must be a URL like ${example}` },
  )

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v))

const envSchema = z.object({
  DATA_DIR: z.string().min(1).default('.data'),
  RSU_CACHE_DIR: optionalString,
  XDG_CACHE_HOME: optionalString,
  HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: port(3000),
  PUBLIC_URL: urlWithProtocols(['http:', 'https:'], 'https://rsu.example.ml').optional(),
  TRUST_PROXY: z
    .string()
    .transform((v, ctx) => {
      if (/^\d{1,2}$/.test(v)) return { hops: Number(v) }
      const cidrs = v
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean)
      const valid = (c: string) =>
        /^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(c) && isIP(c.split('/')[0]!) !== 0
      if (cidrs.length && cidrs.every(valid)) return { cidrs }
      ctx.addIssue({
        code: 'custom',
        message: 'must be a number of proxies (1) or their addresses (10.0.0.0/8,::1)',
      })
      return z.NEVER
    })
    .optional(),
  DATABASE_URL: urlWithProtocols(
    ['postgres:', 'postgresql:'],
    'postgres://user:password@host:5432/database',
  ).optional(),
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, {
      error: 'must be host:port, like temporal.example.ml:7233',
    })
    .optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('rsu-casework'),
  TEMPORAL_SEARCH_ATTRIBUTES: z
    .enum(['ensure', 'check'], { error: 'must be ensure or check' })
    .default('ensure'),
  TEMPORAL_TLS: flag(false),
  TEMPORAL_TLS_CERT: optionalString,
  TEMPORAL_TLS_KEY: optionalString,
  TEMPORAL_TLS_CA: optionalString,
  TEMPORAL_TLS_SERVER_NAME: optionalString,
  TEMPORAL_API_KEY: optionalString,
  TEMPORAL_CLI_PATH: optionalString,
  PATH: z.string().default(''),
  TEMPORAL_PORT: port(7233),
  TEMPORAL_UI_PORT: port(8233),
  TEMPORAL_UI_ORIGINS: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    )
    .refine(
      (origins) =>
        origins.every((o) => {
          try {
            return new URL(o).origin === o
          } catch {
            return false
          }
        }),
      { error: 'must be origins separated by commas, like https://temporal.example.ml' },
    )
    .optional(),
  SMTP_URL: urlWithProtocols(['smtp:', 'smtps:'], 'smtp://user:password@relay.example.ml:587')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  SMTP_PORT: port(1025),
  MAIL_UI_PORT: port(1080),
  MAIL_FROM: z.string().min(3).default('RSU Casework <no-reply@rsu.localhost>'),
  PAYLOAD_KEYS: optionalString,
  DATA_KEYS: optionalString,
  COMMAND_KEYS: optionalString,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SEED_DEMO: flag(true),
  REGISTRY_URL: urlWithProtocols(['http:', 'https:'], 'https://registry.example.ml/api').optional(),
  REGISTRY_ADAPTER: z.enum(['dci', 'rest'], { error: 'must be dci or rest' }).default('dci'),
  REGISTRY_TOKEN: optionalString,
  WORKER_MEMORY_MB: z.coerce
    .number()
    .int('must be a whole number of MB')
    .min(400, 'must be at least 400 (MB): a worker uses about 300 MB before caching any case')
    .default(1024),
  WORKER_CACHED_WORKFLOW_KB: z.coerce
    .number()
    .int('must be a whole number of KB')
    .min(50, 'must be at least 50 (KB)')
    .default(1200),
  EMBEDDED_RESTARTS: z.coerce.number().int('must be a whole number').min(0).default(5),
  /** Host names partner webhooks may point to (`partner.example.org`, `*.example.org`); unset: any public host. */
  PARTNER_WEBHOOK_HOSTS: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean),
    )
    .refine(
      (hosts) =>
        hosts.every((h) =>
          /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(h),
        ),
      {
        error: 'must be host names separated by commas, like partner.example.org,*.ngo.ml',
      },
    )
    .optional(),
  RECERTIFICATION_YEARS: z.coerce
    .number()
    .positive('must be a positive number of years')
    .optional(),
})

export interface Config {
  dataDir: string
  cacheDir: string
  host: string
  api: {
    port: number
    publicUrl?: string
    trustProxy: { hops: number } | { cidrs: string[] } | null
  }
  database: { url?: string }
  temporal: {
    address?: string
    namespace: string
    taskQueue: string
    /** `ensure`: register the cases' search attributes when missing; `check`: refuse to start. */
    searchAttributes: 'ensure' | 'check'
    tls?: { certPath?: string; keyPath?: string; caPath?: string; serverName?: string }
    apiKey?: string
    cliPath?: string
    /** Directories searched for a `temporal` binary (the PATH). */
    searchPath: string[]
    port: number
    uiPort: number
    /** Browser origins of the Temporal Web UI that may call the codec endpoint. */
    uiOrigins: string[]
  }
  mail: { smtpUrl?: string; smtpPort: number; uiPort: number; from: string }
  /** `id:base64key,…` (first = active) encrypting Temporal payloads; unset: a key file in DATA_DIR. */
  payloadKeys?: string
  /** `id:base64key,…` (first = active) encrypting sensitive fields at rest; unset: a key file. */
  dataKeys?: string
  /** `id:base64key,…` (first = active) signing the API's commands to cases; unset: a key file. */
  commandKeys?: string
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL']
  seedDemo: boolean
  /** The social registry; without a URL, the households table stands in for it. */
  registry: { url?: string; adapter: 'dci' | 'rest'; token?: string }
  /** Re-verify each household this many years after its last score (a daily sweep); unset: off. */
  recertificationYears?: number
  /** The worker's memory budget, from which its workflow cache size is computed. */
  worker: WorkerMemory
  /** How many times in a row `npm start` restarts its API + worker process before giving up. */
  embeddedRestarts: number
  /**
   * Where partner webhooks may point: https only outside the embedded default (no DATABASE_URL
   * nor TEMPORAL_ADDRESS), and the PARTNER_WEBHOOK_HOSTS allow-list when set.
   */
  partnerWebhooks: { httpsOnly: boolean; allowedHosts: string[] }
}

function deepFreeze<T extends object>(value: T): Readonly<T> {
  for (const child of Object.values(value)) {
    if (child && typeof child === 'object') deepFreeze(child)
  }
  return Object.freeze(value)
}

/**
 * Parses the environment into a frozen Config, or throws one StartupError. `overrides` replace
 * variables of the environment (tests give their data directory and ports this way);
 * `{ inherit: false }` ignores the environment altogether.
 */
export function loadConfig(
  overrides: Record<string, string | undefined> = {},
  { inherit = true }: { inherit?: boolean } = {},
): Config {
  const env = { ...(inherit ? process.env : {}), ...overrides }
  // Treat empty variables as unset, as shells and .env files often leave them so.
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([key, v]) => v !== '' && key in envSchema.shape),
  )
  const parsed = envSchema.safeParse(cleaned)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? 'environment')
      const value = env[name]
      // Never echo secrets (passwords in URLs, API keys) back to the terminal.
      const shown = value === undefined || /URL|KEY/.test(name) ? '' : ` (got "${value}")`
      return `${name} ${issue.message}${shown}`
    })
    throw new StartupError('CONFIG_INVALID', `Invalid configuration: ${problems.join('; ')}`)
  }
  const e = parsed.data
  const tlsWanted =
    e.TEMPORAL_TLS || e.TEMPORAL_TLS_CERT || e.TEMPORAL_TLS_CA || e.TEMPORAL_TLS_SERVER_NAME
  if (Boolean(e.TEMPORAL_TLS_CERT) !== Boolean(e.TEMPORAL_TLS_KEY)) {
    throw new StartupError(
      'CONFIG_INVALID',
      'Invalid configuration: TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY must be set together (mutual TLS)',
    )
  }
  const cacheDir =
    e.RSU_CACHE_DIR ?? path.join(e.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'rsu-casework')
  return deepFreeze({
    dataDir: path.resolve(e.DATA_DIR),
    cacheDir: path.resolve(cacheDir),
    host: e.HOST,
    api: { port: e.API_PORT, publicUrl: e.PUBLIC_URL, trustProxy: e.TRUST_PROXY ?? null },
    database: { url: e.DATABASE_URL },
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      searchAttributes: e.TEMPORAL_SEARCH_ATTRIBUTES,
      tls: tlsWanted
        ? {
            certPath: e.TEMPORAL_TLS_CERT,
            keyPath: e.TEMPORAL_TLS_KEY,
            caPath: e.TEMPORAL_TLS_CA,
            serverName: e.TEMPORAL_TLS_SERVER_NAME,
          }
        : undefined,
      apiKey: e.TEMPORAL_API_KEY,
      cliPath: e.TEMPORAL_CLI_PATH,
      searchPath: e.PATH.split(path.delimiter).filter(Boolean),
      port: e.TEMPORAL_PORT,
      uiPort: e.TEMPORAL_UI_PORT,
      // The embedded Web UI by default, as a browser may name it.
      uiOrigins: e.TEMPORAL_UI_ORIGINS ?? [
        ...new Set(
          [e.HOST, '127.0.0.1', 'localhost'].map((h) => `http://${h}:${e.TEMPORAL_UI_PORT}`),
        ),
      ],
    },
    mail: { smtpUrl: e.SMTP_URL, smtpPort: e.SMTP_PORT, uiPort: e.MAIL_UI_PORT, from: e.MAIL_FROM },
    payloadKeys: e.PAYLOAD_KEYS,
    dataKeys: e.DATA_KEYS,
    commandKeys: e.COMMAND_KEYS,
    logLevel: e.LOG_LEVEL,
    seedDemo: e.SEED_DEMO,
    registry: { url: e.REGISTRY_URL, adapter: e.REGISTRY_ADAPTER, token: e.REGISTRY_TOKEN },
    recertificationYears: e.RECERTIFICATION_YEARS,
    worker: { memoryMb: e.WORKER_MEMORY_MB, cachedWorkflowKb: e.WORKER_CACHED_WORKFLOW_KB },
    embeddedRestarts: e.EMBEDDED_RESTARTS,
    partnerWebhooks: {
      httpsOnly: Boolean(e.DATABASE_URL || e.TEMPORAL_ADDRESS),
      allowedHosts: e.PARTNER_WEBHOOK_HOSTS ?? [],
    },
  })
}

/** The environment for a child process we spawn (Go, the Temporal CLI): ours plus `extra`. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...extra }
}
