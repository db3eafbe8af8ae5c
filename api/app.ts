import { readFileSync } from 'node:fs'
import type { Client } from '@temporalio/client'
import { OpenAPIHono } from '@hono/zod-openapi'
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { secureHeaders } from 'hono/secure-headers'
import type { Db } from '../activities/db/db'
import type { Logger } from '../activities/infra/logger'
import { ApiError, notFound, onError } from './errors'
import { healthRoutes } from './routes/health'

export interface AppDeps {
  db: Db
  temporal: Client
  log: Logger
}

const placeholder = readFileSync(new URL('../admin-ui/placeholder.html', import.meta.url), 'utf8')

/** The HTTP application: the API under /api and the console under /admin. */
export function createApp(deps: AppDeps) {
  const api = new OpenAPIHono().route('/health', healthRoutes(deps))
  api.doc31('/openapi.json', {
    openapi: '3.1.0',
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
