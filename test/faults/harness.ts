import { randomUUID } from 'node:crypto'
import { WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client'
import { inject } from 'vitest'
import {
  caseWorkflowId,
  completeTaskUpdate,
  ErrorCode,
  grievanceViewQuery,
  type Actor,
  type OpenCaseInput,
} from '../../workflows/messages'
import { TEST_COMMAND_KEYS, TEST_DATA_KEYS, TEST_PAYLOAD_KEYS } from '../helpers/codec'
import { grievanceInput } from '../helpers/fixtures'
import { spawnEntry, type Spawned } from '../helpers/processes'
import { eventually } from '../helpers/temporal'

/**
 * The processes of one fault test, each killed by its own process id at the end. A process that
 * exits by itself (not killed by the test through `kill` or `killAll`) is a crash: it is recorded
 * in `crashes`, and every fault test fails on one (`expectNoCrash`). Nothing restarts it: in
 * production a crash is downtime, so here it is a failure, never something quietly papered over.
 */
export class Processes {
  private readonly all: Spawned[] = []
  private readonly killedOnPurpose = new Set<Spawned>()

  constructor(private readonly base: Record<string, string>) {}

  /** Processes of ours that exited by themselves, with their last words. */
  readonly crashes: string[] = []
  private stopping = false

  private track(p: Spawned, kind: string): Spawned {
    this.all.push(p)
    p.child.once('exit', (code, signal) => {
      if (this.stopping || this.killedOnPurpose.has(p)) return
      this.crashes.push(
        `${kind} pid ${p.child.pid} exited by itself (${code ?? signal}): ${p.stderr().slice(-600)}`,
      )
    })
    return p
  }

  /** `npm run worker` as a separate process; resolves once it polls its task queue. */
  async worker(env: Record<string, string> = {}): Promise<Spawned> {
    const w = this.track(
      spawnEntry('activities/worker-main.ts', { ...this.base, ...env }),
      'worker',
    )
    await w.waitFor(/worker running/, 60_000)
    return w
  }

  /** `npm run api` as a separate process on a free port; resolves with its base URL. */
  async api(env: Record<string, string> = {}): Promise<{ process: Spawned; url: string }> {
    const a = this.track(spawnEntry('api/main.ts', { ...this.base, API_PORT: '0', ...env }), 'api')
    await a.waitFor(/API listening/, 60_000)
    const url = /"url":"(http:[^"]+)"/.exec(a.stdout() + a.stderr())?.[1]
    if (!url) throw new Error(`no URL in the API's log:\n${a.stdout()}`)
    return { process: a, url }
  }

  /** Everything the processes wrote (stdout and stderr): searched for canaries. */
  logs(): string {
    return this.all.map((p) => p.stdout() + p.stderr()).join('\n')
  }

  /** Kills one process on purpose (the fault under test), by its pid: not a crash. */
  kill(p: Spawned, signal: NodeJS.Signals = 'SIGKILL'): void {
    this.killedOnPurpose.add(p)
    p.child.kill(signal)
  }

  /** Fails when a process exited by itself; for the end of each test, after its cleanup. */
  static expectNoCrash(crashes: string[] | undefined): void {
    if (crashes?.length)
      throw new Error(`a process of ours exited by itself:\n${crashes.join('\n')}`)
  }

  /** SIGKILL, by pid, to each process still running. */
  async killAll(): Promise<void> {
    this.stopping = true
    for (const p of this.all) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL')
      await p.exit().catch(() => undefined)
    }
  }
}

/** The environment of the worker and API processes of a test. */
export function processEnv(options: {
  databaseUrl: string
  temporalAddress?: string
  taskQueue: string
  smtpUrl?: string
}): Record<string, string> {
  return {
    DATABASE_URL: options.databaseUrl,
    TEMPORAL_ADDRESS: options.temporalAddress ?? inject('temporalAddress'),
    TEMPORAL_NAMESPACE: inject('namespace'),
    TEMPORAL_TASK_QUEUE: options.taskQueue,
    SMTP_URL: options.smtpUrl ?? inject('smtpUrl'),
    PAYLOAD_KEYS: TEST_PAYLOAD_KEYS,
    DATA_KEYS: TEST_DATA_KEYS,
    COMMAND_KEYS: TEST_COMMAND_KEYS,
    LOG_LEVEL: 'info',
  }
}

