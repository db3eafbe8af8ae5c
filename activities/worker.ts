import { fileURLToPath } from 'node:url'
import { NativeConnection, Worker } from '@temporalio/worker'
import type { PayloadCodec } from '@temporalio/common'
import { Client, Connection } from '@temporalio/client'
import type { Config } from './config'
import { createRegistryClient, describeRegistry } from './registry'
import { createActivities, type ActivityDeps } from '.'
import type { Db } from './db/db'
import { firstLine, StartupError } from './infra/errors'
import type { Logger } from './infra/logger'
import { maxCachedWorkflowsFor, type WorkerMemory } from './worker-cache'
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
  /** The social registry (REGISTRY_URL…); unset, the households table serves as the registry. */
  registry?: Config['registry']
  /** A client for the activities that start cases (campaigns, recertification sweeps). */
  temporalClient?: Client
  /** A prebuilt workflow bundle (tests build it once); otherwise the workflows are bundled now. */
  workflowBundle?: { codePath: string }
  /**
   * The memory budget that sizes the workflow cache (`maxCachedWorkflowsFor`); unset, the SDK's
   * default from the heap limit.
   */
  memory?: WorkerMemory
  /** Where partner webhooks may point (`Config['partnerWebhooks']`). */
  partnerWebhooks?: Config['partnerWebhooks']
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
  const registry = createRegistryClient(options.registry, options.db)
  options.log?.info(describeRegistry(registry, options.registry))
  const maxCachedWorkflows = options.memory && maxCachedWorkflowsFor(options.memory)
  if (options.memory)
    options.log?.info({ ...options.memory, maxCachedWorkflows }, 'workflow cache sized from memory')
  const worker = await Worker.create({
    connection,
    ...(maxCachedWorkflows ? { maxCachedWorkflows } : {}),
    namespace: options.temporal.namespace,
    taskQueue: options.taskQueue,
    activities: createActivities({
      db: options.db,
      mail: options.mail,
      cipher: options.cipher,
      publicUrl: options.publicUrl,
      log: options.log,
      registry,
      partnerWebhooks: options.partnerWebhooks,
      // Campaign and sweep activities start cases: with no client given, one that connects on
      // first use (most workers never need it).
      temporal: {
        client:
          options.temporalClient ??
          new Client({
            connection: Connection.lazy(await connectionOptions(options.temporal)),
            namespace: options.temporal.namespace,
            dataConverter: options.codec ? encryptedDataConverter(options.codec) : undefined,
          }),
        taskQueue: options.taskQueue,
      },
    }),
    dataConverter: options.codec ? encryptedDataConverter(options.codec) : undefined,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath }),
  })
  return { worker, connection }
}
