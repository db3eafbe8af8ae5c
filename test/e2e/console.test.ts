import type { WorkflowHandle } from '@temporalio/client'
import { URI } from 'otpauth'
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { DEMO_PASSWORD } from '../../activities/db/seed'
import {
  caseWorkflowId,
  completeTaskUpdate,
  grievanceViewQuery,
  type OpenCaseInput,
} from '../../workflows/messages'
import {
  screenshot,
  shootOnFailure,
  startBrowserStack,
  takeCspViolations,
  watchPage,
  type BrowserStack,
} from '../helpers/browser'
import { grievanceInput } from '../helpers/fixtures'
import { eventually } from '../helpers/temporal'

/**
 * The console on the real stack, as its users live it: a case worker signs in and completes the
 * investigation assigned to them, proposing a resolution that changes a payment; the cercle's
 * supervisor (second factor enrolled at first sign-in) approves it; the case closes, and the
 * programme manager's dashboard shows one case fewer waiting.
 */
let stack: BrowserStack
let caseId: string
let reference: string
let investigator: string

async function open(input: OpenCaseInput): Promise<WorkflowHandle> {
  return stack.client.workflow.start('grievanceWorkflow', {
    workflowId: caseWorkflowId(input.caseId),
    taskQueue: stack.worker.taskQueue,
    args: [input],
  })
}

/** A new browser (own cookies) signed in as `username`, the second factor enrolled when asked. */
async function signIn(browser: Browser, username: string, shot?: string): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    locale: 'fr-FR',
    timezoneId: 'Africa/Bamako',
  })
  const page = watchPage(await context.newPage())
  await page.goto(`${stack.url}/admin/`)
  await page.getByTestId('sign-in-username').fill(username)
  await page.getByTestId('sign-in-password').fill(DEMO_PASSWORD)
  if (shot) await screenshot(page, shot)
  await page.getByTestId('sign-in-submit').click()
  // Supervisors and managers enrol an authenticator app at their first sign-in.
  const enrol = page.getByTestId('sign-in-totp-uri')
  const signedIn = page.getByTestId(/^menu-/).first()
  await Promise.race([enrol.waitFor(), signedIn.waitFor()])
  if (await enrol.isVisible()) {
    const totp = URI.parse((await enrol.textContent()) ?? '')
    await page.getByTestId('sign-in-code').fill(totp.generate())
    await page.getByTestId('sign-in-code-submit').click()
  }
  await signedIn.waitFor()
  return page
}

/** The count the dashboard shows for cases opened this week and still open. */
async function backlogFigure(page: Page): Promise<string> {
  await page.goto(`${stack.url}/admin/dashboard`)
  const cell = page.getByTestId('figure-backlog-0-7')
  await cell.waitFor()
  return (await cell.textContent()) ?? ''
}

const openCases = async () =>
  Number(
    (
      await stack.tdb.db
        .selectFrom('cases')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('status', '<>', 'closed')
        .executeTakeFirstOrThrow()
    ).n,
  )

beforeAll(async () => {
  stack = await startBrowserStack(['console'])
  // Three other grievances waiting in Kati, so that the backlog is large enough to be shown
  // (counts under 3 are suppressed) before and after our case closes.
  for (let i = 0; i < 3; i++) await open(grievanceInput({ channel: 'hotline' }))
  const input = grievanceInput({ channel: 'hotline', category: 'payment_not_received' })
  caseId = input.caseId
  reference = input.reference!
  const handle = await open(input)
  // Triage is done (by agent.kati.1); the investigation goes to the least-loaded case worker.
  // Triage is done by the case worker it went to; the investigation then goes to the least-loaded
  // case worker of the commune.
  const triage = await eventually(
    async () => {
      // Right after the start, the case may still be loading its policy.
      const view = await handle.query(grievanceViewQuery).catch(() => undefined)
      return view?.tasks.find((t) => t.kind === 'triage' && t.assigneeId)
    },
    { what: 'the triage task' },
  )
  await handle.executeUpdate(completeTaskUpdate, {
    args: [
      {
        taskId: triage.id,
        actor: { userId: triage.assigneeId, role: 'case_worker', clearance: false },
        data: { category: 'payment_not_received', sensitive: false, priority: 'normal' },
      },
    ],
  })
  investigator = await eventually(
    async () => {
      const row = await stack.tdb.db
        .selectFrom('tasks')
        .innerJoin('users', 'users.id', 'tasks.assigneeId')
        .select('users.username')
        .where('tasks.caseId', '=', caseId)
        .where('tasks.kind', '=', 'investigation')
        .where('tasks.status', 'in', ['open', 'claimed'])
        .executeTakeFirst()
      return row?.username
    },
    { what: 'the investigation assigned' },
  )
})
afterEach(shootOnFailure)
// The pages run under the strict CSP (api/security-headers.ts): nothing of theirs is blocked.
afterEach(() => expect(takeCspViolations()).toEqual([]))
afterAll(async () => {
  await stack?.stop()
})

