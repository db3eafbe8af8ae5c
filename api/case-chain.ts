import { z } from '@hono/zod-openapi'
import { sql } from 'kysely'
import type { Db } from '../activities/db/db'
import { visibleCases } from './access'
import type { AuthUser } from './auth/types'

/** How far the chain is followed from a case (a grievance → re-verification → appeal → …). */
const MAX_DEPTH = 10

export const CaseChainSchema = z
  .object({
    /** The linked cases the user may see, this one included, in opening order. */
    cases: z.array(
      z.object({
        id: z.string(),
        kind: z.string(),
        reference: z.string().nullable(),
        status: z.string(),
        stage: z.string(),
        openedAt: z.string().openapi({ format: 'date-time' }),
      }),
    ),
    /** Links between them: `spawned`, `appeal_of`, `duplicate_of`, `related`. */
    links: z.array(z.object({ fromCaseId: z.string(), toCaseId: z.string(), kind: z.string() })),
  })
  .openapi('CaseChain')
export type CaseChain = z.infer<typeof CaseChainSchema>

/**
 * The chain of cases linked to `caseId`, in both directions and transitively (a grievance, the
 * re-verification it spawned, the appeal of that decision, the re-verification the appeal
 * started…), as the console's case page shows it. Only cases the user may see are listed, and
 * only links between them: the chain never reveals a case out of scope.
 */
export async function caseChain(db: Db, user: AuthUser, caseId: string): Promise<CaseChain> {
  const { rows } = await sql<{ id: string }>`
    with recursive chain(id, depth) as (
      select ${caseId}::text, 0
      union
      select case when l.from_case_id = c.id then l.to_case_id else l.from_case_id end, c.depth + 1
      from case_links l join chain c on l.from_case_id = c.id or l.to_case_id = c.id
      where c.depth < ${MAX_DEPTH}
    )
    select distinct id from chain`.execute(db)
  const ids = rows.map((r) => r.id)
  const cases = await visibleCases(db, user)
    .select([
      'cases.id',
      'cases.kind',
      'cases.reference',
      'cases.status',
      'cases.stage',
      'cases.openedAt',
    ])
    .where('cases.id', 'in', ids)
    .orderBy('cases.openedAt')
    .orderBy('cases.id')
    .execute()
  const seen = cases.map((c) => c.id)
  const links = seen.length
    ? await db
        .selectFrom('caseLinks')
        .select(['fromCaseId', 'toCaseId', 'kind'])
        .where('fromCaseId', 'in', seen)
        .where('toCaseId', 'in', seen)
        .orderBy('createdAt')
        .execute()
    : []
  return {
    cases: cases.map((c) => ({ ...c, openedAt: new Date(c.openedAt).toISOString() })),
    links,
  }
}
