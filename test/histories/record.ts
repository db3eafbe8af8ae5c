import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { promisify } from 'node:util'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
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
import {
  caseWorkflowId,
  closeCaseUpdate,
  completeTaskUpdate,
  extendSlaUpdate,
  addNoteUpdate,
  grievanceViewQuery,
  pauseSlaUpdate,
  resumeSlaUpdate,
  withdrawUpdate,
  type Actor,
} from '../../workflows/messages'
import { reopenCase } from '../../api/commands/reopen'
import { testCipher, testCodec, testCommandKeys } from '../helpers/codec'
import { actor, grievanceInput, seedForCases } from '../helpers/fixtures'

/**
 * `npm run histories:record`: runs typical grievances on a throw-away stack and writes their
 * histories to test/histories/*.json (payloads encrypted with the public test key). The replay
 * test replays them against the current workflow code in CI, so that a change that would break
 * open cases is caught before it is deployed. Record again only when a change is guarded with
 * `patched()` or deliberately versioned; keep the old files.
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
    await seedForCases(db, [
      { category: 'wrong_amount', targets: { resolve: 3, escalationRepeat: 2 }, atRiskRatio: 0.5 },
      // The triage stage is overdue after 2 s: reminded, then escalated to the cercle.
      { category: 'data_correction', targets: { triage: 2 }, atRiskRatio: 0.5 },
    ])
    const dataConverter = encryptedDataConverter(testCodec)
    const connection = await NativeConnection.connect({ address: stack.temporal.address })
    const worker = await Worker.create({
      connection,
      taskQueue: 'record',
      ...workerBundleOptions(testCommandKeys),
      dataConverter,
      activities: createActivities({
        db,
        mail: { transport: nodemailer.createTransport(stack.mail.smtpUrl!), from: 'rsu@localhost' },
        cipher: testCipher,
      }),
    })
    const client = new Client({
      connection: await Connection.connect({ address: stack.temporal.address }),
      dataConverter,
      interceptors: commandInterceptors(testCommandKeys),
    })
    await worker.runUntil(async () => {
      const start = async (name: string, overrides: Parameters<typeof grievanceInput>[0]) => {
        const input = grievanceInput({ caseId: `G-REC-${name}`, ...overrides })
        const handle = await client.workflow.start('grievanceWorkflow', {
          workflowId: caseWorkflowId(input.caseId),
          taskQueue: 'record',
          args: [input],
        })
        return { handle, name }
      }
      const task = async (handle: WorkflowHandle, kind: string) => {
        for (;;) {
          const view = await handle.query(grievanceViewQuery).catch(() => undefined)
          const found = view?.tasks.find(
            (t) => t.kind === kind && (t.status === 'open' || t.status === 'claimed'),
          )
          if (found) return found
          await new Promise((r) => setTimeout(r, 100))
        }
      }
      const complete = async (handle: WorkflowHandle, kind: string, by: Actor, data: unknown) => {
        const t = await task(handle, kind)
        await handle.executeUpdate(completeTaskUpdate, {
          args: [{ taskId: t.id, actor: { ...by, userId: by.userId ?? t.assigneeId }, data }],
        })
      }
      const worker1: Actor = { userId: null, role: 'case_worker' }
      const supervisor = await actor(db, 'superviseur.cercle.kati', 'supervisor')
      const regional = await actor(db, 'superviseur.region.koulikoro', 'supervisor', true)
      const focal = await actor(db, 'point-focal.koulikoro', 'case_worker', true)
      const histories: { name: string; handle: WorkflowHandle; runId?: string }[] = []

      // 1. Approved: the whole lifecycle to closure after the appeal window.
      const a = await start('approved', { contact: { email: 'a@exemple.ml', locale: 'fr' } })
      await complete(a.handle, 'triage', worker1, {
        category: 'payment_not_received',
        sensitive: false,
        priority: 'high',
      })
      await complete(a.handle, 'investigation', worker1, {
        findings: 'Virement rejeté par la banque, renvoyé.',
        proposedResolution: 'upheld',
        changesEligibilityOrPayment: true,
      })
      await a.handle.executeUpdate(addNoteUpdate, {
        args: [{ actor: supervisor, text: 'Virement relancé auprès de la banque.' }],
      })
      await complete(a.handle, 'approval', supervisor, { decision: 'approve' })
      await a.handle.result()
      histories.push(a)

      // 2. Sensitive, sent back by the approver, then withdrawn by the complainant.
      const b = await start('sensitive-sent-back-withdrawn', { category: 'sea_gbv' })
      await complete(b.handle, 'triage', focal, {
        category: 'sea_gbv',
        sensitive: true,
        priority: 'urgent',
      })
      await complete(b.handle, 'investigation', focal, {
        findings: 'Témoignage recueilli et orienté.',
        proposedResolution: 'upheld',
        changesEligibilityOrPayment: false,
      })
      await complete(b.handle, 'approval', regional, { decision: 'reject', reason: 'Compléter.' })
      await task(b.handle, 'investigation')
      await b.handle.executeUpdate(withdrawUpdate, {
        args: [{ actor: { userId: null, role: 'public' }, reason: 'withdrawn' }],
      })
      await b.handle.result()
      histories.push(b)

      // 3. Escalated twice, paused, resumed, extended, closed by a supervisor.
      const c = await start('escalated-paused-extended', { category: 'wrong_amount' })
      for (;;) {
        const view = await c.handle.query(grievanceViewQuery).catch(() => undefined)
        if ((view?.escalationLevel ?? 0) >= 2) break
        await new Promise((r) => setTimeout(r, 200))
      }
      await c.handle.executeUpdate(pauseSlaUpdate, {
        args: [{ reason: 'access_impossible', actor: supervisor }],
      })
      await c.handle.executeUpdate(resumeSlaUpdate, { args: [{ actor: supervisor }] })
      await c.handle.executeUpdate(extendSlaUpdate, {
        args: [{ byMs: 60_000, reason: 'Zone inaccessible', actor: supervisor }],
      })
      await c.handle.executeUpdate(closeCaseUpdate, {
        args: [{ reason: 'resolved', actor: supervisor }],
      })
      await c.handle.result()
      histories.push(c)

      // 4. Closed, then reopened by a supervisor and closed again (the reopened run).
      const d = await start('reopened', {})
      await complete(d.handle, 'triage', worker1, {
        category: 'information_request',
        sensitive: false,
        priority: 'low',
      })
      await complete(d.handle, 'investigation', worker1, {
        findings: 'Information donnée sur le calendrier.',
        proposedResolution: 'information_given',
        changesEligibilityOrPayment: false,
      })
      await d.handle.result()
      await reopenCase(client, {
        caseId: 'G-REC-reopened',
        taskQueue: 'record',
        actor: supervisor,
        reason: 'Nouvel élément apporté.',
      })
      const reopened = client.workflow.getHandle(d.handle.workflowId)
      await complete(reopened, 'investigation', worker1, {
        findings: 'Le nouvel élément ne change pas la réponse.',
        proposedResolution: 'information_given',
        changesEligibilityOrPayment: false,
      })
      await reopened.result()
      histories.push({ name: 'reopened', handle: reopened })

      // 5. A stage overdue: the triage task reminded, then escalated; triaged late, withdrawn.
      const e = await start('stage-escalated', { category: 'data_correction' })
      for (;;) {
        const view = await e.handle.query(grievanceViewQuery).catch(() => undefined)
        if (view?.tasks.some((t) => t.kind === 'escalation')) break
        await new Promise((r) => setTimeout(r, 200))
      }
      await complete(e.handle, 'triage', worker1, {
        category: 'data_correction',
        sensitive: false,
        priority: 'normal',
      })
      await e.handle.executeUpdate(withdrawUpdate, {
        args: [{ actor: supervisor, reason: 'withdrawn' }],
      })
      await e.handle.result()
      histories.push(e)

      // 6. Continued as new under a low history limit: the first run and the last.
      await db
        .insertInto('appSettings')
        .values({ key: 'workflow_history_limit', value: 12 })
        .execute()
      const f = await start('continued', {})
      await complete(f.handle, 'triage', worker1, {
        category: 'information_request',
        sensitive: false,
        priority: 'low',
      })
      await f.handle.executeUpdate(addNoteUpdate, {
        args: [{ actor: supervisor, text: 'Rappeler le plaignant.' }],
      })
      await complete(f.handle, 'investigation', worker1, {
        findings: 'Information donnée sur les dates de paiement.',
        proposedResolution: 'information_given',
        changesEligibilityOrPayment: false,
      })
      await f.handle.result()
      await db.deleteFrom('appSettings').where('key', '=', 'workflow_history_limit').execute()
      histories.push({
        name: 'continued-first-run',
        handle: f.handle,
        runId: f.handle.firstExecutionRunId,
      })
      histories.push({
        name: 'continued-last-run',
        handle: client.workflow.getHandle(f.handle.workflowId),
      })

      // The Temporal CLI writes histories in the JSON form the replayer reads.
      const binary = await resolveTemporalBinary({
        cliPath: config.temporal.cliPath,
        searchPath: config.temporal.searchPath,
        cacheDir: config.cacheDir,
        log,
      })
      if (binary.kind !== 'binary') throw new Error('recording needs the temporal CLI')
      for (const { name, handle, runId } of histories) {
        // Histories of the case kernel; those recorded before it keep their names.
        const file = path.join(
          here,
          `${process.env.HISTORY_PREFIX ?? 'kernel-'}grievance-${name}.json`,
        )
        const { stdout } = await run(binary.path, [
          'workflow',
          'show',
          '--address',
          stack.temporal.address,
          '--workflow-id',
          handle.workflowId,
          ...(runId ? ['--run-id', runId] : []),
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