describe('the console: a task completed, approved, and seen on the dashboard', () => {
  let manager: Page
  let caseWorker: Page
  let before = 0

  it('shows the programme manager the backlog of open cases', async () => {
    manager = await signIn(stack.browser, 'gestionnaire')
    before = await openCases()
    expect(before).toBeGreaterThanOrEqual(4)
    expect(await backlogFigure(manager)).toBe(String(before))
  })

  it('lets the case worker complete the investigation assigned to them', async () => {
    const page = await signIn(stack.browser, investigator, 'console-sign-in')
    await page.getByTestId('menu-my-tasks').click()
    const row = page.locator('[data-testid="task-row"][data-task-kind="investigation"]')
    await row.filter({ hasText: reference }).waitFor()
    await screenshot(page, 'console-my-tasks')

    await row.filter({ hasText: reference }).click()
    await page
      .getByTestId('form-findings')
      .fill('Le ménage figure sur la liste de paie mais le paiement du trimestre a échoué.')
    await page.getByTestId('form-resolution').click()
    await page.getByRole('option', { name: 'Fondée', exact: true }).click()
    await page.getByLabel("Change l'éligibilité ou le paiement (approbation requise)").check()
    await page.getByTestId('task-complete').click()
    // Back on Mes tâches, the task is gone from the list.
    await page.waitForURL(/#\/tasks(\?|$)/)
    await row.filter({ hasText: reference }).waitFor({ state: 'detached' })

    // The workflow took it: the case now waits for a supervisor's approval.
    await eventually(
      () =>
        stack.tdb.db
          .selectFrom('tasks')
          .select('id')
          .where('caseId', '=', caseId)
          .where('kind', '=', 'approval')
          .where('status', 'in', ['open', 'claimed'])
          .executeTakeFirst(),
      { what: 'the approval task' },
    )
    caseWorker = page
  })

  it('shows the case worker the case, from the list of cases', async () => {
    const page = caseWorker
    await page.getByTestId('menu-cases').click()
    await page.locator(`[data-testid="case-row"][data-case-id="${caseId}"]`).click()
    await page.getByTestId('case-reference').filter({ hasText: reference }).waitFor()
    await page.getByTestId('case-timeline').waitFor()
  })

  it('opens the same case page from its address: stage, tasks, timeline', async () => {
    // Opened from its address (as from the link in a notification email), the page reloaded.
    const page = caseWorker
    await page.goto(`${stack.url}/admin/#/cases/${encodeURIComponent(caseId)}/show`)
    await page.reload()
    await page.getByTestId('case-reference').filter({ hasText: reference }).waitFor()
    await page.getByTestId('case-timeline').waitFor()
    await screenshot(page, 'console-case')
    await page.context().close()
  })

  it('lets the supervisor approve it, and the case closes', async () => {
    const page = await signIn(stack.browser, 'superviseur.cercle.kati')
    await page.getByTestId('menu-approvals').click()
    const row = page.getByTestId('approval-row').filter({ hasText: reference })
    await row.waitFor()
    await screenshot(page, 'console-approvals')
    await row.getByTestId('approval-approve').click()
    await row.waitFor({ state: 'detached' })
    const closed = await eventually(
      () =>
        stack.tdb.db
          .selectFrom('cases')
          .select(['status', 'stage'])
          .where('id', '=', caseId)
          .where('status', '=', 'closed')
          .executeTakeFirst(),
      { what: 'the case closed after its appeal window' },
    )
    expect(closed.status).toBe('closed')
    await page.context().close()
  })

  it('shows the manager one case fewer waiting', async () => {
    expect(await openCases()).toBe(before - 1)
    await eventually(
      async () => ((await backlogFigure(manager)) === String(before - 1) ? true : undefined),
      { what: 'the dashboard figure to change' },
    )
    await screenshot(manager, 'console-dashboard')
    await manager.context().close()
  })
})
