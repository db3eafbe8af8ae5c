import { OpenAPIHono, z } from '@hono/zod-openapi'
import type { Client } from '@temporalio/client'
import { sql } from 'kysely'
import type { Db } from '../../activities/db/db'
import {
  caseWorkflowId,
  claimTaskUpdate,
  completeTaskUpdate,
  reassignTaskUpdate,
  unclaimTaskUpdate,
  type Actor,
  type ClaimTaskCommand,
  type CompleteTaskCommand,
  type ReassignTaskCommand,
} from '../../workflows/messages'
import { actorFor, areasWithin, audit, caseAreas, visibleTasks, within } from '../access'
import type { AppEnv, AuthUser } from '../auth/types'
import { ApiError } from '../errors'
import { idempotency } from '../idempotency'
import {
  listQuerySchema,
  oneOrMany,
  parseListQuery,
  setContentRange,
  boundedTotal,
  validationHook,
  type ListSpec,
  asArray,
} from '../lists'
import { temporalCall } from '../temporal-errors'
import { commandBody, settleLegacy, splitAnswer } from '../cases/commands'
import { deny } from '../cases/service'
import { commandRoutes, getRouteFor, idParam, isoDateTime, listRouteFor } from '../openapi'

export interface TasksDeps {
  db: Db
  temporal: Client
  taskQueue: string
}

const iso = isoDateTime

export const TaskSchema = z
  .object({
    id: z.string(),
    caseId: z.string(),
    kind: z.string(),
    status: z.enum(['open', 'claimed', 'completed', 'cancelled']),
    candidateRole: z.string(),
    areaCode: z.string(),
    assigneeId: z.string().nullable(),
    dueAt: iso.nullable(),
    createdAt: iso,
    completedAt: iso.nullable(),
    completedBy: z.string().nullable(),
    /** The completed form's codes (free text stays in the workflow's encrypted history). */
    result: z.unknown(),
    escalationLevel: z.number().int().nullable(),
    caseReference: z.string().nullable(),
    caseStage: z.string(),
    casePriority: z.string(),
    sensitive: z.boolean(),
  })
  .openapi('Task')
type TaskDto = z.infer<typeof TaskSchema>

const TaskCommandResultSchema = z
  .object({ task: TaskSchema, result: z.unknown() })
  .openapi('TaskCommandResult')

const IdParam = idParam('G-1a2b3c4d-T1')

const taskList = {
  resource: 'tasks',
  sortable: ['dueAt', 'createdAt', 'completedAt', 'status', 'kind', 'id'],
  // SLA urgency first: the task due soonest on top.
  defaultSort: { field: 'dueAt', order: 'ASC' },
  filters: {
    id: oneOrMany(z.string().max(80)),
    /** Tasks assigned to me. */
    mine: z.boolean(),
    /** Tasks whose area is within an area where I hold a role. */
    team: z.boolean(),
    status: oneOrMany(z.enum(['open', 'claimed', 'completed', 'cancelled'])),
    kind: oneOrMany(z.string().regex(/^[a-z_]{1,40}$/)),
    caseId: z.string().max(64),
    assigneeId: z.uuid(),
  },
} satisfies ListSpec<z.ZodRawShape>

const toIso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString())

const taskColumns = [
  'tasks.id',
  'tasks.caseId',
  'tasks.kind',
  'tasks.status',
  'tasks.candidateRole',
  'tasks.areaCode',
  'tasks.assigneeId',
  'tasks.dueAt',
  'tasks.createdAt',
  'tasks.completedAt',
  'tasks.completedBy',
  'tasks.result',
  'tasks.escalationLevel',
  'cases.reference as caseReference',
  'cases.stage as caseStage',
  'cases.priority as casePriority',
  'cases.sensitive',
  'cases.areaCode as caseAreaCode',
] as const

type TaskRow = {
  id: string
  caseId: string
  kind: string
  status: TaskDto['status']
  candidateRole: string
  areaCode: string
  assigneeId: string | null
  dueAt: Date | null
  createdAt: Date
  completedAt: Date | null
  completedBy: string | null
  result: unknown
  escalationLevel: number | null
  caseReference: string | null
  caseStage: string
  casePriority: string
  sensitive: boolean
}

