import { randomUUID } from 'node:crypto'
import type { Client } from '@temporalio/client'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { freePort } from '../activities/infra/ports'
import { caseWorkflowId } from '../workflows/messages'
import { createTestDatabase, type TestDatabase } from './helpers/db'
import { grievanceInput, seedGeography } from './helpers/fixtures'
import { TEST_COMMAND_KEYS, TEST_DATA_KEYS, TEST_PAYLOAD_KEYS } from './helpers/codec'
import { spawnEntry, type Spawned } from './helpers/processes'
import { connectTestClient, eventually } from './helpers/temporal'

/**
 * `npm run api` and `npm run worker`: the same code as `npm start`, as separate processes against
 * an external Temporal and PostgreSQL (here the run's own), the production shape.
 */
let tdb: TestDatabase
let client: Client
const running: Spawned[] = []
beforeAll(async () => {
  tdb = await createTestDatabase()
  await seedGeography(tdb.db)
  client = await connectTestClient()
})
afterAll(async () => {
  for (const p of running) {
    p.child.kill('SIGTERM')
    await p.exit()
  }
  await client?.connection.close()
  await tdb?.drop()
})

describe('separate API and worker processes', () => {
  it('serve and run cases against an external cluster and database', async () => {
    const taskQueue = `prod-${randomUUID()}`
    const port = await freePort()
    const env = {
      DATABASE_URL: tdb.url,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_TASK_QUEUE: taskQueue,
      API_PORT: String(port),
      SMTP_URL: inject('smtpUrl'),
      PAYLOAD_KEYS: TEST_PAYLOAD_KEYS,
      DATA_KEYS: TEST_DATA_KEYS,
      COMMAND_KEYS: TEST_COMMAND_KEYS,
    }
    const worker = spawnEntry('activities/worker-main.ts', env)
    const api = spawnEntry('api/main.ts', env)
    running.push(worker, api)
    await Promise.all([worker.waitFor(/worker running/), api.waitFor(/API listening/)])

    const ready = await fetch(`http://127.0.0.1:${port}/api/health/ready`)
    expect(await ready.json()).toMatchObject({ status: 'ready' })

    const input = grievanceInput()
    await client.workflow.start('grievanceWorkflow', {
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
      { what: 'the case projected by the worker process' },
    )
    expect(row.status).toBe('open')

    // SIGTERM, as an orchestrator sends it: both stop gracefully.
    for (const p of [api, worker]) {
      p.child.kill('SIGTERM')
      expect(await p.exit()).toBe(0)
    }
    running.length = 0
  })

  it('refuse to serve a database whose schema is behind the code', async () => {
    const empty = await createTestDatabase({ migrate: false })
    try {
      const api = spawnEntry('api/main.ts', {
        DATABASE_URL: empty.url,
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        API_PORT: String(await freePort()),
      })
      expect(await api.exit()).toBe(1)
      expect(api.stderr()).toContain('[SCHEMA_BEHIND]')
      expect(api.stderr()).toContain('run `npm run db:migrate`')
    } finally {
      await empty.drop()
    }
  })
})
