import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { promisify } from 'node:util'
import { Client } from '@temporalio/client'
import { msToTs } from '@temporalio/common/lib/time'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import { encryptedDataConverter } from '../../activities/infra/temporal-client'
import { retentionScheduleId } from '../../activities/retention/schedule'
import { recertificationScheduleId } from '../../activities/reverification-schedule'
import { caseSearchAttributes } from '../../workflows/search-attributes'
import { caseWorkflowId } from '../../workflows/messages'
import { TEST_COMMAND_KEYS, TEST_DATA_KEYS, TEST_PAYLOAD_KEYS, testCodec } from '../helpers/codec'
import { createTestDatabase, type TestDatabase } from '../helpers/db'
import { grievanceInput, seedGeography } from '../helpers/fixtures'
import { spawnEntry, type Spawned } from '../helpers/processes'
import { connectTestClient, eventually } from '../helpers/temporal'

/**
 * `npm run worker` and `npm run api` on a cluster we did not start (a real Temporal server's
 * namespaces have no search attributes of ours): they register the cases' search attributes, or
 * refuse to start in one line that says what is missing and how to create it
 * (TEMPORAL_SEARCH_ATTRIBUTES=check); every worker makes sure of the schedules.
 */
let tdb: TestDatabase
let client: Client
const running: Spawned[] = []

beforeAll(async () => {
  tdb = await createTestDatabase()
  await seedGeography(tdb.db)
  client = await connectTestClient()
})
afterEach(async () => {
  for (const p of running.splice(0)) {
    p.child.kill('SIGKILL')
    await p.exit().catch(() => undefined)
  }
})
afterAll(async () => {
  await client?.connection.close()
  await tdb?.drop()
})

/** A namespace of its own on the run's server: none of our search attributes on it. */
async function freshNamespace(): Promise<string> {
  const namespace = `prod-${randomUUID().slice(0, 8)}`
  await client.workflowService.registerNamespace({
    namespace,
    workflowExecutionRetentionPeriod: msToTs('1 day'),
  })
  await eventually(
    () =>
      client.workflowService.describeNamespace({ namespace }).then(
        () => true,
        () => undefined,
      ),
    { what: `namespace ${namespace} registered` },
  )
  return namespace
}

const attributesOf = async (namespace: string) =>
  Object.keys(
    (await client.connection.operatorService.listSearchAttributes({ namespace }))
      .customAttributes ?? {},
  )

function entry(file: string, namespace: string, extra: Record<string, string> = {}) {
  const p = spawnEntry(file, {
    DATABASE_URL: tdb.url,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_NAMESPACE: namespace,
    API_PORT: '0',
    SMTP_URL: inject('smtpUrl'),
    PAYLOAD_KEYS: TEST_PAYLOAD_KEYS,
    DATA_KEYS: TEST_DATA_KEYS,
    COMMAND_KEYS: TEST_COMMAND_KEYS,
    ...extra,
  })
  running.push(p)
  return p
}

const names = caseSearchAttributes.map((k) => k.name)

describe('npm run worker and npm run api on a namespace without our search attributes', () => {
  it('with TEMPORAL_SEARCH_ATTRIBUTES=check: refuse to start in one line naming them and the command, which creates them', async () => {
    const namespace = await freshNamespace()
    const env = { TEMPORAL_SEARCH_ATTRIBUTES: 'check', TEMPORAL_TASK_QUEUE: `sa-${namespace}` }
    for (const file of ['activities/worker-main.ts', 'api/main.ts']) {
      const p = entry(file, namespace, env)
      expect(await p.exit(60_000), p.stderr()).toBe(1)
      const lines = p.stderr().trim().split('\n')
      expect(lines, file).toHaveLength(1)
      expect(lines[0]).toMatch(/^rsu-casework: namespace ".+" lacks the search attributes /)
      for (const name of names) expect(lines[0]).toContain(`${name} (Keyword)`)
      expect(lines[0]).toContain('[SEARCH_ATTRIBUTES_MISSING]')
    }
    expect(await attributesOf(namespace), 'check mode changes nothing').toEqual([])

    // The command the line gives, run as an operator would, creates them.
    const line = running[0]!.stderr()
    const command = /create them with: (temporal .+) \[SEARCH_ATTRIBUTES_MISSING\]/.exec(line)?.[1]
    expect(command).toBeDefined()
    for (const one of command!.split(' && '))
      await promisify(execFile)(inject('temporalBinary'), one.split(' ').slice(1))
    expect((await attributesOf(namespace)).sort()).toEqual([...names].sort())
    const api = entry('api/main.ts', namespace, env)
    await api.waitFor(/API listening/, 60_000)
  }, 180_000)

  it('by default: register them, run cases on it, and every worker makes sure of the retention and recertification schedules, once', async () => {
    const namespace = await freshNamespace()
    const taskQueue = `sa-${namespace}`
    const env = { TEMPORAL_TASK_QUEUE: taskQueue, RECERTIFICATION_YEARS: '2' }
    const first = entry('activities/worker-main.ts', namespace, env)
    await first.waitFor(/worker running/, 120_000)
    expect((await attributesOf(namespace)).sort()).toEqual([...names].sort())
    expect(first.stdout()).toMatch(/registered search attributes/)
    const api = entry('api/main.ts', namespace, env)
    await api.waitFor(/API listening/, 60_000)
    const second = entry('activities/worker-main.ts', namespace, env)
    await second.waitFor(/worker running/, 120_000)

    // Each schedule exists once, created by the first worker, found by the second.
    const onNamespace = new Client({
      connection: client.connection,
      namespace,
      dataConverter: encryptedDataConverter(testCodec),
    })
    const schedules: string[] = []
    for await (const s of onNamespace.schedule.list()) schedules.push(s.scheduleId)
    expect(schedules.sort()).toEqual(
      [recertificationScheduleId(taskQueue), retentionScheduleId(taskQueue)].sort(),
    )
    for (const id of [retentionScheduleId(taskQueue), recertificationScheduleId(taskQueue)]) {
      expect(first.stdout()).toMatch(new RegExp(`"scheduleId":"${id}","created":true`))
      expect(second.stdout()).toMatch(new RegExp(`"scheduleId":"${id}","created":false`))
    }
    const recert = await onNamespace.schedule
      .getHandle(recertificationScheduleId(taskQueue))
      .describe()
    expect(recert.action).toMatchObject({
      type: 'startWorkflow',
      args: [{ maxAgeMs: 2 * 365 * 24 * 3600 * 1000, taskQueue }],
    })

    // A case on that namespace reaches PostgreSQL (its workflow sets the search attributes).
    const input = grievanceInput()
    await onNamespace.workflow.start('grievanceWorkflow', {
      workflowId: caseWorkflowId(input.caseId),
      taskQueue,
      args: [input],
    })
    const row = await eventually(
      () =>
        tdb.db
          .selectFrom('cases')
          .select('status')
          .where('id', '=', input.caseId)
          .executeTakeFirst(),
      { what: 'the case projected', timeoutMs: 60_000 },
    )
    expect(row.status).toBe('open')
  }, 300_000)
})
