import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Client, Connection, type WorkflowHandle } from '@temporalio/client'
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker'
import { sql } from 'kysely'
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
import { appealViewQuery, type OpenAppealInput } from '../../workflows/kinds/appeal/messages'
import {
  caseWorkflowId,
  completeTaskUpdate,
  grievanceViewQuery,
  type Actor,
} from '../../workflows/messages'
import {
  acceptReferralUpdate,
  declineReferralUpdate,
  referralViewQuery,
  reportReferralUpdate,
  type OpenReferralInput,
} from '../../workflows/kinds/referral/messages'
import { testCipher, testCodec, testCommandKeys } from '../helpers/codec'
import { actor, grievanceInput, seedForCases, userId } from '../helpers/fixtures'

/**
 * `node --import tsx test/histories/record-referral-appeal.ts`: records a typical referral
 * (declined by the first partner, accepted, delivered, followed up) and a typical appeal (an
 * independent review, partly overturned, implemented) into test/histories, for the replay test.
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
    await sql`update sla_policies set targets = jsonb_set(targets, '{appealWindow}', '3600')`.execute(
      db,
    )
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
    const poll = async <T>(probe: () => Promise<T | undefined>): Promise<T> => {
      for (;;) {
        const value = await probe().catch(() => undefined)
        if (value !== undefined) return value
        await new Promise((r) => setTimeout(r, 100))
      }
    }
    await worker.runUntil(async () => {
      const histories: { name: string; handle: WorkflowHandle }[] = []
      const agent = await actor(db, 'agent.kati.1', 'case_worker')
      const cercle = await actor(db, 'superviseur.cercle.kati', 'supervisor')
      const region = await actor(db, 'superviseur.region.koulikoro', 'supervisor', true)

      // 1. A referral: declined by the Red Cross, accepted by WFP, delivered, followed up.
      const referral: OpenReferralInput = {
        caseId: 'RF-REC-1',
        reference: 'RF-REC-1',
        sourceCaseId: null,
        serviceCode: 'cash_transfer',
        areaCode: 'ML-2-KATI-KATI',
        householdId: null,
        sensitive: false,
        priority: 'normal',
        openedBy: agent,
        consent: {
          given: true,
          method: 'verbal',
          recordedBy: agent.userId,
          recordedAt: new Date().toISOString(),
        },
      }
      const r = await client.workflow.start('referralWorkflow', {
        workflowId: caseWorkflowId(referral.caseId),
        taskQueue: 'record',
        args: [referral],
      })
      const partner = async (code: string) => ({
        userId: await userId(db, `partenaire.${code}`),
        role: 'partner' as const,
        partnerCode: code,
      })
      await poll(async () =>
        (await r.query(referralViewQuery)).stage === 'awaiting_partner' ? true : undefined,
      )
      await r.executeUpdate(declineReferralUpdate, {
        args: [{ actor: await partner('croix-rouge'), reason: 'no_capacity' }],
      })
      await r.executeUpdate(acceptReferralUpdate, { args: [{ actor: await partner('pam') }] })
      await r.executeUpdate(reportReferralUpdate, {
        args: [{ actor: await partner('pam'), outcome: 'delivered', note: 'Versé.' }],
      })
      const followUp = await poll(async () =>
        (await r.query(referralViewQuery)).tasks.find(
          (t) => t.kind === 'follow_up' && t.status !== 'completed',
        ),
      )
      await r.executeUpdate(completeTaskUpdate, {
        args: [
          {
            taskId: followUp.id,
            actor: { userId: followUp.assigneeId, role: 'case_worker' },
            data: { outcome: 'needs_met' },
          },
        ],
      })
      await r.result()
      histories.push({ name: 'referral-declined-accepted-delivered', handle: r })

      // 2. An appeal of a grievance outcome, reviewed by the region, partly overturned.
      const g = grievanceInput({ caseId: 'G-REC-appealed', category: 'exclusion_error' })
      const gh = await client.workflow.start('grievanceWorkflow', {
        workflowId: caseWorkflowId(g.caseId),
        taskQueue: 'record',
        args: [g],
      })
      const grievanceTask = (kind: string) =>
        poll(async () =>
          (await gh.query(grievanceViewQuery)).tasks.find(
            (t) => t.kind === kind && (t.status === 'open' || t.status === 'claimed'),
          ),
        )
      const completeOn = async (h: WorkflowHandle, taskId: string, by: Actor, data: unknown) =>
        h.executeUpdate(completeTaskUpdate, { args: [{ taskId, actor: by, data }] })
      const triage = await grievanceTask('triage')
      await completeOn(
        gh,
        triage.id,
        { userId: triage.assigneeId, role: 'case_worker' },
        {
          category: 'exclusion_error',
          sensitive: false,
          priority: 'normal',
        },
      )
      const investigation = await grievanceTask('investigation')
      await completeOn(
        gh,
        investigation.id,
        { userId: investigation.assigneeId, role: 'case_worker' },
        {
          findings: 'Ménage exclu à tort lors du ciblage.',
          proposedResolution: 'rejected',
          changesEligibilityOrPayment: true,
        },
      )
      await completeOn(gh, (await grievanceTask('approval')).id, cercle, { decision: 'approve' })
      await poll(async () =>
        (await gh.query(grievanceViewQuery)).stage === 'appeal_window' ? true : undefined,
      )
      await poll(
        async () =>
          (
            await db
              .selectFrom('caseEvents')
              .select('id')
              .where('caseId', '=', g.caseId)
              .where('type', '=', 'case.resolved')
              .executeTakeFirst()
          )?.id,
      )
      const appeal: OpenAppealInput = {
        caseId: 'AP-REC-1',
        reference: 'AP-REC-1',
        contestedCaseId: g.caseId,
        areaCode: g.areaCode,
        sensitive: false,
        priority: 'normal',
        openedBy: agent,
        mode: 'single',
        grounds: 'Le ménage conteste le rejet.',
      }
      const a = await client.workflow.start('appealWorkflow', {
        workflowId: caseWorkflowId(appeal.caseId),
        taskQueue: 'record',
        args: [appeal],
      })
      const appealTask = (kind: string) =>
        poll(async () =>
          (await a.query(appealViewQuery)).tasks.find(
            (t) => t.kind === kind && (t.status === 'open' || t.status === 'claimed'),
          ),
        )
      await completeOn(a, (await appealTask('appeal_review')).id, region, {
        decision: 'partly',
        reasons: 'Les données du ciblage étaient incomplètes.',
      })
      await completeOn(a, (await appealTask('implementation')).id, agent, {
        action: 'payment_corrected',
      })
      await a.result()
      // Named after the French `recours`: the replay test's negative control takes the first file
      // in name order, which must stay a grievance.
      histories.push({ name: 'recours-appeal-partly-implemented', handle: a })

      const binary = await resolveTemporalBinary({
        cliPath: config.temporal.cliPath,
        searchPath: config.temporal.searchPath,
        cacheDir: config.cacheDir,
        log,
      })
      if (binary.kind !== 'binary') throw new Error('recording needs the temporal CLI')
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
