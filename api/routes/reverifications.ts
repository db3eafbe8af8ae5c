import { reverificationCampaignWorkflow } from '../../workflows/kinds/reverification/campaign'
import { createHash, randomUUID } from 'node:crypto'
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { Client } from '@temporalio/client'
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client'
import { parse } from 'csv-parse/sync'
import type { Db } from '../../activities/db/db'
import { campaignCaseId } from '../../activities/reverification'
import { PRIORITIES, caseWorkflowId, type Priority } from '../../workflows/messages'
import {
  reverificationViewQuery,
  type ReverificationView,
} from '../../workflows/kinds/reverification/messages'
import { actorFor, areasWithin, caseAreas } from '../access'
import type { AppEnv, AuthUser } from '../auth/types'
import { ApiError } from '../errors'
import { idempotency } from '../idempotency'
import { validationHook } from '../lists'
import { errorResponses, IdempotencyHeader, idParam, isoDateTime, getRouteFor } from '../openapi'
import { temporalCall } from '../temporal-errors'
import { openCase } from '../cases/commands'
import { caseDto, CaseSchema, loadVisibleCase } from '../cases/service'
import { withoutHiddenCases } from '../case-redaction'
import { reverificationWorkflow } from '../../workflows/kinds/reverification/workflow'
import { CaseAreaKey, CaseKindKey, CasePriorityKey } from '../../workflows/search-attributes'

export interface ReverificationsDeps {
  db: Db
  temporal: Client
  /** Task queue of the case workflows (and of the campaign workflow). */
  taskQueue: string
  /** Where campaign re-verifications run; the case task queue unless set. */
  campaignTaskQueue?: string
}

const HOUSEHOLD_ID = /^[A-Za-z0-9-]{3,64}$/
/** A campaign is one upload: 1 MiB of CSV (the API's body limit) is some 80,000 households. */
const MAX_LINES = 100_000

const LineErrorSchema = z
  .object({
    line: z.number().int().openapi({ description: 'Line number in the file (1 = header)' }),
    code: z.enum([
      'MALFORMED_LINE',
      'MISSING_HOUSEHOLD_ID',
      'INVALID_HOUSEHOLD_ID',
      'DUPLICATE_HOUSEHOLD',
      'UNKNOWN_HOUSEHOLD',
    ]),
    message: z.string(),
  })
  .openapi('CampaignLineError')
type LineError = z.infer<typeof LineErrorSchema>

const CampaignSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    status: z.enum(['starting', 'started']),
    createdAt: isoDateTime,
    finishedAt: isoDateTime.nullable(),
    /** Lines of the file (the header excluded), then where they stand. */
    total: z.number().int(),
    pending: z.number().int(),
    started: z.number().int(),
    failed: z.number().int(),
    /** Every refused line, with its number and a stable code. */
    errors: z.array(LineErrorSchema),
  })
  .openapi('ReverificationCampaign')

const StartSchema = z
  .object({
    householdId: z.string().regex(HOUSEHOLD_ID),
    priority: z.enum(PRIORITIES).default('normal'),
  })
  .openapi('ReverificationStart')

const DetailSchema = CaseSchema.extend({
  live: z.unknown().nullable(),
  scores: z.array(
    z.object({
      visitNo: z.number().int(),
      score: z.number(),
      formulaVersion: z.string(),
      eligible: z.boolean(),
      scoredAt: isoDateTime,
    }),
  ),
  registryWrites: z.array(
    z.object({
      status: z.enum(['pending', 'sent', 'rejected']),
      attempts: z.number().int(),
      sentAt: isoDateTime.nullable(),
    }),
  ),
}).openapi('ReverificationDetail')

const startRoute = createRoute({
  method: 'post',
  path: '/',
  tags: ['reverifications'],
  summary: 'Re-verify one household (a supervisor or manager of its area)',
  request: {
    headers: IdempotencyHeader,
    body: { required: true, content: { 'application/json': { schema: StartSchema } } },
  },
  responses: {
    201: {
      description: 'Started: the new case',
      content: { 'application/json': { schema: z.object({ id: z.string(), caseId: z.string() }) } },
    },
    ...errorResponses(400, 401, 403, 404, 409, 422, 503),
  },
})