function taskDto(row: TaskRow): TaskDto {
  return {
    id: row.id,
    caseId: row.caseId,
    kind: row.kind,
    status: row.status,
    candidateRole: row.candidateRole,
    areaCode: row.areaCode,
    assigneeId: row.assigneeId,
    dueAt: toIso(row.dueAt),
    createdAt: toIso(row.createdAt)!,
    completedAt: toIso(row.completedAt),
    completedBy: row.completedBy,
    result: row.result ?? null,
    escalationLevel: row.escalationLevel,
    caseReference: row.caseReference,
    caseStage: row.caseStage,
    casePriority: row.casePriority,
    sensitive: row.sensitive,
  }
}

const taskNotFound = () => new ApiError(404, 'NOT_FOUND', 'Task not found')

const listRoute = listRouteFor(
  'tasks',
  'Tasks of the cases the user may see: mine, my team’s (react-admin conventions)',
  listQuerySchema,
  TaskSchema,
)

const getRoute = getRouteFor('tasks', 'A task', IdParam, TaskSchema, 'The task')

const command = commandRoutes('tasks', IdParam, TaskCommandResultSchema)

// The task id comes from the path, the actor from the session: the rest is the Update's argument.
const claimRoute = command(
  'claim',
  'Take the task',
  commandBody<ClaimTaskCommand, 'taskId'>()(z.object({})),
)
const unclaimRoute = command(
  'unclaim',
  'Give the task back to the pool',
  commandBody<ClaimTaskCommand, 'taskId'>()(z.object({})),
)
const reassignRoute = command(
  'reassign',
  'Assign the task to someone else (a supervisor)',
  commandBody<ReassignTaskCommand, 'taskId'>()(z.object({ assigneeId: z.uuid() })),
)
const completeRoute = command(
  'complete',
  "Complete the task with its form (validated against the task kind's schema)",
  commandBody<CompleteTaskCommand, 'taskId'>()(
    z.object({ data: z.record(z.string(), z.unknown()) }),
  ),
)

/**
 * Human tasks (DESIGN §3, §6): a task is visible exactly when its case is; `mine` and `team`
 * narrow the inbox; claim, unclaim, reassign and complete are Updates of the case's workflow,
 * with an `Actor` built from the signed-in user, mapped to HTTP by `temporal-errors`, and
 * answered once accepted and projected. Writes honour `Idempotency-Key`.
 */
