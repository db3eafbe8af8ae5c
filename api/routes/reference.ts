import { OpenAPIHono } from '@hono/zod-openapi'
import type { Db } from '../../activities/db/db'
import type { AppEnv } from '../auth/types'
import { areasRoutes } from './reference/areas'
import { categoriesRoutes } from './reference/categories'
import { holidaysRoutes } from './reference/holidays'
import { householdsRoutes } from './reference/households'
import { partnersRoutes, servicesRoutes } from './reference/partners'
import { slaPoliciesRoutes } from './reference/sla-policies'
import { usersRoutes } from './reference/users'

export interface ReferenceDeps {
  db: Db
}

/**
 * The reference data of the casework (DESIGN §1 administrators, §3, §6), one router per resource,
 * each answering the react-admin simple REST conventions (`sort`, `range`, `filter`,
 * `Content-Range`): `/areas`, `/categories`, `/holidays`, `/sla-policies`, `/users`, `/partners`,
 * `/services` and `/households`. Every resource states its own rule; roles are checked per route
 * (403 `FORBIDDEN`), households are scoped by area in SQL (404 out of scope), writes honour
 * `Idempotency-Key`. Mount behind the authentication middleware: every route needs a user.
 */
export function referenceRoutes(deps: ReferenceDeps) {
  const db = deps.db
  return new OpenAPIHono<AppEnv>()
    .route('/areas', areasRoutes({ db }))
    .route('/categories', categoriesRoutes({ db }))
    .route('/holidays', holidaysRoutes({ db }))
    .route('/sla-policies', slaPoliciesRoutes({ db }))
    .route('/users', usersRoutes({ db }))
    .route('/partners', partnersRoutes({ db }))
    .route('/services', servicesRoutes({ db }))
    .route('/households', householdsRoutes({ db }))
}
