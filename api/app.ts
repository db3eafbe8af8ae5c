import { readFileSync } from 'node:fs'
import { getConnInfo } from '@hono/node-server/conninfo'
import type { Client } from '@temporalio/client'
import type { PayloadCodec } from '@temporalio/common'
import { OpenAPIHono } from '@hono/zod-openapi'
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { secureHeaders } from 'hono/secure-headers'
import type { Db } from '../activities/db/db'
import type { Logger } from '../activities/infra/logger'
import { ApiError, notFound, onError } from './errors'
import { codecRoutes } from './routes/codec'
import { authRoutes } from './routes/auth'
import { healthRoutes } from './routes/health'
import { publicRoutes } from './routes/public'

export interface AppDeps {
  db: Db
  temporal: Client
  log: Logger
  /** The payload codec, served to the Temporal Web UI so an operator can read encrypted payloads. */
  codec?: PayloadCodec
  /** Origins of the Temporal Web UI allowed to call the codec endpoint. */
  temporalUiOrigins?: string[]
  /** Task queue of the case workflows started by the API (public intake, reopen). */
  taskQueue: string
  /** Session cookies only over HTTPS (PUBLIC_URL is https). */
  secureCookies?: boolean
}

const placeholder = readFileSync(new URL('../admin-ui/placeholder.html', import.meta.url), 'utf8')

/** The HTTP application: the API under /api and the console under /admin. */
export function createApp(deps: AppDeps) {
  const api = new OpenAPIHono()
    .route('/health', healthRoutes(deps))
    .route('/auth', authRoutes({ db: deps.db, secureCookies: deps.secureCookies ?? false }))
    .route('/public', publicRoutes(deps))
  if (deps.codec) {
    // Decoding reveals what a complainant wrote: until operator sign-in exists, only a request
    // from this machine (the embedded Web UI in the operator's browser) is answered.
    api.use('/temporal-codec/*', async (c, next) => {
      const address = getConnInfo(c).remote.address ?? ''
      if (!['127.0.0.1', '::1', '::ffff:127.0.0.1'].includes(address)) {
        throw new ApiError(403, 'FORBIDDEN', 'The codec endpoint answers local requests only')
      }
      await next()
    })
    api.route(
      '/temporal-codec',
      codecRoutes({
        codec: deps.codec,
        allowedOrigins: deps.temporalUiOrigins ?? [
          'http://127.0.0.1:8233',
          'http://localhost:8233',
        ],
      }),
    )
  }
  api.doc31('/openapi.json', {
    openapi: '3.1.0',
    servers: [{ url: '/api' }],
    info: {
      title: 'RSU Casework API',
      version: '0.1.0',
      description: 'Grievances, re-verifications, referrals and appeals of a social registry.',
    },
  })
  return new Hono()
    .use(secureHeaders())
    .use(
      '/api/*',
      bodyLimit({
        maxSize: 1024 * 1024,
        onError: () => {
          throw new ApiError(413, 'PAYLOAD_TOO_LARGE', 'Request body larger than 1 MiB')
        },
      }),
    )
    .route('/api', api)
    .get('/', (c) => c.redirect('/admin/'))
    .get('/admin', (c) => c.redirect('/admin/'))
    .get('/admin/*', (c) => c.html(placeholder))
    .notFound(notFound)
    .onError(onError(deps.log))
}

export type AppType = ReturnType<typeof createApp>
