import { randomUUID } from 'node:crypto'
import path from 'node:path'
import { Client, Connection } from '@temporalio/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inject } from 'vitest'
import { createLogger } from '../../activities/infra/logger'
import { startDevServer, type DevServer } from '../../activities/infra/temporal-server'
import { caseSnapshotQuery, caseWorkflowId, closeCaseUpdate } from '../../workflows/messages'
import { commandInterceptors, encryptedDataConverter } from '../../activities/infra/temporal-client'
import { testCodec, testCommandKeys } from '../helpers/codec'
import { createTestDatabase, type TestDatabase } from '../helpers/db'
import { grievanceInput, seedGeography } from '../helpers/fixtures'
import { eventually, startTestWorker } from '../helpers/temporal'

const log = createLogger('silent', false)
let tdb: TestDatabase
const servers: DevServer[] = []

beforeAll(async () => {
  tdb = await createTestDatabase()
  await seedGeography(tdb.db)
})
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()))
  await tdb?.drop()
})

async function startServer(dir: string) {
  const server = await startDevServer({
    binary: inject('temporalBinary'),
    dir,
    host: '127.0.0.1',
    port: 0,
    namespace: inject('namespace'),
    log,
  })
  servers.push(server)
  const client = new Client({
    connection: await Connection.connect({ address: server.address }),
    namespace: server.namespace,
    dataConverter: encryptedDataConverter(testCodec),
    interceptors: commandInterceptors(testCommandKeys),
  })
  return { server, client }
}

describe('the embedded Temporal dev server', () => {
  it('keeps an open case across a restart (same SQLite file), and the case goes on', async () => {
    expect(inject('temporalBinary'), 'a temporal binary was resolved by the setup').not.toBe('')
    const dir = path.join(inject('tmpRoot'), `restart-${randomUUID()}`)
    const input = grievanceInput()

    const first = await startServer(dir)
    const worker = await startTestWorker(tdb.db, { address: first.server.address })
    await first.client.workflow.start('grievanceWorkflow', {
      workflowId: caseWorkflowId(input.caseId),
      taskQueue: worker.taskQueue,
      args: [input],
    })
    // The case has settled (its triage task projected): the restart interrupts no activity,
    // which would otherwise be retried only after its 30 s start-to-close timeout.
    await eventually(
      () =>
        tdb.db
          .selectFrom('tasks')
          .select('id')
          .where('caseId', '=', input.caseId)
          .executeTakeFirst(),
      { what: 'the projected triage task' },
    )
    await worker.stop()
    await first.client.connection.close()
    await first.server.stop()

    const second = await startServer(dir)
    const handle = second.client.workflow.getHandle(caseWorkflowId(input.caseId))
    expect((await handle.describe()).status.name).toBe('RUNNING')
    const worker2 = await startTestWorker(tdb.db, {
      address: second.server.address,
      taskQueue: worker.taskQueue,
    })
    expect(await handle.query(caseSnapshotQuery)).toMatchObject({
      caseId: input.caseId,
      status: 'open',
    })
    await handle.executeUpdate(closeCaseUpdate, {
      args: [{ reason: 'resolved', actor: { userId: null, role: 'supervisor' } }],
    })
    await handle.result()
    const events = await tdb.db
      .selectFrom('caseEvents')
      .select(['seq', 'type'])
      .where('caseId', '=', input.caseId)
      .orderBy('seq')
      .execute()
    expect(events).toEqual([
      { seq: 1, type: 'case.opened' },
      { seq: 2, type: 'task.created' },
      { seq: 3, type: 'case.closed' },
    ])
    await worker2.stop()
    await second.client.connection.close()
  })
})
