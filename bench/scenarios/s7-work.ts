import { randomUUID } from 'node:crypto'
import { Client, Connection } from '@temporalio/client'
import proto from '@temporalio/proto'
import { createApiToken } from '../../api/auth/sessions'
import { caseWorkflowId } from '../../workflows/messages'
import type { Bench } from '../lib/harness'
import { RAW_TASK_QUEUE } from '../lib/harness'
import type { Figure, ScenarioContext } from '../lib/report'
import { breakdownOf, minus, noWork, settled, shape, workOf, type Work } from '../lib/temporal-work'
import type { RawCaseSteps } from '../raw/workflows'
import { ratio, waitUntil } from './common'

/**
 * S7 Temporal work per command: what Temporal persists for each API command and for one
 * lifecycle of each case kind, counted by Temporal itself (`stateTransitionCount`, history
 * events, workflow tasks, activities, local activities), beside a raw workflow taking the same
 * human steps (start, one Update per step, one timer per waiting window, no activity) in the
 * same run. Cases are driven through the real API over HTTP, so the counts include whatever
 * the API causes (Queries are not persisted and do not count).
 *
 * Robust to the workflows changing: a command's work is the difference between two settled
 * points (nothing in flight), counted from the history; the next task is whatever open task the
 * read model shows, completed with the data its kind's form takes.
 */

const RUNNING =
  proto.temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING

/** Grievance categories whose policies S7 sets (no other scenario opens cases of them). */
const LIFECYCLE_CATEGORY = 'information_request'
const CONTESTED_CATEGORY = 'exclusion_error'
/** Long enough for the approval's work to settle before the window's timer fires. */
const APPEAL_WINDOW_SECONDS = 10
const COMMUNE = 'ML-2-KATI-KATI'
const AGENT = 'agent.kati.1'
const CERCLE = 'superviseur.cercle.kati'
const REGION = 'superviseur.region.koulikoro'
const HOUSEHOLD = 'RSU-0000003'

interface Measured {
  kind: string
  command: string
  /** A command opening a case, a command on an open case, or a timer firing (no command). */
  type: 'start' | 'command' | 'timer'
  work: Work
}

interface Lifecycle {
  kind: string
  path: string
  steps: RawCaseSteps
  work: Work
  breakdown: Awaited<ReturnType<typeof breakdownOf>>
}

/** The data each task kind's form takes on the main path; `by`: who completes it if unassigned. */
const FORMS: Record<string, { data: (caseCategory: string | null) => object; by?: string }> = {
  triage: {
    data: (category) => ({ category: category ?? 'other', sensitive: false, priority: 'normal' }),
  },
  investigation: {
    data: (category) => ({
      findings: 'Vérification faite auprès du service payeur et du ménage.',
      proposedResolution: category === CONTESTED_CATEGORY ? 'rejected' : 'upheld',
      changesEligibilityOrPayment: true,
    }),
  },
  approval: { data: () => ({ decision: 'approve' }), by: CERCLE },
  visit: {
    data: () => ({ outcome: 'visited', members: 6, variables: { rooms: 3, improved_roof: 1 } }),
  },
  follow_up: { data: () => ({ outcome: 'needs_met' }) },
  appeal_review: {
    data: () => ({ decision: 'partly', reasons: 'Les données du ciblage étaient incomplètes.' }),
    by: REGION,
  },
  implementation: { data: () => ({ action: 'payment_corrected' }), by: AGENT },
}

export async function s7Work(b: Bench, ctx: ScenarioContext) {
  const connection = await Connection.connect({ address: b.stack.temporal.address })
  const raw = new Client({ connection })
  try {
    await run(b, ctx, raw)
  } finally {
    await connection.close()
  }
}

