import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Client, Connection, type WorkflowHandle } from '@temporalio/client'
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker'
import nodemailer from 'nodemailer'
import { createActivities } from '../../activities'
import { loadConfig } from '../../activities/config'
import { createDb } from '../../activities/db/db'
import { migrateToLatest } from '../../activities/db/migrate'
import { createLogger } from '../../activities/infra/logger'
import { startStack } from '../../activities/infra/stack'
import { resolveTemporalBinary } from '../../activities/infra/temporal-binary'
import { commandInterceptors, encryptedDataConverter } from '../../activities/infra/temporal-client'
import { workerBundleOptions } from '../../activities/worker'
import type { HumanTask } from '../../workflows/kernel/tasks'
import { caseWorkflowId, completeTaskUpdate, type Actor } from '../../workflows/messages'
import { spawnedReverificationId } from '../../workflows/kinds/reverification/messages'
import { testCipher, testCodec, testCommandKeys } from '../helpers/codec'
import { actor, grievanceInput, seedForCases } from '../helpers/fixtures'

/**
 * `node --import tsx test/histories/record-reverification.ts`: records an upheld exclusion
 * grievance that spawns a re-verification (the `spawn-reverification` patch), and that
 * re-verification (a visit with the household absent, a revisit, a score, an approval, the
 * registry written, the household told) into test/histories, for the replay test.
 */
const here = path.dirname(fileURLToPath(import.meta.url))
const run = promisify(execFile)

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') })
  const dataDir = await mkdtemp(path.join(tmpdir(), 'rsu-record-'))
  const config = loadConfig({ DATA_DIR: dataDir, TEMPORAL_PORT: '0', SMTP_PORT: '0' })
  const log = createLogger('warn', false)
  const stack = await startStack(config, log, { withUi: false })
  const db = createDb(stack.databaseUrl)
  try {
    await migrateToLatest(db)
    await seedForCases(db)
    await db
      .updateTable('appSettings')
      .set({ value: { maxVisitAttempts: 3, revisitDelaySeconds: 1 } })
      .where('key', '=', 'reverification_policy')
      .execute()
    const dataConverter = encryptedDataConverter(testCodec)
    const connection = await NativeConnection.connect({ address: stack.temporal.address })
    const client = new Client({
      connection: await Connection.connect({ address: stack.temporal.address }),
      dataConverter,
      interceptors: commandInterceptors(testCommandKeys),
    })
    const worker = await Worker.create({
      connection,
      taskQueue: 'record',
      ...workerBundleOptions(testCommandKeys),
      dataConverter,
      activities: createActivities({
        db,
        mail: { transport: nodemailer.createTransport(stack.mail.smtpUrl!), from: 'rsu@localhost' },
        cipher: testCipher,
        temporal: { client, taskQueue: 'record' },
      }),
    })
    const poll = async <T>(probe: () => Promise<T | undefined>): Promise<T> => {
      for (;;) {
        const value = await probe().catch(() => undefined)
        if (value !== undefined) return value
        await new Promise((r) => setTimeout(r, 100))
      }
    }
    const complete = (handle: WorkflowHandle, taskId: string, by: Actor, data: unknown) =>
      handle.executeUpdate(completeTaskUpdate, { args: [{ taskId, actor: by, data }] })
    const openTask = (
      handle: WorkflowHandle,
      query: 'grievanceView' | 'reverificationView',
      kind: string,
      not?: string,
    ) =>
      poll(async () =>
        (await handle.query<{ tasks: HumanTask[] }>(query)).tasks.find(
          (t) => t.kind === kind && t.id !== not && (t.status === 'open' || t.status === 'claimed'),
        ),
      )

    await worker.runUntil(async () => {
      // The agent a task was assigned to (by workload) completes it.
      const agentOf = (task: HumanTask): Actor => ({ userId: task.assigneeId, role: 'case_worker' })
      const cercle = await actor(db, 'superviseur.cercle.kati', 'supervisor')
      const input = grievanceInput({
        caseId: 'G-REC-EXCL',
        reference: 'RSU-G-REC-EXCL',
        category: 'exclusion_error',
        contact: { email: 'menage@exemple.ml', locale: 'fr' },
      })
      const g = await client.workflow.start('grievanceWorkflow', {
        workflowId: caseWorkflowId(input.caseId),
        taskQueue: 'record',
        args: [input],
      })
      const triage = await openTask(g, 'grievanceView', 'triage')
      await complete(g, triage.id, agentOf(triage), {
        category: 'exclusion_error',
        sensitive: false,
        priority: 'normal',
      })
      const investigation = await openTask(g, 'grievanceView', 'investigation')
      await complete(g, investigation.id, agentOf(investigation), {
        findings: 'Ménage omis lors du recensement, critères remplis.',
        proposedResolution: 'upheld',
        changesEligibilityOrPayment: true,
        householdId: 'RSU-0000003',
      })
      const approval = await openTask(g, 'grievanceView', 'approval')
      await complete(g, approval.id, cercle, { decision: 'approve' })

      const rv = client.workflow.getHandle(caseWorkflowId(spawnedReverificationId(input.caseId)))
      const first = await openTask(rv, 'reverificationView', 'visit')
      await complete(rv, first.id, agentOf(first), { outcome: 'absent' })
      const second = await openTask(rv, 'reverificationView', 'visit', first.id)
      await complete(rv, second.id, agentOf(second), {
        outcome: 'visited',
        members: 9,
        variables: { children_under_5: 3, rooms: 2, livestock_units: 1 },
      })
      const proposal = await openTask(rv, 'reverificationView', 'approval')
      await complete(rv, proposal.id, cercle, { decision: 'approve' })
      await rv.result()
      await g.result()

      const binary = await resolveTemporalBinary({
        cliPath: config.temporal.cliPath,
        searchPath: config.temporal.searchPath,
        cacheDir: config.cacheDir,
        log,
      })
      if (binary.kind !== 'binary') throw new Error('recording needs the temporal CLI')
      const histories = [
        { name: 'grievance-exclusion-spawns-reverification', handle: g },
        { name: 'reverification-absent-visited-approved-written', handle: rv },
      ]
      for (const { name, handle } of histories) {
        // Histories of the case kernel; those recorded before it keep their names and replay as recorded.
        const file = path.join(here, `${process.env.HISTORY_PREFIX ?? 'kernel-'}${name}.json`)
        const { stdout } = await run(binary.path, [
          'workflow',
          'show',
          '--address',
          stack.temporal.address,
          '--workflow-id',
          handle.workflowId,
          '--output',
          'json',
        ])
        await writeFile(file, stdout)
        process.stdout.write(`recorded ${path.relative(process.cwd(), file)}\n`)
      }
    })
    await connection.close()
    await client.connection.close()
  } finally {
    await db.destroy()
    await stack.stop()
    await rm(dataDir, { recursive: true, force: true })
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error)
    process.exit(1)
  },
)
