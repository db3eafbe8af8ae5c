import { randomBytes } from 'node:crypto'
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { Client } from '@temporalio/client'
import { contestedDecision } from '../../activities/appeals/activities'
import type { Db } from '../../activities/db/db'
import {
  appealViewQuery,
  type AppealState,
  type OpenAppealInput,
} from '../../workflows/kinds/appeal/messages'
import { caseWorkflowId, ErrorCode } from '../../workflows/messages'
import { actorFor, audit } from '../access'
import type { AppEnv } from '../auth/types'
import { ApiError } from '../errors'
import { idempotency } from '../idempotency'
import { validationHook } from '../lists'
import { errorResponses, IdempotencyHeader, idParam, isoDateTime, getRouteFor } from '../openapi'
import { refusal, temporalCall } from '../temporal-errors'
import { openCase } from '../cases/commands'
import { loadVisibleCase } from '../cases/service'
import { appealWorkflow } from '../../workflows/kinds/appeal/workflow'
import { CaseAreaKey, CaseKindKey, CasePriorityKey } from '../../workflows/search-attributes'
import { withoutHiddenCases } from '../case-redaction'

export interface AppealsDeps {
  db: Db
  temporal: Client
  taskQueue: string
}

const AppealCreateSchema = z
  .object({
    /** The grievance or re-verification whose decision the household contests. */
    contestedCaseId: z.string().regex(/^[A-Za-z0-9-]{1,64}$/),
    /** What the household says (kept in the encrypted case history only). */
    grounds: z.string().trim().min(10).max(5000),
    mode: z.enum(['single', 'committee']).default('single'),
    /** Committee: approvals needed (N of M). */
    committeeRequired: z.number().int().min(2).max(7).optional(),
  })
  .openapi('AppealCreate')

const AppealSchema = z
  .object({
    id: z.string(),
    reference: z.string().nullable(),
    contestedCaseId: z.string(),
    status: z.string(),
    stage: z.string(),
    mode: z.enum(['single', 'committee']),
    /** Until when the contested decision could be appealed. */
    windowEndsAt: isoDateTime.nullable(),
    decision: z
      .object({
        outcome: z.enum(['upheld', 'overturned', 'partly']),
        reasons: z.string(),
        decidedBy: z.string(),
        decidedAt: isoDateTime,
        approvedBy: z.array(z.string()),
      })
      .nullable(),
    implementationCaseId: z.string().nullable(),
  })
  .openapi('Appeal')

const createAppealRoute = createRoute({
  method: 'post',
  path: '/',
  tags: ['appeals'],
  summary: 'Register an appeal against a grievance outcome or an eligibility decision',
  description:
    'Refused with `APPEAL_WINDOW_CLOSED` (422) after the window, `WRONG_STAGE` (409) when ' +
    'nothing has been decided yet, and `APPEAL_ALREADY_OPEN` (409) while another is running.',
  request: {
    headers: IdempotencyHeader,
    body: { required: true, content: { 'application/json': { schema: AppealCreateSchema } } },
  },
  responses: {
    201: { description: 'The appeal', content: { 'application/json': { schema: AppealSchema } } },
    ...errorResponses(401, 403, 404, 409, 422, 503),
  },
})
const getRoute = getRouteFor(
  'appeals',
  'An appeal, with its decision once taken',
  idParam('AP-1a2b3c4d'),
  AppealSchema,
  'The appeal',
)

/**
 * Appeals (DESIGN §4): staff register a household's appeal against a decision they may see,
 * within the appeal window of that decision; the review and the committee's approvals are tasks
 * (`/api/tasks`), refused to anyone who took part in the contested decision. An appeal case is
 * scoped like any case (area, sensitivity) and linked to the case it contests.
 */