export const newTaskQueue = (name: string) => `fault-${name}-${randomUUID().slice(0, 8)}`

/** A grievance with a complainant's address, so that it sends 4 emails on its way to closure. */
export function caseWithContact(overrides: Partial<OpenCaseInput> = {}): OpenCaseInput {
  const input = grievanceInput(overrides)
  return {
    ...input,
    contact: input.contact ?? {
      email: `fault-${input.caseId.toLowerCase()}@exemple.ml`,
      locale: 'fr',
    },
  }
}

/** Opens a case, retrying through an outage (a start already accepted counts as done). */
export async function openCase(
  client: Client,
  taskQueue: string,
  input: OpenCaseInput,
  timeoutMs = 120_000,
): Promise<WorkflowHandle> {
  await eventually(
    () =>
      client.workflow
        .start('grievanceWorkflow', {
          workflowId: caseWorkflowId(input.caseId),
          taskQueue,
          args: [input],
        })
        .then(
          () => true,
          (error: Error) =>
            error.name === 'WorkflowExecutionAlreadyStartedError' ? true : undefined,
        ),
    { timeoutMs, what: `case ${input.caseId} started` },
  )
  return client.workflow.getHandle(caseWorkflowId(input.caseId))
}

/** One call to Temporal, given up after 15 s (then retried by the caller): never a hung test. */
const bounded = <T>(handle: WorkflowHandle, call: () => Promise<T>) =>
  handle.client.withDeadline(Date.now() + 15_000, call)

/**
 * Completes the case's open task of `kind` as its assignee, retrying through outages: a
 * completion whose answer was lost is found completed on the next try, and counts as done.
 */
export async function completeTask(
  handle: WorkflowHandle,
  kind: string,
  data: Record<string, unknown>,
  timeoutMs = 180_000,
): Promise<void> {
  let taskId: string | undefined
  await eventually(
    async () => {
      const view = await bounded(handle, () => handle.query(grievanceViewQuery)).catch(
        () => undefined,
      )
      if (!view) return undefined
      const task = taskId
        ? view.tasks.find((t) => t.id === taskId)
        : view.tasks.find((t) => t.kind === kind)
      if (!task) return undefined
      taskId = task.id
      if (task.status === 'completed') return true
      const by: Actor = { userId: task.assigneeId, role: 'case_worker' }
      return bounded(handle, () =>
        handle.executeUpdate(completeTaskUpdate, { args: [{ taskId: task.id, actor: by, data }] }),
      ).then(
        () => true,
        (error: unknown) =>
          error instanceof WorkflowUpdateFailedError &&
          (error.cause as { type?: string } | undefined)?.type === ErrorCode.TASK_ALREADY_COMPLETED
            ? true
            : undefined,
      )
    },
    { timeoutMs, what: `the ${kind} task of ${handle.workflowId} completed` },
  )
}

/** Triage, investigation (rejected, no eligibility change: no approval), then the 2 s appeal window. */
export async function driveToClosure(handle: WorkflowHandle, timeoutMs = 180_000): Promise<void> {
  await completeTask(
    handle,
    'triage',
    { category: 'wrong_amount', sensitive: false, priority: 'normal' },
    timeoutMs,
  )
  await completeTask(
    handle,
    'investigation',
    {
      findings: 'Le montant versé correspond au barème du ménage.',
      proposedResolution: 'rejected',
      changesEligibilityOrPayment: false,
    },
    timeoutMs,
  )
  await eventually(
    () =>
      bounded(handle, () => handle.describe()).then(
        (d) => (d.status.name === 'COMPLETED' ? true : undefined),
        () => undefined,
      ),
    { timeoutMs, what: `${handle.workflowId} closed` },
  )
}

/** `fetch` with a deadline: an API that hangs fails the test instead of stalling it. */
export async function fetchWithin(
  url: string,
  init: RequestInit & { timeoutMs?: number } = {},
): Promise<Response> {
  return fetch(url, { ...init, signal: AbortSignal.timeout(init.timeoutMs ?? 20_000) })
}
