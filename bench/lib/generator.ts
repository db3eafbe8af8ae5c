import { randomUUID } from 'node:crypto'
import autocannon from 'autocannon'
import { Client, Connection, WorkflowIdReusePolicy } from '@temporalio/client'
import postgres from 'postgres'
import { drive, histogram, summarize, type DriveResult, type LatencySummary } from './drive'
import type { MimicShape } from '../raw/workflows'

/**
 * The load generator: a separate process (forked by the harness, loopback only) that runs one
 * job at a time and answers with its measurements. Every job is bounded in count or duration.
 */

export type Job =
  | {
      type: 'intake'
      baseUrl: string
      clients: { token: string; communeCode: string }[]
      count: number
      concurrency: number
      rate?: number
      /** Every `retryEvery`-th request is sent again with the same Idempotency-Key. */
      retryEvery?: number
      keyPrefix: string
    }
  | {
      type: 'complete'
      baseUrl: string
      items: { taskId: string; token: string; data: Record<string, unknown> }[]
      concurrency: number
      rate?: number
    }
  | {
      type: 'http-get'
      url: string
      headers: Record<string, string>
      connections: number
      durationSec: number
    }
  | {
      type: 'temporal-start'
      address: string
      taskQueue: string
      workflowType: string
      count: number
      concurrency: number
      rate?: number
      idPrefix: string
    }
  | {
      type: 'temporal-update'
      address: string
      taskQueue: string
      count: number
      concurrency: number
      rate?: number
      idPrefix: string
    }
  | {
      type: 'temporal-mimic'
      address: string
      taskQueue: string
      count: number
      concurrency: number
      shape: MimicShape
      idPrefix: string
    }
  | {
      type: 'temporal-timers'
      address: string
      taskQueue: string
      count: number
      concurrency: number
      untilMs: number
      idPrefix: string
    }
  | {
      type: 'sql'
      url: string
      /** One request = these statements in order (the queries one API request makes). */
      statements: { sql: string; params: unknown[] }[]
      connections: number
      durationSec: number
    }

export interface IntakeResult extends DriveResult {
  caseIds: string[]
  retries: number
  /** Retries answered with the first answer's case id (an idempotent replay). */
  retriesReplayed: number
}

export interface CompleteResult extends DriveResult {
  /** Completions not yet shown as completed by the task list right after the answer. */
  notVisible: number
}

export interface HttpGetResult {
  ratePerSec: number
  requests: number
  errors: number
  non2xx: number
  latencyMs: LatencySummary
}

/** No request waits forever: a hung answer counts as an error after a minute. */
const REQUEST_TIMEOUT_MS = 60_000

let connection: Connection | undefined
async function temporal(address: string): Promise<Client> {
  connection ??= await Connection.connect({ address })
  return new Client({ connection })
}