export function tasksRoutes(deps: TasksDeps) {
  const { db, temporal } = deps

  const loadVisibleTask = async (user: AuthUser, taskId: string) => {
    const row = await visibleTasks(db, user)
      .select(taskColumns)
      .where('tasks.id', '=', taskId)
      .executeTakeFirst()
    if (!row) return deny(db, user, { taskId }, taskNotFound)
    const actor = await actorFor(db, user, row.caseAreaCode)
    if (!actor) return deny(db, user, { taskId }, taskNotFound)
    return { row, actor }
  }

  const reload = async (taskId: string) =>
    db
      .selectFrom('tasks')
      .innerJoin('cases', 'cases.id', 'tasks.caseId')
      .select(taskColumns)
      .where('tasks.id', '=', taskId)
      .executeTakeFirstOrThrow()

  const run = async (
    user: AuthUser,
    taskId: string,
    exec: (actor: Actor, row: TaskRow & { caseAreaCode: string }) => Promise<unknown>,
  ) => {
    const { row, actor } = await loadVisibleTask(user, taskId)
    const { projected, result } = splitAnswer(await temporalCall(() => exec(actor, row)))
    // The kernel answers with the rows its projection wrote; a case opened before it is awaited.
    const task = projected?.tasks.find((t) => t.id === taskId)
    if (projected?.case && task) {
      const c = projected.case
      return {
        task: taskDto({
          ...task,
          status: task.status as TaskRow['status'],
          caseReference: c.reference,
          caseStage: c.stage,
          casePriority: c.priority,
          sensitive: c.sensitive,
        }),
        result: result ?? null,
      }
    }
    await settleLegacy(db, temporal, row.caseId)
    return { task: taskDto(await reload(taskId)), result: result ?? null }
  }
  const handle = (caseId: string) => temporal.workflow.getHandle(caseWorkflowId(caseId))

  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
  app.on('POST', '/:id/*', idempotency({ db }))

  return app
    .openapi(listRoute, async (c) => {
      const user = c.get('user')
      const { sort, offset, limit, filter } = parseListQuery(taskList, c.req.query())
      let query = visibleTasks(db, user)
      if (filter.id !== undefined) query = query.where('tasks.id', 'in', asArray(filter.id))
      if (filter.mine) query = query.where('tasks.assigneeId', '=', user.id)
      if (filter.team) {
        query = query.where('tasks.areaCode', 'in', areasWithin(db, caseAreas(user)))
      }
      if (filter.status !== undefined)
        query = query.where('tasks.status', 'in', asArray(filter.status))
      if (filter.kind !== undefined) query = query.where('tasks.kind', 'in', asArray(filter.kind))
      if (filter.caseId !== undefined) query = query.where('tasks.caseId', '=', filter.caseId)
      if (filter.assigneeId !== undefined)
        query = query.where('tasks.assigneeId', '=', filter.assigneeId)
      const rows = await query
        .select(taskColumns)
        // sort.field is one of taskList.sortable (checked by parseListQuery): a safe column name.
        .orderBy(sql.ref(`tasks.${sort.field}`), (ob) =>
          sort.order === 'ASC' ? ob.asc().nullsLast() : ob.desc().nullsLast(),
        )
        .orderBy('tasks.id')
        .offset(offset)
        .limit(limit)
        .execute()
      // Tasks of sensitive cases seen in a list are audited like the cases themselves.
      await audit(
        db,
        rows
          .filter((r) => r.sensitive)
          .map((r) => ({
            userId: user.id,
            action: 'list' as const,
            caseId: r.caseId,
            taskId: r.id,
          })),
      )
      // Exact up to EXACT_TOTAL_CAP matching tasks, the planner's estimate past it (boundedTotal).
      const total = await boundedTotal(db, query, { offset, limit, count: rows.length })
      setContentRange(c, 'tasks', offset, rows.length, total)
      return c.json(rows.map(taskDto), 200)
    })
    .openapi(getRoute, async (c) => {
      const user = c.get('user')
      const { row, actor } = await loadVisibleTask(user, c.req.valid('param').id)
      if (row.sensitive) {
        await audit(db, [
          { userId: user.id, action: 'read', caseId: row.caseId, taskId: row.id, role: actor.role },
        ])
      }
      return c.json(taskDto(row), 200)
    })
    .openapi(claimRoute, async (c) => {
      const id = c.req.valid('param').id
      const out = await run(c.get('user'), id, (actor, row) =>
        handle(row.caseId).executeUpdate(claimTaskUpdate, { args: [{ taskId: id, actor }] }),
      )
      return c.json(out, 200)
    })
    .openapi(unclaimRoute, async (c) => {
      const id = c.req.valid('param').id
      const out = await run(c.get('user'), id, (actor, row) =>
        handle(row.caseId).executeUpdate(unclaimTaskUpdate, { args: [{ taskId: id, actor }] }),
      )
      return c.json(out, 200)
    })
    .openapi(reassignRoute, async (c) => {
      const id = c.req.valid('param').id
      const { assigneeId } = c.req.valid('json')
      const out = await run(c.get('user'), id, async (actor, row) => {
        if (actor.role === 'supervisor') await assertCanHold(db, assigneeId, row)
        return handle(row.caseId).executeUpdate(reassignTaskUpdate, {
          args: [{ taskId: id, assigneeId, actor }],
        })
      })
      return c.json(out, 200)
    })
    .openapi(completeRoute, async (c) => {
      const id = c.req.valid('param').id
      const { data } = c.req.valid('json')
      const out = await run(c.get('user'), id, (actor, row) =>
        handle(row.caseId).executeUpdate(completeTaskUpdate, {
          args: [{ taskId: id, actor, data }],
        }),
      )
      return c.json(out, 200)
    })
}

/**
 * A task goes only to an active user holding its role in an area containing the task's area,
 * with clearance when the case is sensitive: a reassignment never hands a case to someone who
 * could not see it.
 */
async function assertCanHold(
  db: Db,
  assigneeId: string,
  task: { candidateRole: string; areaCode: string; sensitive: boolean },
): Promise<void> {
  const ok = await db
    .selectFrom('users as u')
    .innerJoin('userRoles as ur', 'ur.userId', 'u.id')
    .innerJoin('adminAreas as ra', 'ra.code', 'ur.areaCode')
    .innerJoin('adminAreas as ta', (join) => join.on('ta.code', '=', task.areaCode))
    .select('u.id')
    .where('u.id', '=', assigneeId)
    .where('u.active', '=', true)
    .where('ur.roleCode', '=', task.candidateRole as 'case_worker')
    .where(within('ta', 'ra'))
    .$if(task.sensitive, (q) => q.where('u.sensitiveClearance', '=', true))
    .executeTakeFirst()
  if (!ok) {
    throw new ApiError(422, 'INVALID_COMMAND', 'This person cannot hold this task', [
      {
        path: 'assigneeId',
        message: 'an active user with the task’s role in its area (and clearance if sensitive)',
      },
    ])
  }
}
