import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { Client } from '@temporalio/client'
import { sql } from 'kysely'
import type { Db } from '../../activities/db/db'
import { firstLine } from '../../activities/infra/errors'
import { errorBody } from '../errors'

const CheckSchema = z
  .union([
    z.object({ status: z.literal('up'), latencyMs: z.number() }),
    z.object({ status: z.literal('down'), error: z.string() }),
  ])
  .openapi('DependencyCheck')
type Check = z.infer<typeof CheckSchema>
const ChecksSchema = z.object({ postgres: CheckSchema, temporal: CheckSchema })

async function timed(probe: () => Promise<unknown>, timeoutMs: number): Promise<Check> {
  const started = performance.now()
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
      }),
    ])
    return { status: 'up', latencyMs: Math.round(performance.now() - started) }
  } catch (error) {
    return { status: 'down', error: firstLine(error) }
  } finally {
    clearTimeout(timer)
  }
}

const live = createRoute({
  method: 'get',
  path: '/live',
  tags: ['health'],
  summary: 'The process answers',
  responses: {
    200: {
      description: 'Alive',
      content: { 'application/json': { schema: z.object({ status: z.literal('live') }) } },
    },
  },
})

const ready = createRoute({
  method: 'get',
  path: '/ready',
  tags: ['health'],
  summary: 'PostgreSQL and Temporal answer',
  responses: {
    200: {
      description: 'Ready to serve',
      content: {
        'application/json': {
          schema: z.object({ status: z.literal('ready'), checks: ChecksSchema }),
        },
      },
    },
    503: {
      description: 'A dependency is down; retry after the Retry-After delay',
      content: {
        'application/json': {
          schema: z.object({
            status: z.literal('not_ready'),
            checks: ChecksSchema,
            error: z.object({ code: z.string(), message: z.string() }),
          }),
        },
      },
    },
  },
})

/**
 * Liveness (the process answers) and readiness (PostgreSQL and Temporal answer), for load
 * balancers and orchestrators. A dependency that hangs makes `ready` fail fast, not hang.
 */
export function healthRoutes(deps: { db: Db; temporal: Client; timeoutMs?: number }) {
  const timeoutMs = deps.timeoutMs ?? 2_000
  return new OpenAPIHono()
    .openapi(live, (c) => c.json({ status: 'live' as const }, 200))
    .openapi(ready, async (c) => {
      const [postgres, temporal] = await Promise.all([
        timed(() => sql`select 1`.execute(deps.db), timeoutMs),
        timed(
          () =>
            deps.temporal.connection.withDeadline(Date.now() + timeoutMs, () =>
              deps.temporal.workflowService.getSystemInfo({}),
            ),
          timeoutMs,
        ),
      ])
      const checks = { postgres, temporal }
      if (postgres.status === 'up' && temporal.status === 'up') {
        return c.json({ status: 'ready' as const, checks }, 200)
      }
      c.header('Retry-After', '5')
      return c.json(
        {
          status: 'not_ready' as const,
          checks,
          ...errorBody('SERVICE_UNAVAILABLE', 'A dependency is not answering'),
        },
        503,
      )
    })
}