export function appealsRoutes(deps: AppealsDeps) {
  const { db, temporal } = deps
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
  app.on('POST', '/', idempotency({ db }))

  const view = async (id: string) =>
    viewOf(
      await temporalCall(() =>
        temporal.connection.withDeadline(Date.now() + 5_000, () =>
          temporal.workflow.getHandle(caseWorkflowId(id)).query(appealViewQuery),
        ),
      ),
    )
  const viewOf = async (live: AppealState) => {
    const window = await contestedDecision(db, live.contestedCaseId)
    return {
      id: live.caseId,
      reference: live.reference ?? null,
      contestedCaseId: live.contestedCaseId,
      status: live.status,
      stage: live.stage,
      mode: live.mode,
      windowEndsAt: window?.windowEndsAt ?? null,
      decision: live.decision ?? null,
      implementationCaseId: live.implementationCaseId ?? null,
    }
  }

  return app
    .openapi(createAppealRoute, async (c) => {
      const user = c.get('user')
      const body = c.req.valid('json')
      const { row: contested } = await loadVisibleCase(db, user, body.contestedCaseId)
      const actor = await actorFor(db, user, contested.areaCode)
      if (!actor || (actor.role !== 'case_worker' && actor.role !== 'supervisor')) {
        throw new ApiError(403, ErrorCode.NOT_ALLOWED, 'You do not register appeals in this area')
      }
      if (contested.kind !== 'grievance' && contested.kind !== 'reverification') {
        throw new ApiError(422, ErrorCode.INVALID_COMMAND, 'Only a decision can be appealed', [
          { path: 'contestedCaseId', message: 'a grievance or a re-verification' },
        ])
      }
      const decision = await contestedDecision(db, contested.id)
      if (!decision) {
        throw refusal(ErrorCode.WRONG_STAGE, 'Nothing has been decided on this case yet')
      }
      if (Date.now() > Date.parse(decision.windowEndsAt)) {
        throw refusal(
          ErrorCode.APPEAL_WINDOW_CLOSED,
          `The appeal window of this decision closed on ${decision.windowEndsAt}`,
          [{ path: 'contestedCaseId', message: `window closed at ${decision.windowEndsAt}` }],
        )
      }
      const running = await db
        .selectFrom('caseLinks')
        .innerJoin('cases', 'cases.id', 'caseLinks.fromCaseId')
        .select('cases.id')
        .where('caseLinks.toCaseId', '=', contested.id)
        .where('caseLinks.kind', '=', 'appeal_of')
        .where('cases.status', '=', 'open')
        .executeTakeFirst()
      if (running) {
        throw new ApiError(409, 'APPEAL_ALREADY_OPEN', 'An appeal of this decision is running', [
          { path: 'contestedCaseId', message: `appeal ${running.id}` },
        ])
      }
      const caseId = `AP-${randomBytes(4).toString('hex')}`
      const input: OpenAppealInput = {
        caseId,
        reference: caseId,
        contestedCaseId: contested.id,
        areaCode: contested.areaCode,
        sensitive: contested.sensitive,
        priority: contested.priority as OpenAppealInput['priority'],
        openedBy: actor,
        mode: body.mode,
        committeeRequired: body.committeeRequired,
        grounds: body.grounds,
      }
      // Answered once the review task exists and is projected, with the appeal's state.
      const { result } = await temporalCall(() =>
        openCase(temporal, appealWorkflow, {
          workflowId: caseWorkflowId(caseId),
          taskQueue: deps.taskQueue,
          args: [input],
          typedSearchAttributes: [
            { key: CaseKindKey, value: 'appeal' },
            { key: CaseAreaKey, value: input.areaCode },
            { key: CasePriorityKey, value: input.priority },
          ],
        }),
      )
      return c.json(await viewOf(result as AppealState), 201)
    })
    .openapi(getRoute, async (c) => {
      const user = c.get('user')
      const { row, actor } = await loadVisibleCase(db, user, c.req.valid('param').id)
      if (row.kind !== 'appeal') throw new ApiError(404, 'NOT_FOUND', 'Case not found')
      if (row.sensitive) {
        await audit(db, [{ userId: user.id, action: 'read', caseId: row.id, role: actor.role }])
      }
      // The contested and implementation cases are named only when this user may open them.
      return c.json(await withoutHiddenCases(db, user, await view(row.id)), 200)
    })
}