const getRoute = getRouteFor(
  'reverifications',
  'A re-verification: the case, its live state, its scores and registry writes',
  idParam('RV-0a1b2c3d4e5f6a7b'),
  DetailSchema,
  'The case',
)

const uploadRoute = createRoute({
  method: 'post',
  path: '/campaigns',
  tags: ['reverifications'],
  summary: 'Upload a campaign: a CSV of households (column `household_id`), one case each',
  description:
    'The body is the CSV itself (`text/csv`) or a `multipart/form-data` form whose `file` field ' +
    'holds it (and `name`, optionally). Valid lines start one re-verification each, in the ' +
    'background; refused lines are reported with their line number and a code, and change ' +
    'nothing. The same file uploaded again is the same campaign: nothing starts twice.',
  request: {
    headers: IdempotencyHeader,
    query: z.object({ name: z.string().max(120).optional() }),
    body: { required: true, content: { 'text/csv': { schema: z.string() } } },
  },
  responses: {
    201: {
      description: 'Created; the lines are being started',
      content: { 'application/json': { schema: CampaignSchema } },
    },
    200: {
      description: 'This file was uploaded before: that campaign, unchanged',
      content: { 'application/json': { schema: CampaignSchema } },
    },
    ...errorResponses(400, 401, 403, 413, 415, 422, 503),
  },
})

const campaignRoute = createRoute({
  method: 'get',
  path: '/campaigns/{id}',
  tags: ['reverifications'],
  summary: 'A campaign’s progress and its per-line error report',
  request: { params: idParam('CMP-0a1b2c3d4e5f') },
  responses: {
    200: { description: 'Progress', content: { 'application/json': { schema: CampaignSchema } } },
    ...errorResponses(401, 404),
  },
})

/**
 * Reads a campaign file line by line (a household id never spans lines), so that one malformed
 * line (a stray quote, a wrong number of columns) is reported alone and never swallows the
 * lines after it, as a whole-file parse would. The header needs a `household_id` column.
 */
export function readCampaignCsv(csv: string): {
  records: { record: Record<string, string>; line: number }[]
  malformed: LineError[]
} {
  const physical = csv.replace(/^\uFEFF/, '').split(/\r?\n/)
  const headerIndex = physical.findIndex((l) => l.trim() !== '')
  if (headerIndex < 0) return { records: [], malformed: [] }
  let header: string[]
  try {
    header = (parse(physical[headerIndex]!, { trim: true }) as string[][])[0]!.map((h) =>
      h.toLowerCase(),
    )
  } catch {
    throw new ApiError(422, 'CSV_INVALID', 'The first line is not a CSV header')
  }
  if (!header.includes('household_id')) {
    throw new ApiError(422, 'CSV_HEADER_MISSING', 'The header needs a `household_id` column')
  }
  const records: { record: Record<string, string>; line: number }[] = []
  const malformed: LineError[] = []
  for (let i = headerIndex + 1; i < physical.length; i++) {
    const text = physical[i]!
    if (text.trim() === '') continue
    const line = i + 1
    let fields: string[] | undefined
    try {
      const rows = parse(text, { trim: true }) as string[][]
      fields = rows.length === 1 && rows[0]!.length === header.length ? rows[0] : undefined
    } catch {
      fields = undefined
    }
    if (!fields) {
      malformed.push({
        line,
        code: 'MALFORMED_LINE',
        message: `not a CSV line of ${header.length} column(s) like the header`,
      })
      continue
    }
    records.push({ record: Object.fromEntries(header.map((h, k) => [h, fields[k]!])), line })
  }
  return { records, malformed }
}

const managerRoles = (user: AuthUser) =>
  user.roles.filter((r) => r.role === 'programme_manager' || r.role === 'supervisor')

const campaignNotFound = () => new ApiError(404, 'NOT_FOUND', 'Campaign not found')

