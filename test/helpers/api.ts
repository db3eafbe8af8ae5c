import { OpenAPIHono } from '@hono/zod-openapi'
import type { Db } from '../../activities/db/db'
import { createLogger } from '../../activities/infra/logger'
import { loadAuthUser } from '../../api/auth/sessions'
import type { AppEnv } from '../../api/auth/types'
import { ApiError, onError } from '../../api/errors'

/**
 * An app whose sign-in is replaced by the user named in the `x-test-user` header, loaded as the
 * real middleware loads users (roles in areas, clearance): for tests of one router's rules
 * without the TOTP and CSRF steps, which `test/api/auth.test.ts` covers.
 */
export function appSignedInByHeader(db: Db, mount: (api: OpenAPIHono<AppEnv>) => void) {
  const api = new OpenAPIHono<AppEnv>()
  api.use('/api/*', async (c, next) => {
    const username = c.req.header('x-test-user') ?? ''
    const row = await db
      .selectFrom('users')
      .select('id')
      .where('username', '=', username)
      .executeTakeFirst()
    const user = row ? await loadAuthUser(db, row.id, 'session') : null
    if (!user) throw new ApiError(401, 'UNAUTHENTICATED', 'sign in')
    c.set('user', user)
    await next()
  })
  mount(api)
  api.onError(onError(createLogger('silent', false)))
  return api
}
