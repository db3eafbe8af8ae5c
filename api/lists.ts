import { z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { sql, type QueryExecutorProvider, type SelectQueryBuilder } from 'kysely'
import { ApiError } from './errors'

/**
 * react-admin's simple REST conventions (ra-data-simple-rest): `sort=["field","ASC"]`,
 * `range=[0,24]` (inclusive) and `filter={"status":"open"}` as JSON query parameters, answered
 * with `Content-Range: <resource> <start>-<end>/<total>`. Only whitelisted fields sort or filter,
 * so a list is always backed by an index and never leaks a column.
 */

export interface ListSpec<F extends z.ZodRawShape> {
  resource: string
  /** Sortable fields (API names). */
  sortable: readonly string[]
  defaultSort: { field: string; order: 'ASC' | 'DESC' }
  /** Filterable fields and their values. */
  filters: F
  /** Largest page a client may ask for. */
  maxPageSize?: number
}

export interface ListQuery<F> {
  sort: { field: string; order: 'ASC' | 'DESC' }
  /** Offset and limit derived from the inclusive range. */
  offset: number
  limit: number
  filter: F
}

/** The three query parameters, for OpenAPI. */
export const listQuerySchema = z.object({
  sort: z
    .string()
    .optional()
    .openapi({ description: 'JSON ["field","ASC"|"DESC"]', example: '["id","ASC"]' }),
  range: z
    .string()
    .optional()
    .openapi({ description: 'JSON [first,last], inclusive', example: '[0,24]' }),
  filter: z
    .string()
    .optional()
    .openapi({ description: 'JSON object of whitelisted fields', example: '{"status":"open"}' }),
})

type Issue = { path: string; message: string }

function json(name: string, raw: string | undefined, issues: Issue[]): unknown {
  if (raw === undefined || raw === '') return undefined
  try {
    const value: unknown = JSON.parse(raw)
    // PostgreSQL text cannot hold NUL: refuse it here rather than fail in the query.
    if (JSON.stringify(value).includes('\\u0000')) {
      issues.push({ path: name, message: 'contains a NUL character' })
      return undefined
    }
    return value
  } catch {
    issues.push({ path: name, message: 'not valid JSON' })
    return undefined
  }
}

const zodIssues = (name: string, error: z.ZodError): Issue[] =>
  error.issues.map((i) => ({
    path: [name, ...i.path.map(String)].join('.'),
    message: i.message,
  }))

/** A filter value given once or as a list (react-admin's getMany sends `{"id":[...]}`). */
export const oneOrMany = <T extends z.ZodType>(item: T) => z.union([item, z.array(item).max(200)])

/**
 * Parses `sort`, `range` and `filter`; anything unknown or malformed is a 400 `INVALID_QUERY`
 * whose details name each faulty field.
 */
export function parseListQuery<F extends z.ZodRawShape>(
  spec: ListSpec<F>,
  query: Record<string, string | undefined>,
): ListQuery<Partial<z.infer<z.ZodObject<F>>>> {
  const issues: Issue[] = []
  const maxPageSize = spec.maxPageSize ?? 100

  const sortSchema = z.tuple([
    z.enum(spec.sortable as [string, ...string[]]),
    z.enum(['ASC', 'DESC', 'asc', 'desc']),
  ])
  const rawSort = json('sort', query.sort, issues)
  let sort = spec.defaultSort
  if (rawSort !== undefined) {
    const parsed = sortSchema.safeParse(rawSort)
    if (parsed.success) {
      sort = { field: parsed.data[0], order: parsed.data[1].toUpperCase() as 'ASC' | 'DESC' }
    } else issues.push(...zodIssues('sort', parsed.error))
  }

  const rangeSchema = z
    .tuple([z.number().int().min(0), z.number().int().min(0)])
    .refine(([first, last]) => last >= first, { message: 'last is before first' })
    .refine(([first, last]) => last - first + 1 <= maxPageSize, {
      message: `at most ${maxPageSize} rows per page`,
    })
  const rawRange = json('range', query.range, issues)
  let offset = 0
  let limit = Math.min(25, maxPageSize)
  if (rawRange !== undefined) {
    const parsed = rangeSchema.safeParse(rawRange)
    if (parsed.success) {
      offset = parsed.data[0]
      limit = parsed.data[1] - parsed.data[0] + 1
    } else issues.push(...zodIssues('range', parsed.error))
  }

  // Strict: a field outside the whitelist is an error, not silently ignored. Each is optional.
  const filterSchema = z.strictObject(spec.filters).partial()
  const rawFilter = json('filter', query.filter, issues)
  let filter: Partial<z.infer<z.ZodObject<F>>> = {}
  if (rawFilter !== undefined) {
    const parsed = filterSchema.safeParse(rawFilter)
    if (parsed.success) filter = parsed.data as Partial<z.infer<z.ZodObject<F>>>
    else issues.push(...zodIssues('filter', parsed.error))
  }

  if (issues.length) {
    throw new ApiError(400, 'INVALID_QUERY', 'Invalid list parameters', issues)
  }
  return { sort, offset, limit, filter }
}

/** Lists count exactly up to this many matching rows; beyond it, the total is an estimate. */
export const EXACT_TOTAL_CAP = 1000

/**
 * The total for `Content-Range`, bounded in cost. An exact `count(*)` visits every matching row
 * (hundreds of milliseconds at a million cases, whatever the page), so:
 * - a page shorter than asked is the end of the list: its total is exact and free;
 * - otherwise PostgreSQL's planner estimate for the same query (`EXPLAIN`, nothing executed) is
 *   taken when it is far past the cap (over 10 × {@link EXACT_TOTAL_CAP});
 * - otherwise rows are counted exactly up to the cap (`count(*)` over a subquery limited to
 *   cap + 1 rows, which stops early), and past it the estimate stands in.
 * A total is never below the rows already shown, and stays an integer because react-admin's simple
 * REST provider parses it as one. Lists up to the cap keep exact totals, unless the planner (with
 * current statistics) expects over ten times as many rows as there are.
 */
export async function boundedTotal<DB, TB extends keyof DB, O>(
  db: QueryExecutorProvider,
  query: SelectQueryBuilder<DB, TB, O>,
  page: { offset: number; limit: number; count: number },
): Promise<number> {
  const shown = page.offset + page.count
  if (page.count < page.limit && (page.count > 0 || page.offset === 0)) return shown
  const matching = query.clearSelect().select(sql<number>`1`.as('one'))
  const explained = await sql<Record<string, unknown>>`explain (format json) ${matching}`.execute(
    db,
  )
  const raw = Object.values(explained.rows[0] ?? {})[0]
  const plan = (typeof raw === 'string' ? JSON.parse(raw) : raw) as
    { Plan?: { 'Plan Rows'?: number } }[] | undefined
  const estimate = Math.round(plan?.[0]?.Plan?.['Plan Rows'] ?? 0)
  if (estimate > 10 * EXACT_TOTAL_CAP) return Math.max(estimate, shown)
  const counted = await sql<{ n: string }>`
    select count(*) as n from (${matching.limit(EXACT_TOTAL_CAP + 1)}) as capped`.execute(db)
  const exact = Number(counted.rows[0]?.n ?? 0)
  if (exact <= EXACT_TOTAL_CAP) return exact
  return Math.max(estimate, exact, shown)
}

/** Sets `Content-Range` for a page of `count` rows starting at `offset` out of `total`. */
export function setContentRange(
  c: Context,
  resource: string,
  offset: number,
  count: number,
  total: number,
): void {
  // An empty page has no first-last pair (RFC 9110 "*/total"); ra-data-simple-rest reads the total.
  const span = count === 0 ? '*' : `${offset}-${offset + count - 1}`
  c.header('Content-Range', `${resource} ${span}/${total}`)
}

/**
 * `defaultHook` of the API's OpenAPI routers: a request that fails its schema is answered in the
 * one error shape, naming each faulty field — 422 `INVALID_COMMAND` for a body, 400
 * `INVALID_QUERY` for parameters.
 */
export function validationHook(
  result: { target: string } & ({ success: true } | { success: false; error: z.ZodError }),
): void {
  if (result.success) return
  const details = result.error.issues.map((i) => ({
    path: i.path.map(String).join('.') || result.target,
    message: i.message,
  }))
  if (result.target === 'json') {
    throw new ApiError(422, 'INVALID_COMMAND', 'The request body has invalid fields', details)
  }
  throw new ApiError(400, 'INVALID_QUERY', 'Invalid request parameters', details)
}

/** A filter value given once or as a list, as a list (for `in`). */
export const asArray = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v])

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (ch) => `\\${ch}`)
/** A LIKE pattern for values starting with `s` (its wildcards escaped). */
export const startsWith = (s: string) => `${escapeLike(s)}%`
/** A LIKE pattern for values containing `s` (its wildcards escaped). */
export const contains = (s: string) => `%${escapeLike(s)}%`