const json = async (res: Response) => {
  const text = await res.text()
  if (res.status >= 300) throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`)
  return JSON.parse(text) as Record<string, unknown>
}

async function intake(job: Extract<Job, { type: 'intake' }>): Promise<IntakeResult> {
  const caseIds: string[] = []
  let retries = 0
  let retriesReplayed = 0
  const post = (i: number) => {
    const client = job.clients[i % job.clients.length]!
    return fetch(`${job.baseUrl}/api/cases`, {
      method: 'POST',
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      headers: {
        authorization: `Bearer ${client.token}`,
        'content-type': 'application/json',
        'idempotency-key': `${job.keyPrefix}-${i}`,
      },
      body: JSON.stringify({
        communeCode: client.communeCode,
        channel: 'hotline',
        narrative: `Benchmark grievance ${i}: payment not received this cycle.`,
        anonymous: true,
      }),
    })
  }
  const result = await drive(job, async (i) => {
    const first = await json(await post(i))
    caseIds.push(String(first.caseId))
    if (job.retryEvery && i % job.retryEvery === 0) {
      // A client that lost the answer and sends the same request again.
      retries += 1
      const again = await json(await post(i))
      if (again.caseId === first.caseId) retriesReplayed += 1
    }
  })
  return { ...result, caseIds, retries, retriesReplayed }
}

async function complete(job: Extract<Job, { type: 'complete' }>): Promise<CompleteResult> {
  let notVisible = 0
  const result = await drive(
    { count: job.items.length, concurrency: job.concurrency, rate: job.rate },
    async (i) => {
      const item = job.items[i]!
      const headers = { authorization: `Bearer ${item.token}`, 'content-type': 'application/json' }
      await json(
        await fetch(`${job.baseUrl}/api/tasks/${item.taskId}/complete`, {
          method: 'POST',
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
          headers: { ...headers, 'idempotency-key': randomUUID() },
          body: JSON.stringify({ data: item.data }),
        }),
      )
      // What the user sees next: the task list, which must already show it completed.
      const filter = encodeURIComponent(JSON.stringify({ id: item.taskId }))
      const res = await fetch(`${job.baseUrl}/api/tasks?filter=${filter}`, {
        headers,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      })
      const rows = (await res.json()) as { status: string }[]
      if (rows[0]?.status !== 'completed') notVisible += 1
    },
  )
  return { ...result, notVisible }
}

async function httpGet(job: Extract<Job, { type: 'http-get' }>): Promise<HttpGetResult> {
  const h = histogram()
  const instance = autocannon({
    url: job.url,
    headers: job.headers,
    connections: job.connections,
    duration: job.durationSec,
  })
  instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => {
    h.recordValue(Math.max(1, Math.round(ms * 1000)))
  })
  const r = await instance
  return {
    ratePerSec: Math.round(r.requests.average * 10) / 10,
    requests: r.requests.total,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    latencyMs: summarize(h),
  }
}

async function temporalStart(job: Extract<Job, { type: 'temporal-start' }>) {
  const client = await temporal(job.address)
  return drive(job, async (i) => {
    await client.workflow.start(job.workflowType, {
      taskQueue: job.taskQueue,
      workflowId: `${job.idPrefix}-${i}`,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    })
  })
}

async function temporalUpdate(job: Extract<Job, { type: 'temporal-update' }>) {
  const client = await temporal(job.address)
  const handles = await Promise.all(
    Array.from({ length: job.concurrency }, (_, lane) =>
      client.workflow.start('updatableWorkflow', {
        taskQueue: job.taskQueue,
        workflowId: `${job.idPrefix}-${lane}`,
      }),
    ),
  )
  const result = await drive(job, async (i, lane) => {
    await handles[job.rate ? i % handles.length : lane]!.executeUpdate('bump', { args: [1] })
  })
  await Promise.all(handles.map((h) => h.executeUpdate('finish')))
  return result
}

async function temporalMimic(job: Extract<Job, { type: 'temporal-mimic' }>) {
  const client = await temporal(job.address)
  return drive(job, async (i) => {
    const handle = await client.workflow.start('mimicWorkflow', {
      taskQueue: job.taskQueue,
      workflowId: `${job.idPrefix}-${i}`,
      args: [job.shape],
    })
    for (let u = 0; u < job.shape.updates; u++) await handle.executeUpdate('bump', { args: [1] })
    await handle.result()
  })
}

export interface TimersResult {
  started: DriveResult
  startedAllAt: number
  fired: number
  latenessMs: LatencySummary
}

async function temporalTimers(job: Extract<Job, { type: 'temporal-timers' }>) {
  const client = await temporal(job.address)
  const started = await drive(job, async (i) => {
    await client.workflow.start('sleeperWorkflow', {
      taskQueue: job.taskQueue,
      workflowId: `${job.idPrefix}-${i}`,
      args: [job.untilMs],
    })
  })
  const startedAllAt = Date.now()
  const h = histogram()
  let fired = 0
  await drive({ count: job.count, concurrency: 32 }, async (i) => {
    const late = await client.workflow.getHandle(`${job.idPrefix}-${i}`).result()
    h.recordValue(Math.max(1, Math.round(Number(late) * 1000)))
    fired += 1
  })
  return { started, startedAllAt, fired, latenessMs: summarize(h) } satisfies TimersResult
}

async function sqlJob(job: Extract<Job, { type: 'sql' }>) {
  const sql = postgres(job.url, { max: job.connections, onnotice: () => {} })
  try {
    return await drive(
      {
        count: Number.MAX_SAFE_INTEGER,
        concurrency: job.connections,
        durationMs: job.durationSec * 1000,
      },
      async () => {
        for (const s of job.statements) await sql.unsafe(s.sql, s.params as never[])
      },
    )
  } finally {
    await sql.end({ timeout: 5 })
  }
}

async function run(job: Job): Promise<unknown> {
  switch (job.type) {
    case 'intake':
      return intake(job)
    case 'complete':
      return complete(job)
    case 'http-get':
      return httpGet(job)
    case 'temporal-start':
      return temporalStart(job)
    case 'temporal-update':
      return temporalUpdate(job)
    case 'temporal-mimic':
      return temporalMimic(job)
    case 'temporal-timers':
      return temporalTimers(job)
    case 'sql':
      return sqlJob(job)
  }
}

process.on('message', (message: { id: number; job: Job }) => {
  run(message.job).then(
    (result) => process.send!({ id: message.id, result }),
    (error: unknown) =>
      process.send!({
        id: message.id,
        error: error instanceof Error ? error.stack : String(error),
      }),
  )
})
process.on('disconnect', () => {
  void connection?.close().finally(() => process.exit(0))
  if (!connection) process.exit(0)
})