async function run(b: Bench, ctx: ScenarioContext, raw: Client) {
  const measured: Measured[] = []
  const lifecycles: Lifecycle[] = []

  // Policies in seconds where a window is waited for; every other target stays far away (hours).
  const base = await b.db
    .selectFrom('slaPolicies')
    .select('targets')
    .where('caseKind', '=', 'grievance')
    .where('category', 'is', null)
    .executeTakeFirstOrThrow()
  await b.db
    .insertInto('slaPolicies')
    .values([
      {
        caseKind: 'grievance',
        category: LIFECYCLE_CATEGORY,
        priority: null,
        targets: { ...base.targets, appealWindow: APPEAL_WINDOW_SECONDS },
      },
      {
        caseKind: 'grievance',
        category: CONTESTED_CATEGORY,
        priority: null,
        targets: { ...base.targets, appealWindow: 3600 },
      },
    ])
    .execute()

  const users = new Map(
    (await b.db.selectFrom('users').select(['id', 'username']).execute()).map((u) => [
      u.username,
      u.id,
    ]),
  )
  const userId = (username: string) => {
    const id = users.get(username)
    if (!id) throw new Error(`no user ${username} in the demo seed`)
    return id
  }
  const partnerTokens = new Map<string, string>()
  const tokenOf = async (id: string) => {
    const token = b.tokenByUser.get(id) ?? partnerTokens.get(id)
    if (token) return token
    const created = await createApiToken(b.db, { name: 'bench S7', userId: id })
    partnerTokens.set(id, created.token)
    return created.token
  }

  const api = async (method: 'GET' | 'POST', path: string, username: string, body?: object) => {
    const res = await fetch(`${b.apiUrl}${path}`, {
      method,
      signal: AbortSignal.timeout(60_000),
      headers: {
        authorization: `Bearer ${await tokenOf(userId(username))}`,
        'content-type': 'application/json',
        ...(method === 'POST' ? { 'idempotency-key': randomUUID() } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    })
    const text = await res.text()
    if (res.status >= 300)
      throw new Error(`${method} ${path} as ${username}: ${res.status} ${text}`)
    return JSON.parse(text) as Record<string, unknown>
  }
  const usernameOf = (id: string) => [...users].find(([, v]) => v === id)?.[0] ?? id

  const workflowOf = (caseId: string) => caseWorkflowId(caseId)
  /** Runs one command on a settled case and records the work it caused until it settles. */
  const measure = async (
    kind: string,
    caseId: string,
    command: string,
    send: () => Promise<unknown>,
  ) => {
    const before = (await settled(b.client, workflowOf(caseId))).work
    const out = await send()
    const after = await settled(b.client, workflowOf(caseId))
    measured.push({ kind, command, type: 'command', work: minus(after.work, before) })
    return out
  }
  /** Runs a command that opens a case: its work is everything until the new case settles. */
  const measureStart = async (kind: string, command: string, open: () => Promise<string>) => {
    const caseId = await open()
    await waitUntil(
      `the row of ${caseId}`,
      async () => b.db.selectFrom('cases').select('id').where('id', '=', caseId).executeTakeFirst(),
      60_000,
      50,
    )
    const { work } = await settled(b.client, workflowOf(caseId))
    measured.push({ kind, command, type: 'start', work })
    return caseId
  }
  const openTasks = (caseId: string) =>
    b.db
      .selectFrom('tasks')
      .select(['id', 'kind', 'assigneeId'])
      .where('caseId', '=', caseId)
      .where('status', 'in', ['open', 'claimed'])
      .orderBy('createdAt')
      .execute()
  const caseRow = (caseId: string) =>
    b.db
      .selectFrom('cases')
      .select(['status', 'stage', 'category'])
      .where('id', '=', caseId)
      .executeTakeFirstOrThrow()

  /**
   * Completes the case's open tasks one by one, each with its form's data, until the case closes
   * or `until` holds (then it stays open, e.g. in its appeal window). Returns the human steps.
   */
  const drive = async (kind: string, caseId: string, until?: (stage: string) => boolean) => {
    let steps = 0
    for (;;) {
      const state = await settled(b.client, workflowOf(caseId), 180_000)
      const row = await caseRow(caseId)
      if (state.closed || row.status === 'closed') return steps
      if (until?.(row.stage)) return steps
      const [task] = await openTasks(caseId)
      if (!task) {
        // Waiting for a timer (the appeal window): its work runs to the next settled point.
        await waitUntil(
          `${caseId} to move on from ${row.stage}`,
          async () => {
            const d = await b.client.workflowService.describeWorkflowExecution({
              namespace: b.client.options.namespace,
              execution: { workflowId: workflowOf(caseId) },
            })
            const moved =
              d.pendingWorkflowTask ||
              d.workflowExecutionInfo?.status !== RUNNING ||
              (await openTasks(caseId)).length > 0
            return moved
          },
          180_000,
          50,
        )
        const next = await settled(b.client, workflowOf(caseId), 180_000)
        measured.push({
          kind,
          command: `${row.stage} ends (timer, no command)`,
          type: 'timer',
          work: minus(next.work, state.work),
        })
        continue
      }
      const form = FORMS[task.kind]
      if (!form) throw new Error(`S7 has no form data for a ${task.kind} task`)
      const by = form.by ?? (task.assigneeId ? usernameOf(task.assigneeId) : AGENT)
      await measure(kind, caseId, `complete ${task.kind}`, () =>
        api('POST', `/api/tasks/${task.id}/complete`, by, { data: form.data(row.category) }),
      )
      steps += 1
    }
  }
  const lifecycle = async (kind: string, path: string, caseId: string, steps: number) => {
    const { work } = await settled(b.client, workflowOf(caseId))
    const timers = kind === 'grievance' ? 1 : 0
    lifecycles.push({
      kind,
      path,
      steps: { updates: steps, timers, timerMs: timers ? APPEAL_WINDOW_SECONDS * 1000 : 0 },
      work,
      breakdown: await breakdownOf(b.client, workflowOf(caseId)),
    })
  }

  // 1. A grievance's lifecycle: public intake → triage → investigation → approval → appeal
  //    window → closed.
  const g1 = await measureStart('grievance', 'public intake', async () => {
    const receipt = await fetch(`${b.apiUrl}/api/public/grievances`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      // With an email, as most complainants who leave a contact: acknowledgement and outcome.
      body: JSON.stringify({
        communeCode: COMMUNE,
        category: LIFECYCLE_CATEGORY,
        narrative: 'Benchmark S7: le paiement de ce cycle n’a pas été reçu.',
        anonymous: false,
        contact: { email: 'plaignant.s7@exemple.ml' },
        locale: 'fr',
      }),
    })
    if (receipt.status !== 201) throw new Error(`public intake: ${receipt.status}`)
    const { reference } = (await receipt.json()) as { reference: string }
    const tracked = await b.db
      .selectFrom('caseTracking')
      .select('caseId')
      .where('reference', '=', reference)
      .executeTakeFirstOrThrow()
    return tracked.caseId
  })
  const g1Steps = await drive('grievance', g1)
  await lifecycle(
    'grievance',
    'public intake, triage, investigation, approval, appeal window, closed',
    g1,
    g1Steps,
  )

  // 2. Every other command on a grievance opened by staff, then withdrawn.
  const g2 = await measureStart('grievance', 'staff intake', async () => {
    const out = await api('POST', '/api/cases', AGENT, {
      communeCode: COMMUNE,
      channel: 'hotline',
      category: LIFECYCLE_CATEGORY,
      narrative: 'Benchmark S7: montant reçu inférieur au montant annoncé.',
      anonymous: true,
    })
    return String(out.caseId)
  })
  const [triage] = await openTasks(g2)
  if (!triage?.assigneeId) throw new Error('the staff intake opened no assigned triage task')
  const assignee = usernameOf(triage.assigneeId)
  const other = [...users.keys()].find((u) => u.startsWith('agent.kati.') && u !== assignee)
  const t = (verb: string) => `/api/tasks/${triage.id}/${verb}`
  const c = (verb: string) => `/api/cases/${g2}/${verb}`
  await measure('grievance', g2, 'unclaim task', () => api('POST', t('unclaim'), assignee, {}))
  await measure('grievance', g2, 'claim task', () => api('POST', t('claim'), assignee, {}))
  if (other)
    await measure('grievance', g2, 'reassign task', () =>
      api('POST', t('reassign'), CERCLE, { assigneeId: userId(other) }),
    )
  await measure('grievance', g2, 'note', () =>
    api('POST', c('notes'), CERCLE, { text: 'Appel du plaignant noté.' }),
  )
  await measure('grievance', g2, 'link', () =>
    api('POST', c('links'), CERCLE, { toCaseId: g1, kind: 'related' }),
  )
  await measure('grievance', g2, 'pause SLA', () =>
    api('POST', c('pause-sla'), CERCLE, { reason: 'waiting_complainant' }),
  )
  await measure('grievance', g2, 'resume SLA', () => api('POST', c('resume-sla'), CERCLE, {}))
  await measure('grievance', g2, 'extend SLA', () =>
    api('POST', c('extend-sla'), CERCLE, { byMs: 3_600_000, reason: 'Accès difficile.' }),
  )
  await measure('grievance', g2, 'withdraw', () =>
    api('POST', c('withdraw'), CERCLE, { reason: 'Le plaignant retire sa plainte.' }),
  )

  // 3. A re-verification: opened by a supervisor, visit, approval, registry write, closed.
  const rv = await measureStart('reverification', 'open re-verification', async () => {
    const out = await api('POST', '/api/reverifications', CERCLE, { householdId: HOUSEHOLD })
    return String(out.caseId ?? out.id)
  })
  await lifecycle(
    'reverification',
    'opened, visit, approval, registry written, closed',
    rv,
    await drive('reverification', rv),
  )

  // 4. A referral: created with consent, accepted and reported by the partner, followed up.
  let partner = ''
  const rf = await measureStart('referral', 'create referral', async () => {
    const out = await api('POST', '/api/referrals', AGENT, {
      areaCode: COMMUNE,
      serviceCode: 'cash_transfer',
      householdId: HOUSEHOLD,
      consent: { given: true, method: 'verbal' },
    })
    partner = `partenaire.${String(out.partnerCode)}`
    return String(out.id)
  })
  await measure('referral', rf, 'partner accepts', () =>
    api('POST', `/api/referrals/${rf}/accept`, partner, {}),
  )
  await measure('referral', rf, 'partner reports', () =>
    api('POST', `/api/referrals/${rf}/report`, partner, { outcome: 'delivered' }),
  )
  await lifecycle(
    'referral',
    'created, accepted, reported delivered, followed up, closed',
    rf,
    2 + (await drive('referral', rf)),
  )

  // 5. An appeal of a grievance outcome still in its window: independent review, partly
  //    overturned, implemented, closed.
  const g3 = await measureStart('grievance (contested)', 'staff intake', async () => {
    const out = await api('POST', '/api/cases', AGENT, {
      communeCode: COMMUNE,
      channel: 'in_person',
      category: CONTESTED_CATEGORY,
      narrative: 'Benchmark S7: ménage exclu de la liste des bénéficiaires.',
      anonymous: true,
    })
    return String(out.caseId)
  })
  await drive('grievance (contested)', g3, (stage) => stage === 'appeal_window')
  const ap = await measureStart('appeal', 'file appeal', async () => {
    const out = await api('POST', '/api/appeals', AGENT, {
      contestedCaseId: g3,
      grounds: 'Le ménage conteste la décision de rejet.',
    })
    return String(out.id)
  })
  await lifecycle(
    'appeal',
    'filed, independent review (partly), implementation, closed',
    ap,
    await drive('appeal', ap),
  )

  // The raw baselines, same run: a raw start and a raw Update, then one raw lifecycle per kind.
  const rawRun = async (steps: RawCaseSteps) => {
    const workflowId = `raw-case-${randomUUID()}`
    const handle = await raw.workflow.start('rawCaseWorkflow', {
      taskQueue: RAW_TASK_QUEUE,
      workflowId,
      args: [steps],
    })
    const started = (await settled(raw, workflowId)).work
    const updates: Work[] = []
    let before = started
    for (let i = 0; i < steps.updates; i++) {
      await handle.executeUpdate('step')
      const after = (await settled(raw, workflowId)).work
      updates.push(minus(after, before))
      before = after
    }
    await handle.result()
    return { started, updates, total: await workOf(raw, workflowId) }
  }
  const rawLifecycles: Awaited<ReturnType<typeof rawRun>>[] = []
  for (const l of lifecycles) rawLifecycles.push(await rawRun(l.steps))
  const rawStart = rawLifecycles[0]!.started
  const rawUpdate = rawLifecycles[0]!.updates[0] ?? noWork()

  // Figures: lifecycles against their raw twin, then each command.
  const figures: Figure[] = []
  lifecycles.forEach((l, i) => {
    const r = rawLifecycles[i]!.total
    const x = ratio(l.work.stateTransitions, r.stateTransitions)
    const grievance = l.kind === 'grievance'
    figures.push({
      name: `${l.kind} lifecycle: state transitions (${shape(l.work)})`,
      value: l.work.stateTransitions,
      baseline: {
        name: `raw, start + ${l.steps.updates} Updates + ${l.steps.timers} timer (${shape(r)})`,
        value: r.stateTransitions,
      },
      ratio: x,
      ...(grievance ? { target: '≤ 1.5 × raw', met: x <= 1.5 } : { met: null }),
    })
  })
  for (const m of measured) {
    if (m.type === 'timer') {
      figures.push({
        name: `${m.kind}: ${m.command} (${shape(m.work)})`,
        value: m.work.stateTransitions,
        met: null,
      })
    } else if (m.type === 'start') {
      const x = ratio(m.work.stateTransitions, rawStart.stateTransitions)
      figures.push({
        name: `${m.kind}: ${m.command} (${shape(m.work)})`,
        value: m.work.stateTransitions,
        baseline: { name: `raw start (${shape(rawStart)})`, value: rawStart.stateTransitions },
        ratio: x,
        target: '≤ 2 × raw start',
        met: x <= 2,
      })
    } else {
      figures.push({
        name: `${m.kind}: ${m.command} (${shape(m.work)})`,
        value: m.work.stateTransitions,
        baseline: { name: `raw Update (${shape(rawUpdate)})`, value: rawUpdate.stateTransitions },
        ratio: ratio(m.work.stateTransitions, rawUpdate.stateTransitions),
        target: '≤ 2',
        met: m.work.stateTransitions <= 2,
      })
    }
  }
  ctx.figures.push(...figures)
  const commands = measured.filter((m) => m.type === 'command')
  const worst = commands.reduce(
    (w, m) => (m.work.stateTransitions > w.work.stateTransitions ? m : w),
    commands[0]!,
  )
  ctx.notes.push(
    `state transitions from describeWorkflowExecution (every run of a continue-as-new chain summed); events, workflow tasks (WorkflowTaskCompleted), activities (ActivityTaskScheduled) and local activities (core_local_activity markers) from the histories; a command's work runs from the case settled before it to the case settled after it (nothing in flight)`,
    `commands: ${commands.length}, ${commands.filter((m) => m.work.stateTransitions <= 2).length} within 2 state transitions; the costliest: ${worst.kind} ${worst.command}, ${worst.work.stateTransitions}`,
    `raw start ${rawStart.stateTransitions} state transitions (${shape(rawStart)}); raw Update ${rawUpdate.stateTransitions} (${shape(rawUpdate)})`,
  )
  for (const l of lifecycles) {
    const w = l.work
    const by = Object.entries(l.breakdown.activities)
      .sort((x, y) => y[1] - x[1])
      .map(([name, n]) => `${name} ×${n}`)
      .join(', ')
    ctx.notes.push(
      `${l.kind} lifecycle: ${w.updates} Updates, ${w.signals} signals, timers ${w.timersStarted} started / ${w.timersFired} fired / ${w.timersCanceled} cancelled, ${w.searchAttributeUpserts} search-attribute upserts, ${w.runs} run(s); activities: ${by || 'none'}`,
    )
  }
  ctx.details.lifecycles = lifecycles.map((l, i) => ({ ...l, raw: rawLifecycles[i] }))
  ctx.details.commands = measured
  ctx.details.raw = { start: rawStart, update: rawUpdate }
}
