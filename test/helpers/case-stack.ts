import type { Client } from '@temporalio/client'
import { createTestDatabase, type TestDatabase } from './db'
import { seedForCases } from './fixtures'
import { connectTestClient, startTestWorker, type RunningWorker } from './temporal'

export interface CaseStack {
  tdb: TestDatabase
  client: Client
  worker: RunningWorker
}

/**
 * What most case tests start from: a fresh database seeded with the demo users and policies in
 * seconds (`seedForCases`), a client and a real worker on a task queue of their own.
 */
export async function startCaseStack(
  policies?: Parameters<typeof seedForCases>[1],
): Promise<CaseStack> {
  const tdb = await createTestDatabase()
  await seedForCases(tdb.db, policies)
  const client = await connectTestClient()
  const worker = await startTestWorker(tdb.db)
  return { tdb, client, worker }
}

/** Stops what `startCaseStack` started (whatever part of it did start). */
export async function stopCaseStack(stack: Partial<CaseStack>): Promise<void> {
  await stack.worker?.stop()
  await stack.client?.connection.close()
  await stack.tdb?.drop()
}
