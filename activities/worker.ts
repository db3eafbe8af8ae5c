import { fileURLToPath } from 'node:url'
import { NativeConnection, Worker } from '@temporalio/worker'
import type { PayloadCodec } from '@temporalio/common'
import { createActivities, type ActivityDeps } from '.'
import type { Db } from './db/db'
import { firstLine, StartupError } from './infra/errors'
import type { Logger } from './infra/logger'
import {
  connectionOptions,
  encryptedDataConverter,
  type TemporalSettings,
} from './infra/temporal-client'

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url))

export interface WorkerOptions {
  temporal: TemporalSettings
  taskQueue: string
  db: Db
  mail: ActivityDeps['mail']
  cipher: ActivityDeps['cipher']
  publicUrl?: string
  /** Encrypts every payload (inputs, results, messages) before it reaches Temporal's history. */
  codec?: PayloadCodec
  log?: Logger
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
    activities: createActivities({
      db: options.db,
      mail: options.mail,
      cipher: options.cipher,
      publicUrl: options.publicUrl,
      log: options.log,
    }),
    dataConverter: options.codec ? encryptedDataConverter(options.codec) : undefined,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath }),
  })
  return { worker, connection }
}
