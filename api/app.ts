import type { Client } from '@temporalio/client'
import type { PayloadCodec } from '@temporalio/common'
import { OpenAPIHono } from '@hono/zod-openapi'
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { cors } from 'hono/cors'
import { secureHeaders } from 'hono/secure-headers'
import type { FieldCipher } from '../activities/crypto/field-cipher'
import type { WebhookPolicy } from '../activities/referrals/webhook-target'
import type { Db } from '../activities/db/db'
import type { Logger } from '../activities/infra/logger'
import { refuseControlCharacters } from './control-characters'
import { securityHeaders } from './security-headers'
import { ApiError, notFound, onError } from './errors'
import { deadline } from './deadline'
import { codecRoutes, LOOPBACK_HOSTS } from './routes/codec'
import { consoleStaticRoutes } from './routes/console-static'
import { requireAuth } from './auth/middleware'
import { userLimits, type UserLimits } from './auth/user-limits'
import { clientAddressMiddleware, type TrustProxy } from './auth/throttle'
import type { AppEnv } from './auth/types'
import { authRoutes } from './routes/auth'
import { breakGlassRoutes } from './routes/break-glass'
import { caseKindsRoutes } from './routes/case-kinds'
import { casesRoutes } from './routes/cases'
import { docsRoutes } from './routes/docs'
import { healthRoutes } from './routes/health'
import { publicRoutes } from './routes/public'
import { publicPages } from './routes/public-static'
import { referenceRoutes } from './routes/reference'
import { referralsRoutes } from './routes/referrals'
import { appealsRoutes } from './routes/appeals'
import { partnerWebhookRoutes } from './routes/partner-webhooks'
import { reportsRoutes } from './routes/reports'
import { reverificationsRoutes } from './routes/reverifications'
import { tasksRoutes } from './routes/tasks'
import { tokenRoutes } from './routes/tokens'

export interface AppDeps {
  db: Db
  temporal: Client
  log: Logger
  /** The payload codec, served to the Temporal Web UI so an operator can read encrypted payloads. */
  codec?: PayloadCodec
  /** Origins of the Temporal Web UI allowed to call the codec endpoint (default: embedded UI's). */
  temporalUiOrigins?: string[]
  /** The site's public URL (PUBLIC_URL): its host name, and loopback, serve the codec. */
  publicUrl?: string
  /** Which forwarded address is the client's (TRUST_PROXY); none by default: the socket's. */
  trustProxy?: TrustProxy
  /** Task queue of the case workflows started by the API (public intake, reopen). */
  taskQueue: string
  /** Session cookies only over HTTPS (PUBLIC_URL is https). */
  secureCookies?: boolean
  /** Origins allowed to call the API from a browser (the console's, when not served by us). */
  consoleOrigins?: string[]
  /** Encrypts secrets stored by the API (partner webhook secrets); without it they are refused. */
  cipher?: FieldCipher
  /** Where partner webhooks may point (config); unset: https only, any public host. */
  partnerWebhooks?: WebhookPolicy
  /** Per-user request and refusal limits (api/auth/user-limits.ts); unset: the defaults. */
  userLimits?: UserLimits
}

/** The embedded Temporal Web UI (TEMPORAL_UI_PORT's default), as a browser names its origin. */
export const DEFAULT_TEMPORAL_UI_ORIGINS = ['http://127.0.0.1:8233', 'http://localhost:8233']