/**
 * Household re-verification (DESIGN §4): a supervisor or manager re-verifies one household of
 * their areas, or uploads a campaign of thousands as CSV — lines checked one by one (a refused
 * line is reported by number and code and changes nothing), one case per valid line started in
 * the background with an id derived from campaign and household, the same file twice being the
 * same campaign. Progress and the error report are read back by the uploader (or any programme
 * manager). Cases themselves are read like every case, scoped by role × area.
 */
export function reverificationsRoutes(deps: ReverificationsDeps) {
  const { db, temporal } = deps
  const campaignQueue = deps.campaignTaskQueue ?? deps.taskQueue

  const startCampaignWorkflow = async (campaignId: string) => {
    try {
      await temporal.workflow.start(reverificationCampaignWorkflow, {
        workflowId: `campaign-${campaignId}`,
        taskQueue: deps.taskQueue,
        args: [{ campaignId }],
      })
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error
    }
  }

  const campaignView = async (id: string) => {
    const campaign = await db
      .selectFrom('campaigns')
      .select(['id', 'name', 'status', 'createdAt', 'finishedAt', 'createdBy'])
      .where('id', '=', id)
      .executeTakeFirst()
    if (!campaign) return undefined
    const counts = await db
      .selectFrom('campaignLines')
      .select(['status', (eb) => eb.fn.countAll<string>().as('n')])
      .where('campaignId', '=', id)
      .groupBy('status')
      .execute()
    const count = (status: string) => Number(counts.find((c) => c.status === status)?.n ?? 0)
    const errors = await db
      .selectFrom('campaignLines')
      .select(['lineNo', 'errorCode', 'errorMessage'])
      .where('campaignId', '=', id)
      .where('status', '=', 'failed')
      .orderBy('lineNo')
      .execute()
    return {
      createdBy: campaign.createdBy,
      body: {
        id: campaign.id,
        name: campaign.name,
        status: campaign.status,
        createdAt: campaign.createdAt.toISOString(),
        finishedAt: campaign.finishedAt ? new Date(campaign.finishedAt).toISOString() : null,
        total: count('pending') + count('started') + count('failed'),
        pending: count('pending'),
        started: count('started'),
        failed: count('failed'),
        errors: errors.map((e) => ({
          line: e.lineNo,
          code: e.errorCode as LineError['code'],
          message: e.errorMessage ?? '',
        })),
      },
    }
  }

  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
  app.on('POST', '/', idempotency({ db }))

  return app
    .openapi(startRoute, async (c) => {
      const user = c.get('user')
      const body = c.req.valid('json')
      const household = await db
        .selectFrom('households')
        .select(['id', 'areaCode'])
        .where('id', '=', body.householdId)
        .where('areaCode', 'in', areasWithin(db, caseAreas(user)))
        .executeTakeFirst()
      if (!household) throw new ApiError(404, 'NOT_FOUND', 'Household not found')
      const actor = await actorFor(db, user, household.areaCode)
      if (!actor || (actor.role !== 'supervisor' && actor.role !== 'programme_manager')) {
        throw new ApiError(403, 'NOT_ALLOWED', 'A supervisor or manager starts a re-verification')
      }
      const open = await db
        .selectFrom('cases')
        .select('id')
        .where('kind', '=', 'reverification')
        .where('householdId', '=', household.id)
        .where('status', '=', 'open')
        .executeTakeFirst()
      if (open) {
        throw new ApiError(409, 'REVERIFICATION_OPEN', 'This household is being re-verified', {
          caseId: open.id,
        })
      }
      const caseId = `RV-${randomUUID().replace(/-/g, '').slice(0, 16)}`
      // Answered once the household is read and the visit task exists (projected).
      await temporalCall(() =>
        openCase(temporal, reverificationWorkflow, {
          workflowId: caseWorkflowId(caseId),
          taskQueue: deps.taskQueue,
          args: [
            {
              caseId,
              householdId: household.id,
              areaCode: household.areaCode,
              trigger: 'manager',
              priority: body.priority as Priority,
              openedBy: actor,
            },
          ],
          typedSearchAttributes: [
            { key: CaseKindKey, value: 'reverification' },
            { key: CaseAreaKey, value: household.areaCode },
            { key: CasePriorityKey, value: body.priority },
          ],
        }),
      )
      return c.json({ id: caseId, caseId }, 201)
    })
    .openapi(uploadRoute, async (c) => {
      const user = c.get('user')
      if (managerRoles(user).length === 0) {
        throw new ApiError(403, 'NOT_ALLOWED', 'Supervisors and managers upload campaigns')
      }
      const type = c.req.header('content-type') ?? ''
      let csv: string
      let name = c.req.valid('query').name
      if (type.startsWith('multipart/form-data')) {
        const form = await c.req.parseBody()
        const file = form.file
        if (!(file instanceof File)) {
          throw new ApiError(422, 'INVALID_COMMAND', 'The form has no `file` field')
        }
        csv = await file.text()
        name = (typeof form.name === 'string' ? form.name : undefined) ?? name ?? file.name
      } else if (type.startsWith('text/csv') || type.startsWith('text/plain')) {
        csv = await c.req.text()
      } else {
        throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send text/csv or multipart/form-data')
      }
      const hash = createHash('sha256').update(csv).digest('hex')
      const existing = await db
        .selectFrom('campaigns')
        .select(['id', 'status'])
        .where('contentHash', '=', hash)
        .executeTakeFirst()
      if (existing) {
        // The same file again: the same campaign. Its workflow is (re)started only if an earlier
        // upload was recorded while Temporal could not be reached; it starts no line twice.
        if (existing.status === 'starting') {
          await temporalCall(() => startCampaignWorkflow(existing.id))
        }
        return c.json((await campaignView(existing.id))!.body, 200)
      }

      const { records, malformed } = readCampaignCsv(csv)
      if (records.length + malformed.length > MAX_LINES) {
        throw new ApiError(422, 'CSV_TOO_LONG', `At most ${MAX_LINES} lines per campaign`)
      }
      if (records.length === 0 && malformed.length === 0) {
        throw new ApiError(422, 'CSV_EMPTY', 'The file has no household')
      }

      // Households the uploader may re-verify, in one query.
      const ids = [
        ...new Set(
          records.map((r) => r.record.household_id ?? '').filter((id) => HOUSEHOLD_ID.test(id)),
        ),
      ]
      const known = new Map<string, string>()
      for (let i = 0; i < ids.length; i += 5_000) {
        const rows = await db
          .selectFrom('households')
          .select(['id', 'areaCode'])
          .where('id', 'in', ids.slice(i, i + 5_000))
          .where(
            'areaCode',
            'in',
            areasWithin(
              db,
              managerRoles(user).map((r) => r.areaCode),
            ),
          )
          .execute()
        for (const row of rows) known.set(row.id, row.areaCode)
      }

      const campaignId = `CMP-${hash.slice(0, 12)}`
      const seen = new Set<string>()
      const lines = records.map(({ record, line }) => {
        const householdId = record.household_id ?? ''
        const refuse = (code: LineError['code'], message: string) => ({
          campaignId,
          lineNo: line,
          householdId: null,
          areaCode: null,
          caseId: null,
          status: 'failed' as const,
          errorCode: code,
          errorMessage: message,
        })
        if (!householdId) return refuse('MISSING_HOUSEHOLD_ID', 'no household_id')
        if (!HOUSEHOLD_ID.test(householdId)) {
          return refuse('INVALID_HOUSEHOLD_ID', 'a household id is 3 to 64 letters, digits or "-"')
        }
        if (seen.has(householdId)) {
          return refuse('DUPLICATE_HOUSEHOLD', 'this household is on an earlier line')
        }
        const areaCode = known.get(householdId)
        if (!areaCode) {
          return refuse('UNKNOWN_HOUSEHOLD', 'no such household in your areas')
        }
        seen.add(householdId)
        return {
          campaignId,
          lineNo: line,
          householdId,
          areaCode,
          caseId: campaignCaseId(campaignId, householdId),
          status: 'pending' as const,
          errorCode: null,
          errorMessage: null,
        }
      })
      for (const error of malformed) {
        lines.push({
          campaignId,
          lineNo: error.line,
          householdId: null,
          areaCode: null,
          caseId: null,
          status: 'failed',
          errorCode: error.code,
          errorMessage: error.message,
        })
      }
      lines.sort((a, b) => a.lineNo - b.lineNo)

      const inserted = await db.transaction().execute(async (trx) => {
        const row = await trx
          .insertInto('campaigns')
          .values({
            id: campaignId,
            contentHash: hash,
            name: (name ?? `campagne ${new Date().toISOString().slice(0, 10)}`).slice(0, 120),
            createdBy: user.id,
            taskQueue: campaignQueue,
          })
          // Two uploads of one file at once: one campaign, the other answers with it.
          .onConflict((oc) => oc.doNothing())
          .returning('id')
          .executeTakeFirst()
        if (!row) return false
        for (let i = 0; i < lines.length; i += 2_000) {
          await trx
            .insertInto('campaignLines')
            .values(lines.slice(i, i + 2_000))
            .execute()
        }
        return true
      })
      if (inserted && lines.some((l) => l.status === 'pending')) {
        await temporalCall(() => startCampaignWorkflow(campaignId))
      } else if (inserted) {
        await db
          .updateTable('campaigns')
          .set({ status: 'started', finishedAt: new Date() })
          .where('id', '=', campaignId)
          .execute()
      }
      return c.json((await campaignView(campaignId))!.body, inserted ? 201 : 200)
    })
    .openapi(campaignRoute, async (c) => {
      const user = c.get('user')
      const view = await campaignView(c.req.valid('param').id)
      const manager = user.roles.some((r) => r.role === 'programme_manager')
      if (!view || (view.createdBy !== user.id && !manager)) throw campaignNotFound()
      return c.json(view.body, 200)
    })
    .openapi(getRoute, async (c) => {
      const user = c.get('user')
      const { row } = await loadVisibleCase(db, user, c.req.valid('param').id)
      if (row.kind !== 'reverification') throw new ApiError(404, 'NOT_FOUND', 'Case not found')
      // A workflow that cannot answer quickly (no worker, still opening) falls back to the rows.
      const live: ReverificationView | null = await temporal.connection
        .withDeadline(Date.now() + 3_000, () =>
          temporal.workflow.getHandle(caseWorkflowId(row.id)).query(reverificationViewQuery),
        )
        .catch(() => null)
      // Read-your-writes: the row catches up with the sequence the workflow answered (briefly).
      const deadline = Date.now() + 2_000
      let fresh = row
      while (live && fresh.lastEventSeq < live.seq && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 25))
        fresh = await db
          .selectFrom('cases')
          .selectAll()
          .where('id', '=', row.id)
          .executeTakeFirstOrThrow()
      }
      const scores = await db
        .selectFrom('householdScores')
        .select(['visitNo', 'score', 'formulaVersion', 'eligible', 'scoredAt'])
        .where('caseId', '=', row.id)
        .orderBy('visitNo')
        .execute()
      const writes = await db
        .selectFrom('registryWrites')
        .select(['status', 'attempts', 'sentAt'])
        .where('caseId', '=', row.id)
        .orderBy('createdAt')
        .execute()
      // The parent case (a grievance, an appeal) is named only when this user may open it.
      return c.json(
        await withoutHiddenCases(db, user, {
          ...caseDto(fresh),
          live: live
            ? {
                stage: live.stage,
                status: live.status,
                seq: live.seq,
                sla: live.sla,
                tasks: live.tasks,
                attempts: live.attempts,
                proposal: live.proposal ?? null,
                formulaVersion: live.formula?.version ?? null,
                nextVisitAt: live.nextVisitAt ?? null,
                reviewReason: live.reviewReason ?? null,
              }
            : null,
          scores: scores.map((s) => ({
            ...s,
            score: Number(s.score),
            scoredAt: new Date(s.scoredAt).toISOString(),
          })),
          registryWrites: writes.map((w) => ({
            ...w,
            sentAt: w.sentAt ? new Date(w.sentAt).toISOString() : null,
          })),
        }),
        200,
      )
    })
}
