import { fileURLToPath } from 'node:url'
import {
  NativeConnection,
  Worker,
  type BundleOptions,
  type InjectedSinks,
} from '@temporalio/worker'
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
  commandInterceptors,
  connectionOptions,
  encryptedDataConverter,
  type TemporalSettings,
} from './infra/temporal-client'
import { commandKeysHex } from './crypto/command-signing'
import type { Keyring } from './crypto/payload-codec'
import type { CommandAuditSinks } from '../workflows/interceptors'

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url))
export const workflowInterceptorsPath = fileURLToPath(
  new URL('../workflows/interceptors.ts', import.meta.url),
)

/**
 * How the workflow bundle is built: with the command-proof interceptor, and the command keys
 * compiled in as a constant. The worker is trusted; compiled into the bundle, the keys are the
 * same on every replay and reach the sandbox by no path a client controls (not an input, not a
 * memo, not a header).
 */
export function workflowBundleOptions(commandKeys: Keyring) {
  const define = { __RSU_COMMAND_KEYS__: JSON.stringify(commandKeysHex(commandKeys)) }
  return {
    workflowsPath,
    workflowInterceptorModules: [workflowInterceptorsPath],
    webpackConfigHook: (config) => ({
      ...config,
      plugins: [
        ...(config.plugins ?? []),
        // The bundler's own webpack (compiler.webpack), so that no second copy is imported.
        { apply: (compiler) => new compiler.webpack.DefinePlugin(define).apply(compiler) },
      ],
    }),
  } satisfies Partial<BundleOptions>
}

/** `workflowBundleOptions` as `Worker.create` takes them, for a worker that bundles at start. */
export function workerBundleOptions(commandKeys: Keyring) {
  const { workflowInterceptorModules, webpackConfigHook } = workflowBundleOptions(commandKeys)
  return {
    workflowsPath,
    interceptors: { workflowModules: workflowInterceptorModules },
    bundlerOptions: { webpackConfigHook },
  }
}

/** One command a workflow refused: which case, which message, why; never its arguments. */
export interface CommandRefusal {
  workflowId: string
  runId: string
  kind: 'update' | 'signal'
  name: string
  reason: string
}

/**
 * Records every command the workflows refused for want of the API's proof. Not during replay:
 * a refusal happens once, live.
 */
export function commandAuditSinks(
  record: (refusal: CommandRefusal) => void,
): InjectedSinks<CommandAuditSinks> {
  return {
    commandAudit: {
      refused: {
        fn: (info, event) => record({ workflowId: info.workflowId, runId: info.runId, ...event }),
        callDuringReplay: false,
      },
    },
  }
}

/**
 * The worker's record of a refused command: one warning line (ids, message name, reason; the
 * arguments may be personal and are never logged), which is what operators alert on.
 */
export const logRefusal = (log: Logger | undefined) => (refusal: CommandRefusal) =>
  log?.warn({ command: refusal }, 'command refused: no valid proof that the API issued it')

export interface WorkerOptions {
  temporal: TemporalSettings
  taskQueue: string
  db: Db
  mail: ActivityDeps['mail']
  cipher: ActivityDeps['cipher']
  publicUrl?: string
  /** Encrypts every payload (inputs, results, messages) before it reaches Temporal's history. */
  codec?: PayloadCodec
  /** Verify (in the workflows) and sign (this worker's own client) commands to cases. */
  commandKeys: Keyring
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
            interceptors: commandInterceptors(options.commandKeys),
          }),
        taskQueue: options.taskQueue,
      },
    }),
    dataConverter: options.codec ? encryptedDataConverter(options.codec) : undefined,
    sinks: commandAuditSinks(logRefusal(options.log)),
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : workerBundleOptions(options.commandKeys)),
  })
  return { worker, connection }
}