/** The HTTP application: the API under /api and the console under /admin. */
export function createApp(deps: AppDeps) {
  const api = new OpenAPIHono<AppEnv>()
    .route('/health', healthRoutes(deps))
    .route(
      '/auth',
      authRoutes({
        db: deps.db,
        secureCookies: deps.secureCookies ?? false,
        cipher: deps.cipher,
        log: deps.log,
        origins: deps.consoleOrigins,
      }),
    )
    .route('/public', publicRoutes(deps))
  // Everything about cases and tasks needs a signed-in user (or a system's token).
  // Default deny: every route of the API needs a signed-in user (or a system's token), but for
  // the few that are public by design.
  const auth = requireAuth({ db: deps.db, origins: deps.consoleOrigins })
  const limited = userLimits(deps.userLimits, { log: deps.log })
  const open = ['/api/health', '/api/auth', '/api/public', '/api/openapi.json', '/api/docs']
  api.use('*', async (c, next) => {
    const path = c.req.path
    if (open.some((p) => path === p || path.startsWith(`${p}/`))) return next()
    // The codec endpoint has its own guard (operators with a second factor, or their tokens).
    if (deps.codec && path.startsWith('/api/temporal-codec/')) return next()
    return auth(c, async () => {
      await limited(c, next)
    })
  })
  api
    .route('/case-kinds', caseKindsRoutes())
    .route('/tokens', tokenRoutes(deps))
    .route('/cases', casesRoutes(deps))
    .route('/tasks', tasksRoutes(deps))
    .route('/reverifications', reverificationsRoutes(deps))
    .route('/referrals', referralsRoutes(deps))
    .route('/appeals', appealsRoutes(deps))
    .route(
      '/partners',
      partnerWebhookRoutes({ db: deps.db, cipher: deps.cipher, policy: deps.partnerWebhooks }),
    )
    .route('/', breakGlassRoutes(deps))
    .route('/', referenceRoutes(deps))
    .route('/', reportsRoutes(deps))
  if (deps.codec) {
    api.route(
      '/temporal-codec',
      codecRoutes({
        db: deps.db,
        codec: deps.codec,
        allowedOrigins: deps.temporalUiOrigins ?? DEFAULT_TEMPORAL_UI_ORIGINS,
        allowedHosts: [
          ...LOOPBACK_HOSTS,
          ...(deps.publicUrl ? [new URL(deps.publicUrl).hostname] : []),
        ],
      }),
    )
  }
  const documentConfig = {
    openapi: '3.1.0',
    servers: [{ url: '/api' }],
    info: {
      title: 'RSU Casework API',
      version: '0.1.0',
      description: 'Grievances, re-verifications, referrals and appeals of a social registry.',
    },
  }
  api.doc31('/openapi.json', documentConfig)
  api.route(
    '/docs',
    docsRoutes(() => api.getOpenAPI31Document(documentConfig) as never),
  )
  // The console is served from this origin; another origin (a console on its own host) must be
  // listed to call the API from a browser, and may then read Content-Range.
  const consoleCors = cors({
    origin: deps.consoleOrigins ?? [],
    credentials: true,
    exposeHeaders: ['Content-Range', 'Retry-After', 'Idempotent-Replayed'],
    allowHeaders: ['Content-Type', 'X-CSRF-Token', 'Idempotency-Key', 'Authorization'],
  })
  return (
    new Hono()
      // The client's address, once: what every per-address limit counts (api/auth/throttle.ts).
      .use(clientAddressMiddleware(deps.trustProxy ?? null))
      .use(secureHeaders())
      .use(securityHeaders)
      // A control character (an encoded NUL, tab, newline…) in the path or query is never a
      // real request: refused up front, before an id carrying it reaches SQL (PostgreSQL text
      // cannot hold NUL, which answered a 500 for `/api/cases/<id>%00`).
      .use(async (c, next) => {
        const query = c.req.url.slice(c.req.url.indexOf('?') + 1 || c.req.url.length)
        const control = [...c.req.path].some((ch) => ch < ' ' || ch === '\x7f')
        if (control || /%(?:[01][0-9a-f]|7f)/i.test(query)) {
          throw new ApiError(400, 'INVALID_PATH', 'Control characters are not allowed in a URL')
        }
        await next()
      })
      .use('/api/*', (c, next) =>
        // The codec endpoint answers the Temporal Web UI's origin itself (api/routes/codec.ts):
        // this app-wide preflight answer would otherwise refuse it.
        c.req.path.startsWith('/api/temporal-codec/') ? next() : consoleCors(c, next),
      )
      .use(
        '/api/*',
        bodyLimit({
          maxSize: 1024 * 1024,
          onError: () => {
            throw new ApiError(413, 'PAYLOAD_TOO_LARGE', 'Request body larger than 1 MiB')
          },
        }),
      )
      .use('/api/*', refuseControlCharacters)
      // An outage answers 503 with Retry-After within seconds, never a hang (api/deadline.ts).
      .use('/api/*', deadline())
      .route('/api', api)
      // The public pages (submit and follow a grievance) at the root of the site.
      .route('/', publicPages())
      .get('/admin', (c) => c.redirect('/admin/'))
      .route('/admin', consoleStaticRoutes())
      .notFound(notFound)
      .onError(onError(deps.log))
  )
}

export type AppType = ReturnType<typeof createApp>
