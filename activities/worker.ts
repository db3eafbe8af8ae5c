import { fileURLToPath } from 'node:url'
import { NativeConnection, Worker } from '@temporalio/worker'
import { createActivities } from '.'
import type { Db } from './db/db'
import { firstLine, StartupError } from './infra/errors'
import { connectionOptions, type TemporalSettings } from './infra/temporal-client'

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url))

export interface WorkerOptions {
  temporal: TemporalSettings
  taskQueue: string
  db: Db
  /** A prebuilt workflow bundle (tests build it once); otherwise the workflows are bundled now. */
  workflowBundle?: { codePath: string }
}

/**
 * A worker running every case workflow and activity on `taskQueue`. Run one in the API process
 * (the embedded default) or any number as separate processes (`npm run worker`).
 */
export async function createWorker(
  options: WorkerOptions,
): Promise<{ worker: Worker; connection: NativeConnection }> {
  let connection: NativeConnection
  try {
    connection = await NativeConnection.connect(await connectionOptions(options.temporal))
  } catch (error) {
    throw new StartupError(
      'TEMPORAL_UNREACHABLE',
      `the worker cannot reach Temporal at ${options.temporal.address}: ${firstLine(error)}`,
    )
  }
  const worker = await Worker.create({
    connection,
    namespace: options.temporal.namespace,
    taskQueue: options.taskQueue,
    activities: createActivities({ db: options.db }),
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath }),
  })
  return { worker, connection }
}
