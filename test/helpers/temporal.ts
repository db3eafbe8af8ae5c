import { randomUUID } from 'node:crypto'
import { Client, Connection } from '@temporalio/client'
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker'
import nodemailer from 'nodemailer'
import { inject } from 'vitest'
import { createActivities } from '../../activities'
import { commandInterceptors, encryptedDataConverter } from '../../activities/infra/temporal-client'
import { commandAuditSinks, type CommandRefusal } from '../../activities/worker'
import { testCipher, testCodec, testCommandKeys } from './codec'
import type { Db } from '../../activities/db/db'
import { systemResolve, type Resolve } from '../../activities/referrals/webhook-target'

let runtimeInstalled = false
/** The SDK's own logs, warnings and errors only, so that test output stays readable. */
export function quietTemporalRuntime(): void {
  if (runtimeInstalled) return
  runtimeInstalled = true
  Runtime.install({ logger: new DefaultLogger('WARN') })
}

/**
 * A client on the run's Temporal dev server, signing its commands as the API does (the suite's
 * command key), so that tests sending Updates directly stand in for the API.
 */
export async function connectTestClient(address = inject('temporalAddress')): Promise<Client> {
  const connection = await Connection.connect({ address })
  return new Client({
    connection,
    namespace: inject('namespace'),
    dataConverter: encryptedDataConverter(testCodec),
    interceptors: commandInterceptors(testCommandKeys),
  })
}

/** Commands the test workers' workflows refused for want of the API's proof, as they come. */
export const commandRefusals: CommandRefusal[] = []

export interface RunningWorker {
  taskQueue: string
  stop(): Promise<void>
}

/**
 * Runs the real worker (the shared workflow bundle, activities on `db`) on a task queue of its own,
 * so that tests never pick up each other's workflows.
 */
/**
 * Partner hosts of the tests (`*.example.org`, answered by msw) resolve to a public address, as
 * they would in production, without the network; any other name goes to the system resolver.
 */
const testResolve: Resolve = async (host) =>
  host.endsWith('.example.org') ? [{ address: '93.184.215.14' }] : systemResolve(host)

export async function startTestWorker(
  db: Db,
  options: { address?: string; taskQueue?: string; smtpUrl?: string } = {},
): Promise<RunningWorker> {
  quietTemporalRuntime()
  const taskQueue = options.taskQueue ?? `test-${randomUUID()}`
  const connection = await NativeConnection.connect({
    address: options.address ?? inject('temporalAddress'),
  })
  const worker = await Worker.create({
    connection,
    namespace: inject('namespace'),
    taskQueue,
    activities: createActivities({
      db,
      mail: {
        transport: nodemailer.createTransport(options.smtpUrl ?? inject('smtpUrl')),
        from: 'RSU Casework <no-reply@rsu.localhost>',
      },
      publicUrl: 'http://rsu.localhost',
      cipher: testCipher,
      resolveWebhookHost: testResolve,
    }),
    workflowBundle: { codePath: inject('workflowBundlePath') },
    dataConverter: encryptedDataConverter(testCodec),
    sinks: commandAuditSinks((refusal) => commandRefusals.push(refusal)),
  })
  const running = worker.run()
  return {
    taskQueue,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown()
      await running
      await connection.close()
    },
  }
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  { timeoutMs = 20_000, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

export interface SinkMessage {
  id: string
  messageId?: string
  to: string[]
  subject: string
  text: string
}

/** Mail received by the run's SMTP sink (real SMTP), optionally only to `to`. */
export async function mailbox(to?: string): Promise<SinkMessage[]> {
  const all = (await (await fetch(`${inject('mailUiUrl')}/messages.json`)).json()) as SinkMessage[]
  return to ? all.filter((m) => m.to.includes(to)) : all
}
